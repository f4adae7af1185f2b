//! Sign-in settings: token and session lifetimes, and the sign-in throttle.

use super::source::{ConfigError, Source};
use std::time::Duration;
use studyhall::accounts::service::AuthSettings;
use studyhall::accounts::throttle::ThrottleSettings;

/// Session, token and sign-in throttle settings.
pub(super) fn settings<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
) -> Result<AuthSettings, ConfigError> {
    let defaults = AuthSettings::default();
    let ms = |d: Duration| d.as_millis() as i64;
    Ok(AuthSettings {
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
    })
}
