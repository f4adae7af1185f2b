//! Background jobs: periodic clean-up of ended sessions and old sign-in failures.

use std::time::Duration;
use studyhall::server::web::Services;
use studyhall::server::{now_ms, sessions, throttle};
use tokio::sync::watch;

const CLEANUP_EVERY: Duration = Duration::from_secs(10 * 60);
/// Ended sessions stay listed for a week, for an admin looking into an incident.
const KEEP_ENDED_SESSIONS_MS: i64 = 7 * 24 * 3600 * 1000;

pub fn spawn(services: Services, throttle_window_ms: i64, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CLEANUP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            let db = services.accounts.db();
            let now = now_ms();
            match sessions::purge_ended(db, now, KEEP_ENDED_SESSIONS_MS).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "ended sessions purged"),
                Ok(_) => {}
                Err(_) => tracing::warn!("session clean-up failed; will retry"),
            }
            if let Err(_e) = throttle::purge_before(db, now - throttle_window_ms).await {
                tracing::warn!("sign-in failure clean-up failed; will retry");
            }
        }
    });
}
