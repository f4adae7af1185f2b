//! One load-generator connection, in either protocol: Studyhall's (`/ws`, JSON messages, subscribe with
//! a log position) or Socket.IO 4's WebSocket transport (Engine.IO v4 framing, JWT in the CONNECT
//! packet, connection state recovery with `pid` + `offset`). It subscribes, answers heartbeats, reads
//! every event (its send timestamp and sequence number are in the announcement body as `ts=…` and
//! `seq=…`) and, when told to, reconnects with jittered back-off and resumes from where it was.

use crate::hist::Histogram;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Studyhall,
    Socketio,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            System::Studyhall => "Studyhall",
            System::Socketio => "Socket.IO 4.8",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnSpec {
    pub token: String,
    pub topics: Vec<String>,
}

/// Everything a worker process needs, sent as the first line on its stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub system: System,
    pub addr: SocketAddr,
    /// Local addresses to connect from, round robin (each has its own ephemeral ports).
    pub sources: Vec<IpAddr>,
    pub conns: Vec<ConnSpec>,
    pub reconnect: bool,
    pub connects_per_sec: u32,
    /// Remember which sequence numbers each connection received (for the loss count).
    pub track_seqs: bool,
    /// Per-connection read buffer: small when holding thousands of idle sockets, large when a few
    /// hundred each receive a flood (fewer system calls per message for the load generator).
    pub read_buffer_bytes: usize,
    /// At most this many connections of this process being set up at once (connect, upgrade,
    /// subscribe) on their first try, as a client pool with bounded concurrency would; 0: no bound.
    pub max_connecting: usize,
}

/// Counters of one worker process. The worker is single-threaded, so plain cells suffice.
#[derive(Default)]
pub struct Stats {
    pub open: u64,
    pub ready: u64,
    pub closed: u64,
    pub failed: u64,
    pub received: u64,
    pub resets: u64,
    pub recovered: u64,
    pub dupes: u64,
    /// Latencies of events sent before `mid_us` (and after `start_us`), and of those sent after.
    pub first: Histogram,
    pub second: Histogram,
    pub start_us: u64,
    pub mid_us: u64,
    pub seqs: Vec<Vec<u64>>,
    pub ready_flags: Vec<bool>,
    /// Bytes of the event frames received since the last `step`, each as on the wire: the WebSocket
    /// payload plus its frame header (server frames are unmasked).
    pub frame_bytes: u64,
    /// The first event frame's payload, exactly as received (for the report).
    pub sample: Option<String>,
    /// Connections whose first try is over (ready, or failed before it got there).
    pub settled: u64,
    pub settled_flags: Vec<bool>,
}

/// A server-to-client WebSocket frame's size on the wire for a `payload`-byte message: the 2-byte
/// header, plus 2 or 8 bytes of extended length (RFC 6455, 5.2), no mask.
pub fn frame_bytes(payload: usize) -> u64 {
    let extended = match payload {
        0..=125 => 0,
        126..=65_535 => 2,
        _ => 8,
    };
    (payload + 2 + extended) as u64
}

impl Stats {
    /// One event received: `frame` is the WebSocket message's whole text, `body` the part that holds
    /// the announcement.
    fn event(&mut self, conn: usize, frame: &str, body: &str) {
        self.received += 1;
        self.frame_bytes += frame_bytes(frame.len());
        if self.sample.is_none() {
            self.sample = Some(frame.to_string());
        }
        let now = now_us();
        if let Some(ts) = number_after(body, "ts=") {
            if ts >= self.start_us {
                let latency = now.saturating_sub(ts);
                if ts < self.mid_us {
                    self.first.record(latency);
                } else {
                    self.second.record(latency);
                }
            }
        }
        if let (Some(seq), Some(bits)) = (number_after(body, "seq="), self.seqs.get_mut(conn)) {
            let (word, bit) = ((seq / 64) as usize, seq % 64);
            if bits.len() <= word {
                bits.resize(word + 1, 0);
            }
            if bits[word] & (1 << bit) != 0 {
                self.dupes += 1;
            }
            bits[word] |= 1 << bit;
        }
    }

    fn settle(&mut self, conn: usize) {
        if let Some(flag) = self.settled_flags.get_mut(conn).filter(|f| !**f) {
            *flag = true;
            self.settled += 1;
        }
    }

    fn set_ready(&mut self, conn: usize, ready: bool) {
        if ready {
            self.settle(conn);
        }
        let flag = &mut self.ready_flags[conn];
        if *flag != ready {
            *flag = ready;
            if ready {
                self.ready += 1;
            } else {
                self.ready -= 1;
            }
        }
    }

    /// Connections that hold every sequence number in 1..=m but those in `excluded` (publishes that
    /// failed, whose event may or may not exist), and how many numbers are missing in all.
    pub fn completeness(&self, m: u64, excluded: &[u64]) -> (u64, u64) {
        let mut complete = 0;
        let mut missing = 0;
        let want = (1..=m).filter(|s| !excluded.contains(s)).count() as u64;
        for bits in &self.seqs {
            let have = (1..=m)
                .filter(|s| {
                    !excluded.contains(s)
                        && bits
                            .get((*s / 64) as usize)
                            .is_some_and(|w| w & (1 << (s % 64)) != 0)
                })
                .count() as u64;
            missing += want - have;
            if have == want {
                complete += 1;
            }
        }
        (complete, missing)
    }
}

pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The decimal number right after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let start = text.find(marker)? + marker.len();
    let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
    text[start..start + digits].parse().ok()
}

/// The JSON string value right after `"key":"` (no unescaping: the values read here have none).
fn string_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let end = text[start..].find('"')?;
    Some(&text[start..start + end])
}

/// Where a connection stands, kept across reconnects.
#[derive(Default)]
struct Resume {
    /// Studyhall: per topic, the log's epoch and the last offset received.
    cursors: HashMap<String, (String, i64)>,
    /// Socket.IO: the session id for recovery and the offset of the last event received.
    pid: Option<String>,
    offset: Option<String>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;
type Shared = Rc<RefCell<Stats>>;

/// Runs one connection until it ends (and, with `reconnect`, forever).
pub async fn run(index: usize, config: Rc<WorkerConfig>, stats: Shared) {
    let spec = &config.conns[index];
    let source = config.sources[index % config.sources.len()];
    let mut resume = Resume::default();
    let mut attempt: u32 = 0;
    loop {
        let outcome = session(index, &config, spec, source, &stats, &mut resume).await;
        stats.borrow_mut().settle(index);
        stats.borrow_mut().set_ready(index, false);
        match outcome {
            Ok(()) => {
                stats.borrow_mut().closed += 1;
                attempt = 0;
            }
            Err(_) => stats.borrow_mut().failed += 1,
        }
        if !config.reconnect {
            return;
        }
        attempt += 1;
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// The same policy for both systems, modelled on socket.io-client's defaults: a random first delay
/// under a second, then doubling to at most 5 s, each with ±50 % jitter.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    if attempt <= 1 {
        return Duration::from_millis(rng.gen_range(0..1000));
    }
    let base = (1000u64 << (attempt - 2).min(3)).min(5000) as f64;
    Duration::from_millis((base * rng.gen_range(0.5..1.5)) as u64)
}

async fn open(config: &WorkerConfig, spec: &ConnSpec, source: IpAddr) -> Result<Ws, ()> {
    let socket = TcpSocket::new_v4().map_err(|_| ())?;
    socket.bind(SocketAddr::new(source, 0)).map_err(|_| ())?;
    let stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(config.addr))
        .await
        .map_err(|_| ())?
        .map_err(|_| ())?;
    let _ = stream.set_nodelay(true);
    let url = match config.system {
        System::Studyhall => format!("ws://{}/ws", config.addr),
        System::Socketio => format!("ws://{}/socket.io/?EIO=4&transport=websocket", config.addr),
    };
    let mut request = url.into_client_request().map_err(|_| ())?;
    if config.system == System::Studyhall {
        let value = format!("Bearer {}", spec.token).parse().map_err(|_| ())?;
        request.headers_mut().insert("authorization", value);
    }
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(0);
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(15),
        tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config)),
    )
    .await
    .map_err(|_| ())?
    .map_err(|_| ())?;
    Ok(ws)
}

/// One connection's life. `Ok` if it was established (then closed), `Err` if it never got ready.
async fn session(
    index: usize,
    config: &WorkerConfig,
    spec: &ConnSpec,
    source: IpAddr,
    stats: &Shared,
    resume: &mut Resume,
) -> Result<(), ()> {
    let mut ws = open(config, spec, source).await?;
    stats.borrow_mut().open += 1;
    let result = match config.system {
        System::Studyhall => studyhall(index, &mut ws, spec, stats, resume).await,
        System::Socketio => socketio(index, &mut ws, spec, stats, resume).await,
    };
    stats.borrow_mut().open -= 1;
    result
}

/// The next text message; `None` once the connection is over (closed, broken or ended).
async fn next_text(ws: &mut Ws) -> Option<Utf8Bytes> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return Some(text),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn studyhall(
    index: usize,
    ws: &mut Ws,
    spec: &ConnSpec,
    stats: &Shared,
    resume: &mut Resume,
) -> Result<(), ()> {
    for (n, topic) in spec.topics.iter().enumerate() {
        let mut message =
            serde_json::json!({"type": "subscribe", "id": n.to_string(), "topic": topic});
        if let Some((epoch, offset)) = resume.cursors.get(topic) {
            message["since"] = serde_json::json!({"epoch": epoch, "offset": offset});
        }
        ws.send(Message::text(message.to_string()))
            .await
            .map_err(|_| ())?;
    }
    let mut acknowledged = 0;
    let mut established = false;
    while let Some(text) = next_text(ws).await {
        let text = text.as_str();
        if text.starts_with(r#"{"type":"event""#) {
            let (Some(topic), Some(epoch), Some(offset)) = (
                string_after(text, r#""topic":""#),
                string_after(text, r#""epoch":""#),
                number_after(text, r#""offset":"#),
            ) else {
                continue;
            };
            match resume.cursors.get_mut(topic) {
                Some(c) => {
                    if c.0 != epoch {
                        c.0 = epoch.to_string();
                    }
                    c.1 = offset as i64;
                }
                None => {
                    resume
                        .cursors
                        .insert(topic.to_string(), (epoch.to_string(), offset as i64));
                }
            }
            stats.borrow_mut().event(index, text, text);
        } else if text.starts_with(r#"{"type":"subscribed""#)
            || text.starts_with(r#"{"type":"reset""#)
        {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|_| ())?;
            let topic = value["topic"].as_str().unwrap_or_default().to_string();
            let epoch = value["epoch"].as_str().unwrap_or_default().to_string();
            let offset = value["offset"].as_i64().unwrap_or(0);
            if value["type"] == "reset" {
                stats.borrow_mut().resets += 1;
            }
            resume.cursors.insert(topic, (epoch, offset));
            acknowledged += 1;
            if acknowledged == spec.topics.len() {
                established = true;
                stats.borrow_mut().set_ready(index, true);
            }
        } else if text.starts_with(r#"{"type":"error""#) && !established {
            return Err(());
        }
    }
    if established {
        Ok(())
    } else {
        Err(())
    }
}

async fn socketio(
    index: usize,
    ws: &mut Ws,
    spec: &ConnSpec,
    stats: &Shared,
    resume: &mut Resume,
) -> Result<(), ()> {
    // Engine.IO open packet first.
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.starts_with('0') => {}
        _ => return Err(()),
    }
    let mut auth = serde_json::json!({"token": spec.token});
    if let (Some(pid), Some(offset)) = (&resume.pid, &resume.offset) {
        auth["pid"] = pid.clone().into();
        auth["offset"] = offset.clone().into();
    }
    ws.send(Message::text(format!("40{auth}")))
        .await
        .map_err(|_| ())?;
    let mut established = false;
    let mut acknowledged = 0;
    while let Some(text) = next_text(ws).await {
        let text = text.as_str();
        if text == "2" {
            ws.send(Message::text("3")).await.map_err(|_| ())?;
        } else if let Some(rest) = text.strip_prefix("42") {
            // ["announcement.created", {…}, "<offset>"]: the offset is the last element.
            if let Some(start) = rest.rfind(",\"") {
                let offset = rest[start + 2..]
                    .trim_end_matches(']')
                    .trim_end_matches('"');
                resume.offset = Some(offset.to_string());
            }
            stats.borrow_mut().event(index, text, rest);
        } else if let Some(rest) = text.strip_prefix("43") {
            if rest.contains(r#""ok":true"#) {
                acknowledged += 1;
                if acknowledged == spec.topics.len() {
                    established = true;
                    stats.borrow_mut().set_ready(index, true);
                }
            } else {
                return Err(());
            }
        } else if let Some(rest) = text.strip_prefix("40") {
            let value: serde_json::Value = serde_json::from_str(rest).map_err(|_| ())?;
            let pid = value["pid"].as_str().map(str::to_string);
            let recovered = pid.is_some() && pid == resume.pid;
            resume.pid = pid;
            if recovered {
                // The server put the socket back into its rooms and replayed what it missed.
                let mut s = stats.borrow_mut();
                s.recovered += 1;
                established = true;
                s.set_ready(index, true);
            } else {
                resume.offset = None;
                for (n, topic) in spec.topics.iter().enumerate() {
                    let frame = format!("42{n}{}", serde_json::json!(["subscribe", topic]));
                    ws.send(Message::text(frame)).await.map_err(|_| ())?;
                }
            }
        } else if text.starts_with("44") {
            return Err(());
        } else if text.starts_with("41") || text.starts_with('1') {
            break;
        }
    }
    if established {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::frame_bytes;

    #[test]
    fn a_frame_on_the_wire_is_its_payload_and_an_unmasked_header() {
        assert_eq!(frame_bytes(0), 2);
        assert_eq!(frame_bytes(125), 127, "7-bit length");
        assert_eq!(frame_bytes(126), 130, "16-bit extended length");
        assert_eq!(frame_bytes(65_535), 65_539);
        assert_eq!(frame_bytes(65_536), 65_546, "64-bit extended length");
    }
}
