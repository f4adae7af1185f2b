//! Studyhall's server binary: read the configuration, start logging, run until told to stop.
//! `studyhall-server precompress` instead writes the brotli twins of the built site's assets and exits.

use std::process::ExitCode;
use studyhall_server::config::Config;

// Measured in docs/BENCHMARKS.md: less memory per idle WebSocket than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    if std::env::args().nth(1).as_deref() == Some("precompress") {
        let written = studyhall_server::assets::precompress(&config.site_root);
        println!(
            "precompressed {written} file(s) in {}",
            config.site_root.join("pkg").display()
        );
        return ExitCode::SUCCESS;
    }
    tracing::debug!(?config, "configuration");
    match studyhall_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
