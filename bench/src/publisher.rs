//! The one publisher: an admin posting announcements over HTTP (`POST /api/v1/announcements` with a
//! bearer token) to both systems, or, for the chat scenario, a room's senders taking turns posting
//! messages (`POST /api/v1/rooms/{id}/messages`, each with its own token). Each body carries the time the request started (µs, taken just before
//! it is handed to the HTTP client) and a sequence number, so a delivery's latency is what any client
//! sees: from the publisher's request start to the receipt, the publish request's own time included.
//! The request's own time (start to the answer's status) is recorded too.

use crate::client::now_us;
use crate::hist::Histogram;
use crate::worker::Error;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What [`Publisher::at_rate`] did.
pub struct Published {
    pub ok: u64,
    pub failed: u64,
    pub late_us: u64,
    /// Each successful publish request's time, start to answer (µs).
    pub requests: Histogram,
    /// The sequence numbers of the publishes that failed (their event may or may not exist).
    pub failed_seqs: Vec<u64>,
}

#[derive(Clone)]
pub struct Publisher {
    client: reqwest::Client,
    url: String,
    /// One `Bearer …` per sender; publish `seq` goes as sender `seq % len`.
    auth: Arc<Vec<String>>,
    chat: bool,
    /// With a prefix, each publish sends `Idempotency-Key: {prefix}-{seq}`: a retry of a publish
    /// whose answer was lost (its node killed mid-request) is then not a second event.
    idempotency: Option<Arc<str>>,
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

impl Publisher {
    pub fn new(addr: SocketAddr, token: &str) -> Publisher {
        Publisher {
            client: http_client(),
            url: format!("http://{addr}/api/v1/announcements"),
            auth: Arc::new(vec![format!("Bearer {token}")]),
            chat: false,
            idempotency: None,
        }
    }

    /// Messages to chat room `room`, the `senders` taking turns.
    pub fn chat(addr: SocketAddr, room: i64, senders: &[String]) -> Publisher {
        Publisher {
            client: http_client(),
            url: format!("http://{addr}/api/v1/rooms/{room}/messages"),
            auth: Arc::new(senders.iter().map(|t| format!("Bearer {t}")).collect()),
            chat: true,
            idempotency: None,
        }
    }

    /// The same publisher, sending an `Idempotency-Key` made of `prefix` and the sequence number with
    /// each publish (Studyhall answers a repeat with the first answer; the reference ignores it).
    pub fn with_idempotency(mut self, prefix: &str) -> Publisher {
        self.idempotency = Some(Arc::from(prefix));
        self
    }

    /// Posts announcement (or message) `seq`; `Ok` holds how long the request took (µs).
    pub async fn post(&self, seq: u64) -> Result<u64, Error> {
        let started = now_us();
        let body = if self.chat {
            // The client id is unique across steps (each step counts from 1 again).
            serde_json::json!({
                "client_id": format!("b{started}-{seq}"),
                "body": format!("ts={started} seq={seq}"),
            })
        } else {
            serde_json::json!({
                "title": "Benchmark",
                "body": format!("ts={started} seq={seq}"),
            })
        };
        let auth = &self.auth[(seq as usize) % self.auth.len()];
        let mut request = self.client.post(&self.url).header("authorization", auth);
        if let Some(prefix) = &self.idempotency {
            request = request.header("idempotency-key", format!("{prefix}-{seq}"));
        }
        let response = request.json(&body).send().await?;
        if response.status().is_success() {
            Ok(now_us().saturating_sub(started))
        } else {
            Err(format!("publish answered {}", response.status()).into())
        }
    }

    /// Publishes at `rate` per second for `duration`, at most `in_flight` at a time; returns how many
    /// succeeded, how many failed, how late the latest send started against its schedule (µs: a
    /// server that cannot keep up holds every slot, and sends start late) and the requests' times.
    /// Sequence numbers count from `first_seq` (a run whose members keep track of them numbers its
    /// steps on from each other, so that every publish has a number of its own).
    pub async fn at_rate(
        &self,
        rate: f64,
        duration: Duration,
        in_flight: usize,
        first_seq: u64,
    ) -> Published {
        let start = Instant::now();
        let total = (rate * duration.as_secs_f64()).round() as u64;
        let next = Arc::new(AtomicU64::new(0));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let late = Arc::new(AtomicU64::new(0));
        let failed_seqs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let deadline = start + duration + Duration::from_secs(1);
        let tasks: Vec<_> = (0..in_flight)
            .map(|_| {
                let (me, next, ok, failed, late, failed_seqs) = (
                    self.clone(),
                    next.clone(),
                    ok.clone(),
                    failed.clone(),
                    late.clone(),
                    failed_seqs.clone(),
                );
                tokio::spawn(async move {
                    let mut times = Histogram::default();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= total {
                            return times;
                        }
                        let due = start + Duration::from_secs_f64(k as f64 / rate);
                        let seq = first_seq + k;
                        if Instant::now() > deadline {
                            failed.fetch_add(1, Ordering::Relaxed);
                            failed_seqs.lock().unwrap().push(seq);
                            continue;
                        }
                        tokio::time::sleep_until(due).await;
                        let behind = Instant::now().saturating_duration_since(due);
                        late.fetch_max(behind.as_micros() as u64, Ordering::Relaxed);
                        match me.post(seq).await {
                            Ok(us) => {
                                times.record(us);
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                                failed_seqs.lock().unwrap().push(seq);
                            }
                        }
                    }
                })
            })
            .collect();
        let mut requests = Histogram::default();
        for times in futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .flatten()
        {
            requests.merge(&times);
        }
        let failed_seqs = std::mem::take(&mut *failed_seqs.lock().unwrap());
        Published {
            ok: ok.load(Ordering::Relaxed),
            failed: failed.load(Ordering::Relaxed),
            late_us: late.load(Ordering::Relaxed),
            requests,
            failed_seqs,
        }
    }

    /// Publishes `per_sec` events a second with consecutive sequence numbers until `stop`, retrying
    /// each until the server takes it (the server may be restarting). `published` is the last taken.
    /// Returns how many attempts failed (and were retried).
    pub async fn steady(
        self,
        per_sec: f64,
        stop: Arc<AtomicBool>,
        published: Arc<AtomicU64>,
    ) -> u64 {
        let gap = Duration::from_secs_f64(1.0 / per_sec);
        let mut seq = 1;
        let mut retries = 0;
        while !stop.load(Ordering::Acquire) {
            let started = Instant::now();
            if self.post(seq).await.is_ok() {
                published.store(seq, Ordering::Release);
                seq += 1;
                tokio::time::sleep_until(started + gap).await;
            } else {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        retries
    }
}
