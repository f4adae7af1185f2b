//! Studyhall's server binary: read the configuration, start logging, run until told to stop.

use std::process::ExitCode;
use studyhall_server::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("studyhall: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    studyhall_server::telemetry::init(&config);
    tracing::debug!(?config, "configuration");
    match studyhall_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
