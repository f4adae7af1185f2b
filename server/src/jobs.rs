//! Background jobs: periodic clean-up of ended sessions, old sign-in failures, and events past
//! retention (by count per topic and by age).

use crate::config::Config;
use std::time::Duration;
use studyhall::server::realtime::log;
use studyhall::server::web::Services;
use studyhall::server::{now_ms, sessions, throttle};
use tokio::sync::watch;

/// Ended sessions stay listed for a week, for an admin looking into an incident.
const KEEP_ENDED_SESSIONS_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    pub every: Duration,
    pub throttle_window_ms: i64,
    pub events_per_topic: i64,
    pub event_max_age_ms: i64,
}

impl From<&Config> for JobSettings {
    fn from(c: &Config) -> Self {
        Self {
            every: c.jobs_interval,
            throttle_window_ms: c.auth.throttle.window_ms,
            events_per_topic: c.retention_events_per_topic,
            event_max_age_ms: c.retention_max_age.as_millis() as i64,
        }
    }
}

pub fn spawn(services: Services, settings: JobSettings, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            run_once(&services, &settings).await;
        }
    });
}

/// One pass of every clean-up; failures are logged and retried next time.
pub async fn run_once(services: &Services, settings: &JobSettings) {
    let db = services.accounts.db();
    let now = now_ms();
    match sessions::purge_ended(db, now, KEEP_ENDED_SESSIONS_MS).await {
        Ok(n) if n > 0 => tracing::info!(purged = n, "ended sessions purged"),
        Ok(_) => {}
        Err(_) => tracing::warn!("session clean-up failed; will retry"),
    }
    if throttle::purge_before(db, now - settings.throttle_window_ms)
        .await
        .is_err()
    {
        tracing::warn!("sign-in failure clean-up failed; will retry");
    }
    match log::apply_retention(
        db,
        settings.events_per_topic,
        settings.event_max_age_ms,
        now,
    )
    .await
    {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "events past retention deleted"),
        Ok(_) => {}
        Err(_) => tracing::warn!("event retention failed; will retry"),
    }
}
