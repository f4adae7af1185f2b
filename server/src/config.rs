//! Process configuration: defaults that make a first run just work, overridden by the environment
//! (and an optional `.env`). Secrets are redacted from `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use studyhall::accounts::service::AuthSettings;
use studyhall::accounts::throttle::ThrottleSettings;
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

/// The token-signing secret. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
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
            .finish()
    }
}

/// Hides the password in a database URL (`postgres://user:pw@host/db`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => {
                    format!("{}{}:<redacted>{}", &url[..scheme + 3], user, &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("{0}")]
    Production(String),
    #[error("could not read or create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.into(),
    }
}

/// Parses `90`, `90s`, `15m`, `24h` or `7d`.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// Reads configuration through a lookup function, so tests can pass a map instead of the process env.
pub struct Source<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Source<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| invalid(name, format!("cannot parse {v:?}"))),
        }
    }

    fn duration(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_duration(&v).filter(|d| !d.is_zero()).ok_or_else(|| {
                invalid(
                    name,
                    format!("{v:?} is not a duration like 90s, 15m, 24h or 7d"),
                )
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(invalid(name, format!("{v:?} is not true or false"))),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_source(&Source(|name| std::env::var(name).ok()))
    }

    pub fn from_source<F: Fn(&str) -> Option<String>>(
        src: &Source<F>,
    ) -> Result<Config, ConfigError> {
        let environment = match src.get("STUDYHALL_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    "STUDYHALL_ENV",
                    format!("{other:?} is not development or production"),
                ))
            }
        };
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
        let secret =
            match src.get("STUDYHALL_SECRET") {
                Some(s) if s.len() >= 32 => Secret::new(s.into_bytes()),
                Some(_) => {
                    return Err(invalid(
                        "STUDYHALL_SECRET",
                        "must be at least 32 characters",
                    ))
                }
                None if production => return Err(ConfigError::Production(
                    "STUDYHALL_SECRET must be set in production (at least 32 random characters)"
                        .into(),
                )),
                None => load_or_create_dev_secret(&data_dir)?,
            };
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
        let log_format = match src.get("STUDYHALL_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "STUDYHALL_LOG_FORMAT",
                    format!("{other:?} is not pretty or json"),
                ))
            }
        };
        let defaults = AuthSettings::default();
        let ms = |d: Duration| d.as_millis() as i64;
        let auth = AuthSettings {
            token_ttl_ms: ms(src.duration(
                "STUDYHALL_TOKEN_TTL",
                Duration::from_millis(defaults.token_ttl_ms as u64),
            )?),
            idle_ttl_ms: ms(src.duration(
                "STUDYHALL_SESSION_IDLE_TTL",
                Duration::from_millis(defaults.idle_ttl_ms as u64),
            )?),
            max_ttl_ms: ms(src.duration(
                "STUDYHALL_SESSION_MAX_TTL",
                Duration::from_millis(defaults.max_ttl_ms as u64),
            )?),
            api_token_ttl_ms: ms(src.duration(
                "STUDYHALL_API_TOKEN_TTL",
                Duration::from_millis(defaults.api_token_ttl_ms as u64),
            )?),
            touch_interval_ms: ms(src.duration(
                "STUDYHALL_SESSION_TOUCH_INTERVAL",
                Duration::from_millis(defaults.touch_interval_ms as u64),
            )?),
            throttle: ThrottleSettings {
                max_failures_per_account: src.parse(
                    "STUDYHALL_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                    defaults.throttle.max_failures_per_account,
                )?,
                max_failures_per_ip: src.parse(
                    "STUDYHALL_LOGIN_MAX_FAILURES_PER_IP",
                    defaults.throttle.max_failures_per_ip,
                )?,
                window_ms: ms(src.duration(
                    "STUDYHALL_LOGIN_WINDOW",
                    Duration::from_millis(defaults.throttle.window_ms as u64),
                )?),
            },
        };
        let ws_defaults = WsSettings::default();
        let hub_defaults = HubSettings::default();
        let ws = WsSettings {
            max_frame_bytes: src
                .parse("STUDYHALL_WS_MAX_FRAME_BYTES", ws_defaults.max_frame_bytes)?,
            max_subscriptions: src.parse(
                "STUDYHALL_WS_MAX_SUBSCRIPTIONS",
                ws_defaults.max_subscriptions,
            )?,
            publishes_per_minute: src.parse(
                "STUDYHALL_WS_PUBLISHES_PER_MINUTE",
                ws_defaults.publishes_per_minute,
            )?,
            heartbeat: src.duration("STUDYHALL_WS_HEARTBEAT", ws_defaults.heartbeat)?,
            idle_timeout: src.duration("STUDYHALL_WS_IDLE_TIMEOUT", ws_defaults.idle_timeout)?,
            session_check: src.duration("STUDYHALL_WS_SESSION_CHECK", ws_defaults.session_check)?,
            ..ws_defaults
        };
        let at_least = |name: &'static str, value: usize, min: usize| {
            if value < min {
                Err(invalid(name, format!("must be at least {min}")))
            } else {
                Ok(())
            }
        };
        at_least("STUDYHALL_WS_MAX_FRAME_BYTES", ws.max_frame_bytes, 1024)?;
        at_least("STUDYHALL_WS_MAX_SUBSCRIPTIONS", ws.max_subscriptions, 1)?;
        let hub = HubSettings {
            queue_capacity: src.parse("STUDYHALL_WS_QUEUE", hub_defaults.queue_capacity)?,
            max_connections_per_user: src.parse(
                "STUDYHALL_WS_MAX_CONNECTIONS_PER_USER",
                hub_defaults.max_connections_per_user,
            )?,
        };
        at_least("STUDYHALL_WS_QUEUE", hub.queue_capacity, 1)?;
        at_least(
            "STUDYHALL_WS_MAX_CONNECTIONS_PER_USER",
            hub.max_connections_per_user,
            1,
        )?;
        let retention_events_per_topic: i64 =
            src.parse("STUDYHALL_EVENT_RETENTION_COUNT", 10_000)?;
        if retention_events_per_topic < 1 {
            return Err(invalid(
                "STUDYHALL_EVENT_RETENTION_COUNT",
                "must be at least 1",
            ));
        }
        // The welcome announces these two; the hub and the retention job are what enforce them.
        let ws = WsSettings {
            max_connections_per_user: hub.max_connections_per_user,
            retained_events_per_topic: retention_events_per_topic,
            ..ws
        };
        Ok(Config {
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

/// In development the secret is generated once and kept in the data directory (mode 0600).
fn load_or_create_dev_secret(data_dir: &Path) -> Result<Secret, ConfigError> {
    use base64::Engine;
    use rand::RngCore;
    let path = data_dir.join("secret.key");
    let io = |source| ConfigError::Io {
        path: path.clone(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing.into_bytes()));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|source| ConfigError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    std::fs::write(&path, &secret).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(Secret::new(secret.into_bytes()))
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

/// Realtime limits and timings (all configurable, see the README).
#[derive(Debug, Clone, Copy)]
pub struct WsSettings {
    pub max_frame_bytes: usize,
    pub max_subscriptions: usize,
    pub publishes_per_minute: u32,
    pub heartbeat: Duration,
    pub idle_timeout: Duration,
    pub session_check: Duration,
    /// Largest ephemeral payload a client may publish.
    pub max_ephemeral_bytes: usize,
    /// How long one write may take before the peer counts as a slow consumer.
    pub write_timeout: Duration,
    /// Announced in `welcome` only: the hub enforces the first, the retention job the second.
    pub max_connections_per_user: usize,
    pub retained_events_per_topic: i64,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            max_subscriptions: 100,
            publishes_per_minute: 60,
            heartbeat: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            session_check: Duration::from_secs(30),
            max_ephemeral_bytes: 2048,
            write_timeout: Duration::from_secs(10),
            max_connections_per_user: 20,
            retained_events_per_topic: 10_000,
        }
    }
}
