//! The bus over Redis pub/sub: every node publishes to one channel and subscribes to it. Publishing
//! never waits for Redis: a message is delivered to this node's subscribers at once and queued for a
//! publisher task that sends queued messages in pipelined batches. While Redis is unreachable the
//! queue fills and then drops (durable events come back through the catch-up, presence through
//! snapshots); a subscriber task reconnects with back-off and counts its connections, so the node
//! can ask for snapshots and catch up as soon as it hears again.

use super::wire;
use crate::server::realtime::bus::{Bus, BusMessage, Handler, HandlerSlot};
use crate::server::realtime::presence::PresenceUpdate;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Messages waiting for the publisher; past this a message is dropped (and the drop logged).
const OUTBOX: usize = 100_000;
/// Most messages in one pipelined write.
const BATCH: usize = 512;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What the publisher sends, in order: messages to the channel and the commands that keep the
/// cluster-wide counters (see `limits.rs`).
pub(super) enum Out {
    Publish(Vec<u8>),
    Command(redis::Cmd),
}

/// How the bus is doing, for `/healthz` and the tests.
#[derive(Default)]
pub struct BusStatus {
    /// Since when the subscriber has been connected (`None` while it is not).
    subscribed_since: std::sync::Mutex<Option<std::time::Instant>>,
}

impl BusStatus {
    /// Whether the subscriber is connected to Redis now.
    pub fn subscribed(&self) -> bool {
        self.subscribed_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// How long the subscriber has been connected without a break (zero while it is not).
    pub fn subscribed_for(&self) -> Duration {
        self.subscribed_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(Duration::ZERO, |since| since.elapsed())
    }

    fn set_subscribed(&self, on: bool) {
        *self
            .subscribed_since
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = on.then(std::time::Instant::now);
    }
}

struct Inner {
    node: String,
    channel: String,
    handler: HandlerSlot,
    status: BusStatus,
    outbox: mpsc::Sender<Out>,
    /// The outbox was full at the last send (logged once until a send succeeds again).
    outbox_full: AtomicBool,
    /// How many times the subscriber has connected (0 until the first time).
    connects: watch::Sender<u64>,
    /// Per-user connection counts: `{prefix}:conns:{user}`, one field per node.
    conns_prefix: String,
}

#[derive(Clone)]
pub struct RedisBus {
    inner: Arc<Inner>,
}

impl RedisBus {
    /// Starts the publisher and subscriber tasks (on the current tokio runtime); they end when
    /// `stop` is set. Fails only for a URL that is not a Redis URL: an unreachable Redis is retried.
    pub fn start(
        client: Client,
        prefix: &str,
        node: &str,
        stop: watch::Receiver<bool>,
    ) -> RedisBus {
        let (outbox, rx) = mpsc::channel(OUTBOX);
        let inner = Arc::new(Inner {
            node: node.to_string(),
            channel: format!("{prefix}:bus"),
            handler: HandlerSlot::default(),
            status: BusStatus::default(),
            outbox,
            outbox_full: AtomicBool::new(false),
            connects: watch::Sender::new(0),
            conns_prefix: format!("{prefix}:conns:"),
        });
        tokio::spawn(publish_loop(
            inner.clone(),
            client.clone(),
            rx,
            stop.clone(),
        ));
        tokio::spawn(subscribe_loop(inner.clone(), client, stop));
        RedisBus { inner }
    }

    pub fn status(&self) -> &BusStatus {
        &self.inner.status
    }

    /// Changes each time the subscriber (re)connects to Redis.
    pub fn connects(&self) -> watch::Receiver<u64> {
        self.inner.connects.subscribe()
    }

    /// Queues a command after everything published so far.
    pub(super) fn send(&self, out: Out) {
        match self.inner.outbox.try_send(out) {
            Ok(()) => self.inner.outbox_full.store(false, Ordering::Relaxed),
            // Said once per time it fills, not once per message of an outage.
            Err(_) if !self.inner.outbox_full.swap(true, Ordering::Relaxed) => tracing::warn!(
                "the bus's outbox is full: messages to other nodes are dropped until Redis answers \
                 (durable events still reach them through the catch-up)"
            ),
            Err(_) => {}
        }
    }

    /// Waits (at most `limit`) until everything queued has been handed to Redis: a stopping node's
    /// last messages ("gone") leave before the process does.
    pub async fn flush(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.inner.outbox.capacity() < OUTBOX && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The counter writes a presence change implies: a node's connection count per user, the
    /// truth the connection cap reads (see `limits.rs`).
    fn counter_writes(&self, update: &PresenceUpdate) {
        let users: Vec<(i64, u32)> = match update {
            PresenceUpdate::User { user, conns, .. } => vec![(*user, *conns)],
            PresenceUpdate::Snapshot { users, .. } => {
                users.iter().map(|(u, c, _)| (*u, *c)).collect()
            }
            _ => return,
        };
        for (user, conns) in users {
            let key = format!("{}{user}", self.inner.conns_prefix);
            for cmd in super::limits::write_count(&key, &self.inner.node, conns) {
                self.send(Out::Command(cmd));
            }
        }
    }
}

impl Bus for RedisBus {
    fn publish(&self, message: BusMessage) {
        self.send(Out::Publish(wire::encode(&self.inner.node, &message)));
        if let BusMessage::Presence { update, .. } = &message {
            // For the other nodes only: this node's hub made the change.
            self.counter_writes(update);
            return;
        }
        self.inner.handler.deliver(message);
    }

    fn set_handler(&self, handler: Handler) {
        self.inner.handler.set(handler);
    }

    fn node(&self) -> &str {
        &self.inner.node
    }

    fn clustered(&self) -> bool {
        true
    }
}

pub(super) fn connection_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
}

async fn publish_loop(
    inner: Arc<Inner>,
    client: Client,
    mut rx: mpsc::Receiver<Out>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conn: Option<MultiplexedConnection> = None;
    let mut backoff = Duration::from_millis(50);
    loop {
        let first = tokio::select! {
            out = rx.recv() => match out {
                Some(out) => out,
                None => return,
            },
            _ = super::stopped(&mut stop) => return,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(out) => batch.push(out),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            match client
                .get_multiplexed_async_connection_with_config(&connection_config())
                .await
            {
                Ok(c) => {
                    tracing::info!("bus publisher connected to Redis");
                    conn = Some(c);
                    backoff = Duration::from_millis(50);
                }
                Err(e) => {
                    tracing::warn!(error = %e, dropped = batch.len(), "bus publisher cannot reach Redis");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        let mut pipe = redis::pipe();
        for out in batch.iter() {
            match out {
                Out::Publish(bytes) => {
                    pipe.cmd("PUBLISH").arg(&inner.channel).arg(bytes).ignore();
                }
                Out::Command(cmd) => {
                    pipe.add_command(cmd.clone()).ignore();
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Err(e) = pipe.query_async::<()>(c).await {
            tracing::warn!(error = %e, dropped = batch.len(), "bus publish failed; reconnecting");
            conn = None;
        }
    }
}

async fn subscribe_loop(inner: Arc<Inner>, client: Client, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        if *stop.borrow() {
            return;
        }
        let subscribed = async {
            let mut pubsub =
                tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await??;
            pubsub.subscribe(&inner.channel).await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(pubsub)
        };
        let pubsub = match subscribed.await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "bus subscriber cannot reach Redis; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = super::stopped(&mut stop) => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        inner.status.set_subscribed(true);
        inner.connects.send_modify(|n| *n += 1);
        tracing::info!(channel = %inner.channel, "bus subscribed to Redis");
        let mut messages = pubsub.into_on_message();
        loop {
            let message = tokio::select! {
                m = messages.next() => m,
                _ = super::stopped(&mut stop) => return,
            };
            let Some(message) = message else { break };
            match wire::decode(message.get_payload_bytes()) {
                Some((node, _)) if node == inner.node => {}
                Some((_, message)) => {
                    inner.handler.deliver(message);
                }
                None => tracing::warn!("a message on the bus channel is not one of ours; ignored"),
            }
        }
        inner.status.set_subscribed(false);
        tracing::warn!("bus subscriber lost Redis; reconnecting (the catch-up covers the gap)");
    }
}
