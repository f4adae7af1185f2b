//! `GET /ws`: the realtime endpoint. The upgrade is authenticated (session cookie from an allowed
//! Origin, or a bearer token); then one task per connection reads client frames, writes what the hub
//! sends, keeps each subscription's cursor (dropping duplicates, filling gaps from the log), and
//! enforces the limits, the heartbeat and the session's end. docs/PROTOCOL.md describes the protocol.

use crate::config::WsSettings;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::SinkExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use studyhall::access::{always_readable, can_publish, can_subscribe, Principal, CLIENT_EVENTS};
use studyhall::accounts::{sessions, users};
use studyhall::model::{Millis, UserId};
use studyhall::protocol::{
    close, decode_client, encode, ClientMessage, ErrorCode, Limits, ServerMessage, Topic,
    PROTOCOL_VERSION,
};
use studyhall::server::now_ms;
use studyhall::server::realtime::hub::{Refused, Registration};
use studyhall::server::realtime::mailbox::{Mailbox, Next, Stop};
use studyhall::server::realtime::{principal, Outbound};
use studyhall::server::web::{RequestAuth, Services};
use studyhall::AppError;

mod clocks;
mod cursors;
use clocks::{Clocks, Tick, TokenBucket};
use cursors::Subscriptions;

pub async fn upgrade(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Browsers always send Origin on a WebSocket upgrade; a foreign one is a hijacking attempt.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim_end_matches('/');
        if !state.http.allowed_origins.iter().any(|o| o == origin) {
            tracing::warn!(%origin, "cross-origin WebSocket upgrade refused");
            return ApiError(AppError::CrossSite).into_response();
        }
    }
    let Some(caller) = auth.caller else {
        return ApiError(AppError::Unauthenticated).into_response();
    };
    let settings = state.ws;
    // Only what the connection uses is moved into its task, which lives as long as the socket.
    let who = Who {
        user_id: caller.user.id,
        session_id: caller.session_id.into_boxed_str(),
        token_expires_at: caller.token_expires_at,
    };
    let services = state.services;
    let tasks = state.tasks;
    // With several nodes, the per-user cap counts every node's connections (Redis); without an
    // answer from Redis in time the hub's own count decides.
    if let Some(limits) = services.cluster().limits() {
        let cap = settings.max_connections_per_user;
        if limits.admit_connection(who.user_id, cap).await == Some(false) {
            return ws.on_upgrade(|mut socket| async move {
                let refusal = End::Close(close::TOO_MANY_CONNECTIONS, "too many connections");
                if let Some(frame) = refusal.close_frame() {
                    let _ = socket.send(frame).await;
                }
            });
        }
    }
    // The library's own cap is a backstop well above ours, so that an oversized frame reaches us and
    // gets the documented 1009 close instead of a broken connection.
    let hard_cap = settings.max_frame_bytes.saturating_mul(4).max(64 * 1024);
    ws.max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        // Allocated up front and kept for the socket's life. Client frames are small (a subscribe
        // is ~120 bytes); a larger one gets room for its whole length when its header arrives and
        // is read 256 bytes at a time.
        .read_buffer_size(256)
        // Frames collect in the write buffer until a flush or 16 KiB: a burst goes out in few writes.
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .on_upgrade(move |socket| {
            // The connection gets a task of its own and axum's upgrade task ends here. Awaited
            // inside axum's future, ours shared a task with the room that future reserves for what
            // it captured (the upgrade, the WebSocket configuration, this closure's captures):
            // 896 bytes per socket instead of 640 (heaptrack, docs/BENCHMARKS.md).
            // Tracked: the shutdown waits for it (and its last database write) before closing the pool.
            tasks.spawn(Connection::start(socket, services, settings, who));
            std::future::ready(())
        })
}

/// Why a connection ends.
#[derive(Clone, Copy)]
enum End {
    Close(u16, &'static str),
    Gone,
}

const SLOW_CONSUMER: End = End::Close(close::SLOW_CONSUMER, "slow consumer");
const SHUTTING_DOWN: End = End::Close(close::GOING_AWAY, "server shutting down");

impl End {
    /// The close frame that says why, unless the peer is already gone.
    fn close_frame(self) -> Option<Message> {
        match self {
            End::Close(code, reason) => Some(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            }))),
            End::Gone => None,
        }
    }
}

impl From<Stop> for End {
    fn from(stop: Stop) -> End {
        match stop {
            Stop::Slow => SLOW_CONSUMER,
            Stop::Closing => SHUTTING_DOWN,
        }
    }
}

/// What woke a connection's task.
enum Wake {
    Tick(Tick),
    Incoming(Option<Result<Message, axum::Error>>),
    Outbound(Outbound),
}

/// The signed-in user behind a connection, as far as the connection needs to know.
struct Who {
    user_id: UserId,
    session_id: Box<str>,
    token_expires_at: Millis,
}

struct Connection {
    socket: WebSocket,
    services: Services,
    ws: Arc<WsSettings>,
    who: Who,
    id: u64,
    subs: Subscriptions,
    bucket: TokenBucket,
}

/// A backstop for a task that ends without reaching the end of [`Connection::run`] (a panic, or the
/// runtime dropping it): the hub lets go of the connection, so the user's per-user count and the
/// connection's topics do not outlive the socket. After a normal end this finds nothing to remove.
impl Drop for Connection {
    fn drop(&mut self) {
        self.services.hub.disconnect(self.id);
    }
}

impl Connection {
    /// Registers the socket with the hub and returns the task that serves it. The connection is
    /// built and boxed here, before the task's future exists: an `async fn` keeps its arguments in
    /// its future for its whole life, so a connection built inside one held the socket, services
    /// and settings twice, in every idle task.
    fn start(
        socket: WebSocket,
        services: Services,
        ws: Arc<WsSettings>,
        who: Who,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let accepted = match services.hub.connect(who.user_id) {
            Ok(registration) => Ok((
                Box::new(Connection {
                    socket,
                    id: registration.id,
                    subs: Subscriptions::default(),
                    bucket: TokenBucket::new(ws.publishes_per_minute),
                    services,
                    ws,
                    who,
                }),
                registration,
            )),
            Err(refused) => Err((Box::new(socket), refused)),
        };
        async move {
            match accepted {
                Ok((conn, registration)) => conn.run(registration).await,
                Err((mut socket, refused)) => {
                    let refusal = match refused {
                        Refused::TooManyConnections => {
                            End::Close(close::TOO_MANY_CONNECTIONS, "too many connections")
                        }
                        Refused::ShuttingDown => SHUTTING_DOWN,
                    };
                    if let Some(frame) = refusal.close_frame() {
                        let _ = socket.send(frame).await;
                    }
                }
            }
        }
    }

    async fn run(mut self: Box<Self>, mut registration: Registration) {
        tracing::debug!(
            conn = self.id,
            user = self.who.user_id,
            "websocket connected"
        );
        let end = self.serve(&mut registration).await;
        if let Some(frame) = end.close_frame() {
            let _ = Box::pin(tokio::time::timeout(
                Duration::from_secs(2),
                self.socket.send(frame),
            ))
            .await;
        }
        // The user's last connection: remember when they were last here. Not at shutdown, which
        // stores everyone's in one statement (ten thousand single-row writes here used to hold a
        // restart up for seconds).
        if self.services.hub.disconnect(self.id) {
            let _ = Box::pin(users::touch_last_seen(
                self.services.accounts.db(),
                self.who.user_id,
                now_ms(),
            ))
            .await;
        }
        tracing::debug!(conn = self.id, "websocket closed");
    }

    async fn serve(&mut self, registration: &mut Registration) -> End {
        // Boxed like every other send: an inline await keeps room for its future in the task for
        // the socket's whole life, though it runs once.
        if let Err(end) = Box::pin(self.welcome()).await {
            return end;
        }
        let expires_in = (self.who.token_expires_at - now_ms()).max(0) as u64;
        let mut clocks = Clocks::start(&self.ws, Duration::from_millis(expires_in));
        let timer = tokio::time::sleep_until(clocks.next());
        tokio::pin!(timer);
        let mut last_heard = Instant::now();
        loop {
            // The mailbox's flags come before anything else the loop would do, however busy the
            // socket: a slow consumer's events are being dropped (4002 now), and a shutdown is a
            // shutdown (1001).
            if let Some(stop) = registration.mailbox.stopped() {
                return stop.into();
            }
            // Waiting is all an idle connection does, so only what it waits on lives in this task;
            // what a wake-up does is one boxed future (`act`), allocated while it runs.
            let wake = tokio::select! {
                biased;
                _ = &mut timer => {
                    let due = clocks.take_due(tokio::time::Instant::now(), &self.ws);
                    timer.as_mut().reset(clocks.next());
                    match due {
                        Some(tick) => Wake::Tick(tick),
                        None => continue,
                    }
                }
                incoming = self.socket.recv() => {
                    last_heard = Instant::now();
                    Wake::Incoming(incoming)
                }
                next = registration.mailbox.next() => match next {
                    Next::Item(out) => Wake::Outbound(out),
                    Next::Stop(stop) => return stop.into(),
                },
            };
            if let Err(end) = Box::pin(self.act(wake, &registration.mailbox, last_heard)).await {
                return end;
            }
        }
    }

    async fn welcome(&mut self) -> Result<(), End> {
        let settings = *self.ws;
        let welcome = ServerMessage::Welcome {
            version: PROTOCOL_VERSION,
            connection_id: format!("{}", self.id),
            user_id: self.who.user_id,
            heartbeat_ms: settings.heartbeat.as_millis() as u64,
            limits: Limits {
                max_frame_bytes: settings.max_frame_bytes,
                max_subscriptions: settings.max_subscriptions,
                publishes_per_minute: settings.publishes_per_minute,
                max_connections_per_user: settings.max_connections_per_user,
                retained_events_per_topic: settings.retained_events_per_topic,
            },
        };
        self.send(&welcome).await
    }

    /// Does what one wake-up of [`Self::serve`] asks for.
    async fn act(&mut self, wake: Wake, mailbox: &Mailbox, last_heard: Instant) -> Result<(), End> {
        let settings = *self.ws;
        match wake {
            Wake::Tick(Tick::SessionEnd) => {
                Err(End::Close(close::SESSION_ENDED, "session expired"))
            }
            Wake::Tick(Tick::SessionCheck) => {
                let db = self.services.accounts.db();
                match sessions::find_active(db, &self.who.session_id, now_ms()).await {
                    Ok(Some(_)) => self.recheck_access().await,
                    Ok(None) => Err(End::Close(close::SESSION_ENDED, "session ended")),
                    Err(_) => Ok(()), // a database hiccup is not the user's fault; check again later
                }
            }
            Wake::Tick(Tick::Heartbeat) => {
                if last_heard.elapsed() > settings.idle_timeout {
                    return Err(End::Close(close::HEARTBEAT_TIMEOUT, "no heartbeat"));
                }
                // A ping that cannot be written means the peer is gone, whatever the reason.
                self.send_raw(Message::Ping(Default::default()))
                    .await
                    .map_err(|_| End::Gone)
            }
            Wake::Incoming(incoming) => match incoming {
                None | Some(Err(_)) => Err(End::Gone),
                Some(Ok(Message::Close(_))) => Err(End::Gone),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Binary(_))) => {
                    self.refuse(
                        None,
                        ErrorCode::Malformed,
                        "Binary frames are not supported; send JSON text.",
                    )
                    .await
                }
                Some(Ok(Message::Text(text))) => {
                    if text.len() > settings.max_frame_bytes {
                        return Err(End::Close(close::TOO_BIG, "frame too large"));
                    }
                    self.handle(text.as_str()).await
                }
            },
            Wake::Outbound(out) => self.deliver_batch(out, mailbox).await,
        }
    }

    async fn handle(&mut self, text: &str) -> Result<(), End> {
        let message = match decode_client(text) {
            Ok(m) => m,
            Err(e) => return self.send(&e.into_message()).await,
        };
        match message {
            ClientMessage::Hello { version } => {
                if version != PROTOCOL_VERSION {
                    self.error(
                        None,
                        ErrorCode::UnsupportedVersion,
                        &format!(
                        "This server speaks protocol version {PROTOCOL_VERSION}, not {version}."
                    ),
                    )
                    .await;
                    return Err(End::Close(
                        close::UNSUPPORTED_VERSION,
                        "unsupported protocol version",
                    ));
                }
                Ok(())
            }
            ClientMessage::Ping { id } => self.send(&ServerMessage::Pong { id }).await,
            // Each change reaches every room the user is in: it spends from the publish budget.
            ClientMessage::Status { away } => {
                if !self.bucket.take(self.ws.publishes_per_minute)
                    || !self.within_cluster_rate().await
                {
                    let per_minute = self.ws.publishes_per_minute;
                    let message =
                        format!("At most {per_minute} publishes and status changes per minute.");
                    return self.refuse(None, ErrorCode::RateLimited, &message).await;
                }
                self.services.hub.set_away(self.id, away);
                Ok(())
            }
            ClientMessage::Subscribe { id, topic, since } => self.subscribe(id, topic, since).await,
            ClientMessage::Unsubscribe { id, topic } => {
                self.drop_subscription(topic);
                self.send(&ServerMessage::Unsubscribed { id, topic }).await
            }
            ClientMessage::Publish {
                id,
                topic,
                event,
                data,
            } => self.publish(id, topic, event, data).await,
        }
    }

    async fn publish(
        &mut self,
        id: Option<String>,
        topic: Topic,
        event: String,
        data: serde_json::Value,
    ) -> Result<(), End> {
        if !self.bucket.take(self.ws.publishes_per_minute) || !self.within_cluster_rate().await {
            let per_minute = self.ws.publishes_per_minute;
            let message = format!("At most {per_minute} publishes per minute.");
            return self.refuse(id, ErrorCode::RateLimited, &message).await;
        }
        if data.to_string().len() > self.ws.max_ephemeral_bytes {
            return self
                .refuse(id, ErrorCode::NotAllowed, "The event's data is too large.")
                .await;
        }
        if !topic.accepts_client_events() || !CLIENT_EVENTS.contains(&event.as_str()) {
            let message =
                format!("Clients may publish only {CLIENT_EVENTS:?}, on rooms and cohorts.");
            return self.refuse(id, ErrorCode::NotAllowed, &message).await;
        }
        let allowed = match self.principal().await? {
            Some(p) => can_publish(&p, &topic, &event),
            None => {
                return self
                    .refuse(
                        id,
                        ErrorCode::Internal,
                        "Could not publish right now; try again.",
                    )
                    .await;
            }
        };
        if !allowed {
            let message = format!("You may not publish on {topic}.");
            return self.refuse(id, ErrorCode::Forbidden, &message).await;
        }
        self.services
            .hub
            .publish_ephemeral(self.id, self.who.user_id, topic, &event, data);
        self.send(&ServerMessage::Published { id }).await
    }

    /// With several nodes: whether the user's publishes on every node together stay within the
    /// per-minute limit (counted in Redis; allowed when Redis does not answer, the connection's own
    /// budget still applies).
    /// Owned, like [`Self::principal`]: nothing borrowed from the connection crosses the await.
    fn within_cluster_rate(&self) -> impl std::future::Future<Output = bool> + Send + 'static {
        let services = self.services.clone();
        let (user, per_minute) = (self.who.user_id, self.ws.publishes_per_minute);
        async move {
            let Some(limits) = services.cluster().limits() else {
                return true;
            };
            limits.take_publish(user, per_minute, now_ms()).await != Some(false)
        }
    }

    /// The caller as the database knows them now. `Ok(None)` on a database error (the caller may try
    /// again); `Err` ends the connection when the account is gone or disabled.
    fn principal(
        &self,
    ) -> impl std::future::Future<Output = Result<Option<Principal>, End>> + Send + 'static {
        current_principal(self.services.accounts.db().clone(), self.who.user_id)
    }

    /// Drops subscriptions the caller may no longer read (an assignment or cohort changed).
    async fn recheck_access(&mut self) -> Result<(), End> {
        // Most connections only follow topics nobody can lose (their own stream, announcements):
        // skip the two queries for them.
        let user_id = self.who.user_id;
        if self.subs.keys().all(|t| always_readable(user_id, t)) {
            return Ok(());
        }
        let Some(principal) = self.principal().await? else {
            return Ok(());
        };
        let lost: Vec<Topic> = self
            .subs
            .keys()
            .filter(|t| !can_subscribe(&principal, t))
            .copied()
            .collect();
        for topic in lost {
            self.lose(topic).await?;
        }
        Ok(())
    }

    /// Ends a subscription the user may no longer read, telling the client why (`forbidden`, then
    /// `unsubscribed`): at a periodic re-check, or at once when the hub revokes it.
    async fn lose(&mut self, topic: Topic) -> Result<(), End> {
        self.drop_subscription(topic);
        self.error(
            None,
            ErrorCode::Forbidden,
            &format!("You may no longer read {topic}."),
        )
        .await;
        self.send(&ServerMessage::Unsubscribed { id: None, topic })
            .await
    }

    /// A database hiccup during a subscribe: the client may simply try again.
    async fn retry_later(&mut self, id: Option<String>) -> Result<(), End> {
        self.refuse(
            id,
            ErrorCode::Internal,
            "Could not subscribe right now; try again.",
        )
        .await
    }

    /// Answers a request with an error and keeps the connection: a failed reply is noticed by the
    /// next read or write.
    async fn refuse(
        &mut self,
        id: Option<String>,
        code: ErrorCode,
        message: &str,
    ) -> Result<(), End> {
        self.error(id, code, message).await;
        Ok(())
    }

    /// Stops delivering `topic` to this connection.
    fn drop_subscription(&mut self, topic: Topic) {
        self.services.hub.unsubscribe(self.id, topic);
        self.subs.remove(&topic);
    }

    async fn error(&mut self, id: Option<String>, code: ErrorCode, message: &str) {
        let _ = self
            .send(&ServerMessage::Error {
                id,
                code,
                message: message.to_string(),
            })
            .await;
    }

    async fn send(&mut self, message: &ServerMessage) -> Result<(), End> {
        self.send_raw(Message::Text(encode(message).into())).await
    }

    /// Hands a frame to the socket without flushing; [`Self::flush`] (or any `send`) writes it out.
    async fn queue_frame(&mut self, frame: bytes::Bytes) -> Result<(), End> {
        let Ok(text) = Utf8Bytes::try_from(frame) else {
            return Ok(()); // frames are encoded from Rust strings; cannot happen
        };
        self.queue(Message::Text(text)).await
    }

    async fn queue(&mut self, message: Message) -> Result<(), End> {
        let timeout = self.ws.write_timeout;
        written(tokio::time::timeout(timeout, self.socket.feed(message)).await)
    }

    async fn flush(&mut self) -> Result<(), End> {
        let timeout = self.ws.write_timeout;
        written(tokio::time::timeout(timeout, self.socket.flush()).await)
    }

    async fn send_raw(&mut self, message: Message) -> Result<(), End> {
        let timeout = self.ws.write_timeout;
        written(tokio::time::timeout(timeout, self.socket.send(message)).await)
    }
}

/// What a write that had `write_timeout` to finish means for the connection.
fn written<E>(outcome: Result<Result<(), E>, tokio::time::error::Elapsed>) -> Result<(), End> {
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => Err(SLOW_CONSUMER),
    }
}

/// Owned arguments: the connection (with its socket) is not `Sync`, so nothing borrowed from it may
/// be held across these awaits.
async fn current_principal(
    db: studyhall::server::db::Db,
    user_id: i64,
) -> Result<Option<Principal>, End> {
    match users::find(&db, user_id).await {
        Ok(Some(user)) if !user.disabled => Ok(principal::load(&db, &user)
            .await
            .inspect_err(AppError::log_if_internal)
            .ok()),
        Ok(_) => Err(End::Close(close::SESSION_ENDED, "account disabled")),
        Err(e) => {
            e.log_if_internal();
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_fits_the_allocators_512_byte_class() {
        // Every idle socket holds one boxed `Connection` for its whole life. mimalloc's size
        // classes next to it are 512 and 640 bytes: one byte over 512 costs 128 per connection.
        let size = std::mem::size_of::<Connection>();
        assert!(size <= 512, "a connection's boxed state is {size} bytes");
    }
}
