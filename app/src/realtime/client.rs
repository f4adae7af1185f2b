//! The WebSocket machinery behind [`super::Realtime`] (browser only).

use super::{delivery_of, ConnectionState, Delivery, Realtime};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use studyhall::protocol::{
    close, decode_server, encode, ClientMessage, Position, ServerMessage, Topic, PROTOCOL_VERSION,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

const BACKOFF_BASE_MS: f64 = 500.0;
const BACKOFF_CAP_MS: f64 = 30_000.0;
const PING_EVERY_MS: i32 = 25_000;
/// A ping not answered within this long means the server is gone.
const PONG_WITHIN_MS: f64 = 10_000.0;

type Listener = Rc<dyn Fn(Delivery)>;

struct TopicSub {
    /// The last position delivered to listeners: resubscribe from here, drop anything at or before it.
    position: Option<Position>,
    listeners: Vec<(u64, Listener)>,
    /// Who the server last said is present (topics with presence), for listeners that come later:
    /// the server sends the list once per subscription.
    present: Option<studyhall::protocol::PresenceSet>,
}

pub struct Inner {
    ws: Option<WebSocket>,
    topics: HashMap<Topic, TopicSub>,
    next_id: u64,
    attempt: u32,
    reconnect_timer: Option<i32>,
    ping_timer: Option<i32>,
    ping_sent_at: Option<f64>,
    /// When the last renewal after a session-end close happened, to avoid a renew-reconnect loop.
    last_renewal: f64,
    /// Set when the client must stop for good (signed out, or outdated protocol).
    signed_out: bool,
    /// Whether the current socket ever opened (a refused upgrade closes without opening).
    opened: bool,
    /// What the server was last told (or will be on opening): the tab is hidden or idle.
    away: bool,
    // Event handlers of the current socket, kept alive while it is.
    handlers: Vec<Box<dyn std::any::Any>>,
}

impl Inner {
    pub fn new() -> Rc<RefCell<Inner>> {
        Rc::new(RefCell::new(Inner {
            ws: None,
            topics: HashMap::new(),
            next_id: 1,
            attempt: 0,
            reconnect_timer: None,
            ping_timer: None,
            ping_sent_at: None,
            last_renewal: 0.0,
            signed_out: false,
            opened: false,
            away: false,
            handlers: Vec::new(),
        }))
    }
}

fn inner(rt: &Realtime) -> Rc<RefCell<Inner>> {
    rt.inner.get_value()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn send(ws: &WebSocket, message: &ClientMessage) {
    if ws.ready_state() == WebSocket::OPEN {
        let _ = ws.send_with_str(&encode(message));
    }
}

fn subscribe_message(topic: Topic, position: Option<Position>) -> ClientMessage {
    ClientMessage::Subscribe {
        id: None,
        topic,
        since: position,
    }
}

pub fn add_listener(
    rt: &Realtime,
    topic: Topic,
    since: Option<Position>,
    listener: Listener,
) -> u64 {
    let cell = inner(rt);
    let mut me = cell.borrow_mut();
    let id = me.next_id;
    me.next_id += 1;
    let is_new = !me.topics.contains_key(&topic);
    let sub = me.topics.entry(topic).or_insert(TopicSub {
        position: since.clone(),
        listeners: Vec::new(),
        present: None,
    });
    // The earliest position asked for wins, so no listener misses anything.
    if let (Some(have), Some(want)) = (&sub.position, &since) {
        if have.epoch == want.epoch && want.offset < have.offset {
            sub.position = Some(want.clone());
        }
    }
    sub.listeners.push((id, listener.clone()));
    let present = sub.present.clone();
    let ws = me.ws.clone();
    drop(me);
    if let Some(p) = present {
        // After the current task (a component being built or hydrated must not change under it).
        let (present, away) = (p.here, p.away);
        leptos::task::spawn_local(async move { listener(Delivery::Presence { present, away }) });
    }
    match ws {
        Some(ws) if is_new => send(&ws, &subscribe_message(topic, since)),
        Some(_) => {}
        None => connect_now(rt),
    }
    id
}

pub fn remove_listener(rt: &Realtime, topic: Topic, id: u64) {
    let Some(cell) = rt.inner.try_get_value() else {
        return;
    };
    let mut me = cell.borrow_mut();
    let empty = match me.topics.get_mut(&topic) {
        Some(sub) => {
            sub.listeners.retain(|(i, _)| *i != id);
            sub.listeners.is_empty()
        }
        None => false,
    };
    if empty {
        me.topics.remove(&topic);
        if let Some(ws) = me.ws.clone() {
            send(&ws, &ClientMessage::Unsubscribe { id: None, topic });
        }
    }
}

/// Sends an ephemeral event on `topic` if the socket is open; otherwise it is dropped (typing that
/// nobody could see is not worth queueing).
pub fn publish(rt: &Realtime, topic: Topic, event: &str, data: serde_json::Value) {
    let ws = inner(rt).borrow().ws.clone();
    if let Some(ws) = ws {
        send(
            &ws,
            &ClientMessage::Publish {
                id: None,
                topic,
                event: event.to_string(),
                data,
            },
        );
    }
}

/// Opens a socket unless one is open or opening.
pub fn connect_now(rt: &Realtime) {
    let cell = inner(rt);
    {
        let mut me = cell.borrow_mut();
        if me.signed_out || me.topics.is_empty() {
            return;
        }
        if let Some(ws) = &me.ws {
            if ws.ready_state() == WebSocket::OPEN || ws.ready_state() == WebSocket::CONNECTING {
                return;
            }
        }
        if let Some(timer) = me.reconnect_timer.take() {
            if let Some(w) = web_sys::window() {
                w.clear_timeout_with_handle(timer);
            }
        }
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let scheme = if location.protocol().as_deref() == Ok("https:") {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}/ws", location.host().unwrap_or_default());
    let ws = match WebSocket::new(&url) {
        Ok(ws) => ws,
        Err(_) => {
            schedule_reconnect(rt);
            return;
        }
    };
    let rt_copy = *rt;
    let on_open = Closure::<dyn FnMut()>::new(move || on_open(&rt_copy));
    let rt_copy = *rt;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            on_message(&rt_copy, &text);
        }
    });
    let rt_copy = *rt;
    let socket = ws.clone();
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        on_close(&rt_copy, &socket, e.code())
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut me = cell.borrow_mut();
    me.handlers = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
    me.ws = Some(ws);
    me.opened = false;
}

fn on_open(rt: &Realtime) {
    let cell = inner(rt);
    let mut me = cell.borrow_mut();
    me.attempt = 0;
    me.opened = true;
    let Some(ws) = me.ws.clone() else { return };
    send(
        &ws,
        &ClientMessage::Hello {
            version: PROTOCOL_VERSION,
        },
    );
    // Before the subscriptions, so the room sees this user arrive as away, not arrive then leave.
    if me.away {
        send(&ws, &ClientMessage::Status { away: true });
    }
    for (topic, sub) in &me.topics {
        send(&ws, &subscribe_message(*topic, sub.position.clone()));
    }
    me.ping_sent_at = None;
    if me.ping_timer.is_none() {
        let rt_copy = *rt;
        let tick = Closure::<dyn FnMut()>::new(move || heartbeat(&rt_copy));
        if let Some(w) = web_sys::window() {
            me.ping_timer = w
                .set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    PING_EVERY_MS,
                )
                .ok();
        }
        tick.forget(); // one per page, lives as long as the page
    }
    drop(me);
    rt.state.set(ConnectionState::Open);
}

/// Sends a ping; if the previous one was never answered, the server is silent: reconnect.
fn heartbeat(rt: &Realtime) {
    let cell = inner(rt);
    let mut me = cell.borrow_mut();
    let Some(ws) = me.ws.clone() else { return };
    if ws.ready_state() != WebSocket::OPEN {
        return;
    }
    if let Some(sent) = me.ping_sent_at {
        if now() - sent > PONG_WITHIN_MS {
            drop(me);
            let _ = ws.close();
            return;
        }
    }
    me.ping_sent_at = Some(now());
    send(&ws, &ClientMessage::Ping { id: None });
}

fn on_message(rt: &Realtime, text: &str) {
    let Ok(message) = decode_server(text) else {
        leptos::logging::warn!("realtime: unreadable frame ignored");
        return;
    };
    let cell = inner(rt);
    // Any frame proves the server is alive.
    cell.borrow_mut().ping_sent_at = None;
    let Some((topic, delivery)) = delivery_of(&message) else {
        match &message {
            ServerMessage::Subscribed { .. } => note_subscribed(rt, &message),
            ServerMessage::Error { code, message, .. } => {
                leptos::logging::warn!("realtime: {code:?}: {message}")
            }
            _ => {}
        }
        return;
    };
    let listeners: Vec<Listener> = {
        let mut me = cell.borrow_mut();
        let Some(sub) = me.topics.get_mut(&topic) else {
            return;
        };
        match (&delivery, &message) {
            (Delivery::Event { offset, .. }, ServerMessage::Event { epoch, .. }) => {
                let duplicate = sub
                    .position
                    .as_ref()
                    .is_some_and(|p| &p.epoch == epoch && *offset <= p.offset);
                if duplicate {
                    return;
                }
                sub.position = Some(Position {
                    epoch: epoch.clone(),
                    offset: *offset,
                });
            }
            (Delivery::Reset { position }, _) => sub.position = Some(position.clone()),
            (Delivery::Presence { present, away }, _) => {
                sub.present = Some(studyhall::protocol::PresenceSet::new(
                    present.clone(),
                    away.clone(),
                ));
            }
            (
                Delivery::PresenceDiff {
                    joined,
                    left,
                    away,
                    back,
                },
                _,
            ) => {
                sub.present
                    .get_or_insert_with(Default::default)
                    .apply_diff(joined, left, away, back);
            }
            _ => {}
        }
        sub.listeners.iter().map(|(_, l)| l.clone()).collect()
    };
    for listener in listeners {
        listener(delivery.clone());
    }
}

/// Records where a subscription stands when the server confirms it (the log position even when
/// nothing was replayed), so a reconnect resumes from there.
fn note_subscribed(rt: &Realtime, message: &ServerMessage) {
    if let ServerMessage::Subscribed {
        topic,
        epoch,
        offset,
        ..
    } = message
    {
        if let Some(sub) = inner(rt).borrow_mut().topics.get_mut(topic) {
            if sub.position.is_none() {
                sub.position = Some(Position {
                    epoch: epoch.clone(),
                    offset: *offset,
                });
            }
        }
    }
}

fn on_close(rt: &Realtime, socket: &WebSocket, code: u16) {
    let cell = inner(rt);
    let opened = {
        let mut me = cell.borrow_mut();
        // A stale socket's close (we already replaced it) changes nothing.
        if me.ws.as_ref() != Some(socket) {
            return;
        }
        me.ws = None;
        me.handlers.clear();
        // The next connection's subscriptions bring fresh presence lists.
        for sub in me.topics.values_mut() {
            sub.present = None;
        }
        me.opened
    };
    if code == close::UNSUPPORTED_VERSION {
        cell.borrow_mut().signed_out = true;
        rt.state.set(ConnectionState::Outdated);
        return;
    }
    // A refused upgrade (401) looks like a plain failure to the browser: check the session.
    if code == close::SESSION_ENDED || !opened {
        renew_then_reconnect(*rt);
        return;
    }
    let online = web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true);
    if !online {
        rt.state.set(ConnectionState::Offline);
        return;
    }
    schedule_reconnect(rt);
}

/// Full jitter: a random delay between 0 and min(cap, base * 2^attempt).
fn schedule_reconnect(rt: &Realtime) {
    let cell = inner(rt);
    let mut me = cell.borrow_mut();
    if me.signed_out || me.reconnect_timer.is_some() {
        return;
    }
    me.attempt = me.attempt.saturating_add(1);
    let attempt = me.attempt;
    let ceiling = (BACKOFF_BASE_MS * 2f64.powi(attempt.min(16) as i32)).min(BACKOFF_CAP_MS);
    let delay = (js_sys::Math::random() * ceiling) as i32;
    let rt_copy = *rt;
    let fire = Closure::once_into_js(move || {
        if let Some(cell) = rt_copy.inner.try_get_value() {
            cell.borrow_mut().reconnect_timer = None;
        }
        connect_now(&rt_copy);
    });
    if let Some(w) = web_sys::window() {
        me.reconnect_timer = w
            .set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), delay)
            .ok();
    }
    drop(me);
    rt.state.set(ConnectionState::Reconnecting { attempt });
}

/// The session ended: any HTTP request renews the cookie if the session is still good. If it is not,
/// the user is signed out and the client stops (no loop).
fn renew_then_reconnect(rt: Realtime) {
    let cell = inner(&rt);
    let recently = now() - cell.borrow().last_renewal < 10_000.0;
    cell.borrow_mut().last_renewal = now();
    leptos::task::spawn_local(async move {
        match renew_session().await {
            Renewal::Renewed if !recently => connect_now(&rt),
            // Renewed a moment ago and closed again, or the server is unreachable: back off.
            Renewal::Renewed | Renewal::Unreachable => schedule_reconnect(&rt),
            Renewal::SignedOut => {
                if let Some(cell) = rt.inner.try_get_value() {
                    cell.borrow_mut().signed_out = true;
                }
                rt.state.set(ConnectionState::SignedOut);
            }
        }
    });
}

enum Renewal {
    Renewed,
    SignedOut,
    Unreachable,
}

/// Any authenticated request renews the session cookie while the session is good.
async fn renew_session() -> Renewal {
    let Some(window) = web_sys::window() else {
        return Renewal::Unreachable;
    };
    let promise = window.fetch_with_str("/api/v1/me");
    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(res) => match res.dyn_into::<web_sys::Response>() {
            Ok(r) if r.ok() => Renewal::Renewed,
            Ok(r) if r.status() == 401 => Renewal::SignedOut,
            _ => Renewal::Unreachable,
        },
        Err(_) => Renewal::Unreachable,
    }
}

/// With no key, pointer or scroll for this long, a visible tab counts as away.
pub const IDLE_AFTER_MS: f64 = 5.0 * 60_000.0;

/// Tells the server whether this tab is away, when that changed.
fn report_away(rt: &Realtime, away: bool) {
    let cell = inner(rt);
    let mut me = cell.borrow_mut();
    if me.away == away {
        return;
    }
    me.away = away;
    if let Some(ws) = me.ws.clone() {
        send(&ws, &ClientMessage::Status { away });
    }
}

/// Away while the tab is hidden or idle: visibility changes count at once, activity is noted as it
/// happens and idleness checked every 15 seconds.
fn watch_away(rt: Realtime, window: &web_sys::Window) {
    let last_active = Rc::new(std::cell::Cell::new(now()));
    let check = {
        let last_active = last_active.clone();
        move || {
            let away = !crate::browser::page_visible() || now() - last_active.get() > IDLE_AFTER_MS;
            report_away(&rt, away);
        }
    };
    let active = {
        let check = check.clone();
        Closure::<dyn FnMut()>::new(move || {
            // Cheap when nothing changes: a store, and a report only when coming back.
            last_active.set(now());
            if inner(&rt).borrow().away {
                check();
            }
        })
    };
    for event in [
        "keydown",
        "pointerdown",
        "pointermove",
        "wheel",
        "touchstart",
        "focus",
    ] {
        let _ = window.add_event_listener_with_callback(event, active.as_ref().unchecked_ref());
    }
    let visibility = {
        let check = check.clone();
        Closure::<dyn FnMut()>::new(check)
    };
    if let Some(doc) = window.document() {
        let _ = doc.add_event_listener_with_callback(
            "visibilitychange",
            visibility.as_ref().unchecked_ref(),
        );
    }
    let tick = Closure::<dyn FnMut()>::new(check);
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        15_000,
    );
    // One set per page load; they live as long as the page.
    active.forget();
    visibility.forget();
    tick.forget();
}

/// Reconnects at once when the network returns or the tab becomes visible; notes going offline.
pub fn install_browser_listeners(rt: Realtime) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let online = Closure::<dyn FnMut()>::new(move || connect_now(&rt));
    // Offline: the socket cannot be trusted any more. Close it; the next "online" resumes from the
    // last positions.
    let offline = Closure::<dyn FnMut()>::new(move || {
        if rt.state.get_untracked() == ConnectionState::SignedOut {
            return;
        }
        rt.state.set(ConnectionState::Offline);
        let ws = rt
            .inner
            .try_get_value()
            .and_then(|cell| cell.borrow().ws.clone());
        if let Some(ws) = ws {
            let _ = ws.close();
        }
    });
    let visible = Closure::<dyn FnMut()>::new(move || {
        if crate::browser::page_visible() {
            connect_now(&rt);
        }
    });
    let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    if let Some(doc) = window.document() {
        let _ = doc
            .add_event_listener_with_callback("visibilitychange", visible.as_ref().unchecked_ref());
    }
    watch_away(rt, &window);
    // Installed once per page load; they live as long as the page.
    online.forget();
    offline.forget();
    visible.forget();
}
