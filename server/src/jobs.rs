//! Background jobs, run by one node at a time (the holder of the jobs' lease; every node when it runs
//! alone), each run counted in `job_runs`: periodic clean-up of ended sessions, old sign-in failures, idempotency keys past
//! a day, chat files never sent or whose message was deleted, and events past retention (by count per topic and by age); and a fast loop that purges
//! expired notifications (telling their owners' tabs) and publishes the admin's live figures when
//! they change.

use crate::config::Config;
use std::time::Duration;
use studyhall::accounts::{sessions, throttle};
use studyhall::chat::service as chat;
use studyhall::events::DurableEvent;
use studyhall::learning::analytics;
use studyhall::learning::SystemFigures;
use studyhall::notifications::service as notifications;
use studyhall::protocol::{KpiModule, Topic};
use studyhall::server::cluster::job_runs;
use studyhall::server::realtime::{log, Change};
use studyhall::server::web::Services;
use studyhall::server::{idempotency, now_ms};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

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

/// How often expired notifications are purged and the live figures refreshed.
const LIVE_TICK: Duration = Duration::from_secs(2);

/// How often the SQLite write-ahead log is checkpointed (see `Db::checkpoint`).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Starts the jobs on `tasks`, which the shutdown waits for before it closes the pool: each loop
/// ends at its next tick once `shutdown` is set, and a retention run stops between two batches.
pub fn spawn(
    services: Services,
    settings: JobSettings,
    mut shutdown: watch::Receiver<bool>,
    tasks: &TaskTracker,
) {
    let live = (services.clone(), shutdown.clone());
    tasks.spawn(async move {
        let (services, mut shutdown) = live;
        let mut tick = tokio::time::interval(LIVE_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            // One node runs the jobs (the lease holder); a new holder starts from no figures.
            if !services.cluster().runs_jobs() {
                last = None;
                continue;
            }
            live_once(&services, &mut last).await;
            record_run(&services, "live").await;
        }
    });
    let checkpoints = (services.clone(), shutdown.clone());
    tasks.spawn(async move {
        let (services, mut shutdown) = checkpoints;
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            if let Err(e) = services.accounts.db().checkpoint().await {
                tracing::warn!(error = ?e, "WAL checkpoint failed; trying again");
            }
        }
    });
    tasks.spawn(async move {
        let mut tick = tokio::time::interval(settings.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            if !services.cluster().runs_jobs() {
                continue;
            }
            let stopping = shutdown.clone();
            run_once(&services, &settings, &move || !*stopping.borrow()).await;
            record_run(&services, "clean-up").await;
        }
    });
}

/// One pass of every clean-up; failures are logged and retried next time. Retention stops between
/// batches once `keep_going` says no.
pub async fn run_once(
    services: &Services,
    settings: &JobSettings,
    keep_going: &(dyn Fn() -> bool + Send + Sync),
) {
    let db = services.accounts.db();
    let now = now_ms();
    match sessions::purge_ended(db, now, KEEP_ENDED_SESSIONS_MS).await {
        Ok(n) if n > 0 => tracing::info!(purged = n, "ended sessions purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(cause = ?e, "session clean-up failed; will retry"),
    }
    if throttle::purge_before(db, now - settings.throttle_window_ms)
        .await
        .is_err()
    {
        tracing::warn!("sign-in failure clean-up failed; will retry");
    }
    // Idempotency keys are kept a day (idempotency::KEEP_MS): long enough for any retry.
    match idempotency::purge(db, now).await {
        Ok(n) if n > 0 => tracing::debug!(purged = n, "old idempotency keys purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(cause = ?e, "idempotency key clean-up failed; will retry"),
    }
    match chat::purge_attachments(db, services.chat().files.as_ref(), now).await {
        Ok(n) if n > 0 => tracing::info!(purged = n, "unsent and deleted chat files purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(cause = ?e, "chat file clean-up failed; will retry"),
    }
    if let Err(e) = job_runs::purge(db, now).await {
        tracing::warn!(cause = ?e, "job run clean-up failed; will retry");
    }
    match log::apply_retention_while(
        db,
        settings.events_per_topic,
        settings.event_max_age_ms,
        now,
        keep_going,
    )
    .await
    {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "events past retention deleted"),
        Ok(_) => {}
        Err(e) => tracing::warn!(cause = ?e, "event retention failed; will retry"),
    }
}

/// Counts a run of `job` by this node (see `job_runs`).
async fn record_run(services: &Services, job: &str) {
    let node = services.cluster().node();
    if let Err(e) = job_runs::record(services.accounts.db(), job, node, now_ms()).await {
        tracing::warn!(cause = ?e, job, "could not record a job run");
    }
}

/// Purges expired notifications and publishes the system figures if they changed since `last`.
pub async fn live_once(services: &Services, last: &mut Option<SystemFigures>) {
    let db = services.accounts.db();
    let now = now_ms();
    match notifications::purge_expired(db, &services.hub, now).await {
        Ok(n) if n > 0 => tracing::debug!(purged = n, "expired notifications purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(cause = ?e, "expired notification purge failed; will retry"),
    }
    let online = services.hub.online_users() as i64;
    let figures = match analytics::system_figures(db, online, now).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(cause = ?e, "system figures failed; will retry");
            return;
        }
    };
    let unchanged = last.as_ref().is_some_and(|l| {
        SystemFigures {
            computed_at: figures.computed_at,
            ..l.clone()
        } == figures
    });
    if unchanged {
        return;
    }
    let event = DurableEvent::FiguresUpdated(figures.clone());
    let published = async {
        let mut change = Change::begin_at(db, &services.hub, now).await?;
        change.emit(Topic::Kpi(KpiModule::System), &event).await?;
        change.commit().await
    };
    match published.await {
        Ok(_) => *last = Some(figures),
        Err(e) => tracing::warn!(cause = ?e, "could not publish system figures; will retry"),
    }
}
