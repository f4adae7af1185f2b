//! Process configuration: defaults that make a first run just work, overridden by the environment
//! (and an optional `.env`). Secrets are redacted from `Debug`. This file reads the process-wide
//! settings; each group of the others is read in its own file.

mod auth;
mod cluster;
mod realtime;
mod secret;
mod source;

pub use realtime::WsSettings;
pub use secret::{redact_url, Secret};
pub use source::{parse_duration, ConfigError, Source};

use source::invalid;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use studyhall::accounts::service::AuthSettings;
use studyhall::chat::service::ChatSettings;
use studyhall::server::cluster::ClusterSettings;
use studyhall::server::realtime::HubSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub db_max_connections: u32,
    /// Origins allowed to send state-changing requests. Empty: the listen address.
    pub site_origins: Vec<String>,
    pub secret: Secret,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub auth: AuthSettings,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub trust_proxy_headers: bool,
    pub demo_data: bool,
    /// Where the built site (pkg/, assets) is served from.
    pub site_root: PathBuf,
    pub ws: WsSettings,
    pub hub: HubSettings,
    /// Events kept per topic for resuming clients.
    pub retention_events_per_topic: i64,
    /// Events older than this are deleted.
    pub retention_max_age: Duration,
    /// How often the clean-up jobs run.
    pub jobs_interval: Duration,
    pub chat: ChatSettings,
    /// This node's id (generated unless `STUDYHALL_NODE_ID` names one).
    pub node_id: String,
    /// How this node joins the others through Redis; `None` runs it alone.
    pub cluster: Option<ClusterSettings>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .field("site_origins", &self.site_origins)
            .field("secret", &self.secret)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("auth", &self.auth)
            .field("request_timeout", &self.request_timeout)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("demo_data", &self.demo_data)
            .field("site_root", &self.site_root)
            .field("ws", &self.ws)
            .field("hub", &self.hub)
            .field(
                "retention_events_per_topic",
                &self.retention_events_per_topic,
            )
            .field("retention_max_age", &self.retention_max_age)
            .field("jobs_interval", &self.jobs_interval)
            .field("chat", &self.chat)
            .field("node_id", &self.node_id)
            .field(
                "cluster",
                &self.cluster.as_ref().map(|c| {
                    format!(
                        "redis {} prefix {:?}, node TTL {:?}, catch-up every {:?}",
                        redact_url(&c.redis_url),
                        c.prefix,
                        c.node_ttl,
                        c.catch_up_every
                    )
                }),
            )
            .finish()
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_source(&Source(|name| std::env::var(name).ok()))
    }

    pub fn from_source<F: Fn(&str) -> Option<String>>(
        src: &Source<F>,
    ) -> Result<Config, ConfigError> {
        let environment = environment(src)?;
        let production = environment == Environment::Production;
        let listen = match src
            .get("STUDYHALL_LISTEN")
            .or_else(|| src.get("LEPTOS_SITE_ADDR"))
        {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| invalid("STUDYHALL_LISTEN", format!("{v:?} is not host:port")))?,
        };
        let data_dir = PathBuf::from(
            src.get("STUDYHALL_DATA_DIR")
                .unwrap_or_else(|| "data".into()),
        );
        let database_url = src
            .get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("studyhall.db").display()));
        if studyhall::server::db::Backend::of_url(&database_url).is_none() {
            return Err(invalid("DATABASE_URL", "expected sqlite:… or postgres://…"));
        }
        let site_origins = site_origins(src)?;
        let secret = secret::read(src, production, &data_dir)?;
        if production && site_origins.is_empty() {
            return Err(ConfigError::Production(
                "STUDYHALL_SITE_ORIGINS must be set in production (e.g. https://studyhall.example.org)".into(),
            ));
        }
        let demo_requested = src.flag("STUDYHALL_DEMO_DATA", !production)?;
        if production && demo_requested {
            return Err(ConfigError::Production(
                "STUDYHALL_DEMO_DATA cannot be enabled in production".into(),
            ));
        }
        let log_format = log_format(src)?;
        let auth = auth::settings(src)?;
        let realtime::Settings {
            ws,
            hub,
            retention_events_per_topic,
        } = realtime::settings(src)?;
        let chat = ChatSettings {
            messages_per_minute: src.parse(
                "STUDYHALL_CHAT_MESSAGES_PER_MINUTE",
                ChatSettings::default().messages_per_minute,
            )?,
            attachment_max_bytes: src.parse(
                "STUDYHALL_ATTACHMENT_MAX_BYTES",
                ChatSettings::default().attachment_max_bytes,
            )?,
        };
        if chat.attachment_max_bytes < 1024 {
            return Err(invalid(
                "STUDYHALL_ATTACHMENT_MAX_BYTES",
                "must be at least 1024",
            ));
        }
        if chat.messages_per_minute < 1 {
            return Err(invalid(
                "STUDYHALL_CHAT_MESSAGES_PER_MINUTE",
                "must be at least 1",
            ));
        }
        let cluster = cluster::settings(src, &database_url)?;
        let node_id = cluster::node_id(src)?;
        Ok(Config {
            node_id,
            cluster,
            chat,
            ws,
            hub,
            retention_events_per_topic,
            retention_max_age: src.duration(
                "STUDYHALL_EVENT_RETENTION_AGE",
                Duration::from_secs(30 * 86400),
            )?,
            jobs_interval: src.duration("STUDYHALL_JOBS_INTERVAL", Duration::from_secs(600))?,
            environment,
            listen,
            data_dir,
            database_url,
            db_max_connections: src.parse("STUDYHALL_DB_MAX_CONNECTIONS", 10)?,
            site_origins,
            secret,
            log_filter: src
                .get("STUDYHALL_LOG")
                .or_else(|| src.get("RUST_LOG"))
                .unwrap_or_else(|| "info,tower_http=info,sqlx=warn".into()),
            log_format,
            auth,
            request_timeout: src.duration("STUDYHALL_REQUEST_TIMEOUT", Duration::from_secs(30))?,
            body_limit_bytes: src.parse("STUDYHALL_BODY_LIMIT_BYTES", 64 * 1024)?,
            trust_proxy_headers: src.flag("STUDYHALL_TRUST_PROXY_HEADERS", false)?,
            demo_data: demo_requested,
            site_root: PathBuf::from(
                src.get("STUDYHALL_SITE_ROOT")
                    .or_else(|| src.get("LEPTOS_SITE_ROOT"))
                    .unwrap_or_else(|| "target/site".into()),
            ),
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The origins requests may come from, given the address actually bound.
    pub fn effective_origins(&self, bound: SocketAddr) -> Vec<String> {
        if !self.site_origins.is_empty() {
            return self.site_origins.clone();
        }
        let port = bound.port();
        let mut origins = vec![
            format!("http://{bound}"),
            format!("http://localhost:{port}"),
        ];
        if bound.ip().is_unspecified() {
            origins.push(format!("http://127.0.0.1:{port}"));
        }
        origins
    }
}

fn environment<F: Fn(&str) -> Option<String>>(src: &Source<F>) -> Result<Environment, ConfigError> {
    Ok(match src.get("STUDYHALL_ENV").as_deref().map(str::trim) {
        None | Some("development") | Some("dev") => Environment::Development,
        Some("production") | Some("prod") => Environment::Production,
        Some(other) => {
            return Err(invalid(
                "STUDYHALL_ENV",
                format!("{other:?} is not development or production"),
            ))
        }
    })
}

fn site_origins<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
) -> Result<Vec<String>, ConfigError> {
    let site_origins: Vec<String> = src
        .get("STUDYHALL_SITE_ORIGINS")
        .map(|v| {
            v.split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for origin in &site_origins {
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(invalid(
                "STUDYHALL_SITE_ORIGINS",
                format!("{origin:?} must start with http:// or https://"),
            ));
        }
    }
    Ok(site_origins)
}

fn log_format<F: Fn(&str) -> Option<String>>(src: &Source<F>) -> Result<LogFormat, ConfigError> {
    Ok(
        match src.get("STUDYHALL_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "STUDYHALL_LOG_FORMAT",
                    format!("{other:?} is not pretty or json"),
                ))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_source(&Source(move |name| map.get(name).cloned()))
    }

    #[test]
    fn development_defaults_just_work_and_keep_their_secret() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let first = config(&[("STUDYHALL_DATA_DIR", data)]).unwrap();
        assert_eq!(first.environment, Environment::Development);
        assert!(first.demo_data);
        assert!(first.database_url.starts_with("sqlite://"));
        assert!(first.database_url.ends_with("studyhall.db"));
        let second = config(&[("STUDYHALL_DATA_DIR", data)]).unwrap();
        assert_eq!(
            first.secret.expose(),
            second.secret.expose(),
            "the dev secret is kept"
        );
    }

    #[test]
    fn production_refuses_to_start_without_a_secret_or_origins_and_never_seeds() {
        let err = config(&[
            ("STUDYHALL_ENV", "production"),
            ("STUDYHALL_SITE_ORIGINS", "https://a.example"),
        ]);
        assert!(matches!(err, Err(ConfigError::Production(m)) if m.contains("STUDYHALL_SECRET")));
        let secret = "s".repeat(40);
        let err = config(&[
            ("STUDYHALL_ENV", "production"),
            ("STUDYHALL_SECRET", &secret),
        ]);
        assert!(matches!(err, Err(ConfigError::Production(m)) if m.contains("ORIGINS")));
        let ok = config(&[
            ("STUDYHALL_ENV", "production"),
            ("STUDYHALL_SECRET", &secret),
            ("STUDYHALL_SITE_ORIGINS", "https://a.example/"),
        ])
        .unwrap();
        assert!(!ok.demo_data);
        assert_eq!(ok.site_origins, vec!["https://a.example"]);
        let seeded = config(&[
            ("STUDYHALL_ENV", "production"),
            ("STUDYHALL_SECRET", &secret),
            ("STUDYHALL_SITE_ORIGINS", "https://a.example"),
            ("STUDYHALL_DEMO_DATA", "true"),
        ]);
        assert!(seeded.is_err());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let secret = "super-secret-value-that-is-long-enough";
        let c = config(&[
            ("STUDYHALL_SECRET", secret),
            (
                "DATABASE_URL",
                "postgres://app:hunter2hunter2@db.internal/studyhall",
            ),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app:<redacted>@db.internal/studyhall"));
    }

    #[test]
    fn redis_turns_on_the_cluster_with_postgres_only() {
        let secret = "x".repeat(40);
        let alone = config(&[("STUDYHALL_SECRET", &secret)]).unwrap();
        assert!(alone.cluster.is_none());
        assert!(alone.node_id.starts_with("n-"), "{}", alone.node_id);
        let sqlite = config(&[
            ("STUDYHALL_SECRET", &secret),
            ("STUDYHALL_REDIS_URL", "redis://127.0.0.1:6379"),
        ])
        .unwrap_err();
        assert!(sqlite.to_string().contains("PostgreSQL"), "{sqlite}");
        let pg = config(&[
            ("STUDYHALL_SECRET", &secret),
            ("DATABASE_URL", "postgres://app@db/studyhall"),
            ("STUDYHALL_REDIS_URL", "redis://:pw-in-url@127.0.0.1:6379"),
            ("STUDYHALL_NODE_ID", "node-a"),
        ])
        .unwrap();
        let cluster = pg.cluster.as_ref().expect("clustered");
        assert_eq!(cluster.prefix, "studyhall");
        assert_eq!(cluster.node_ttl, Duration::from_secs(5));
        assert_eq!(pg.node_id, "node-a");
        assert!(!format!("{pg:?}").contains("pw-in-url"));
        let bad = config(&[
            ("STUDYHALL_SECRET", &secret),
            ("DATABASE_URL", "postgres://app@db/studyhall"),
            ("STUDYHALL_REDIS_URL", "http://127.0.0.1:6379"),
        ]);
        assert!(bad.is_err());
        assert!(config(&[("STUDYHALL_SECRET", &secret), ("STUDYHALL_NODE_ID", "a b")]).is_err());
    }

    #[test]
    fn bad_values_are_named() {
        let err = config(&[
            ("STUDYHALL_SECRET", "x".repeat(40).as_str()),
            ("STUDYHALL_TOKEN_TTL", "soon"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("STUDYHALL_TOKEN_TTL"), "{err}");
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1w"), None);
    }
}
