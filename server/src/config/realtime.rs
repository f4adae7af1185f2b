//! Realtime settings: each connection's limits and timings, the hub's queue and per-user cap, and how
//! many events a topic keeps for resuming clients.

use super::source::{invalid, ConfigError, Source};
use std::time::Duration;
use studyhall::server::realtime::HubSettings;

/// What [`settings`] reads.
pub(super) struct Settings {
    pub ws: WsSettings,
    pub hub: HubSettings,
    pub retention_events_per_topic: i64,
}

/// The connections' limits and timings, the hub's, and how many events each topic keeps.
pub(super) fn settings<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
) -> Result<Settings, ConfigError> {
    let ws_defaults = WsSettings::default();
    let hub_defaults = HubSettings::default();
    let ws = WsSettings {
        max_frame_bytes: src.parse("STUDYHALL_WS_MAX_FRAME_BYTES", ws_defaults.max_frame_bytes)?,
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
    let retention_events_per_topic: i64 = src.parse("STUDYHALL_EVENT_RETENTION_COUNT", 10_000)?;
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
    Ok(Settings {
        ws,
        hub,
        retention_events_per_topic,
    })
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
