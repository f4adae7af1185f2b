//! The realtime scenarios, each run the same way against both systems: idle connections, fan-out to
//! a 1,000-member room, and a reconnect storm across a server restart.

use crate::client::{ConnSpec, System, WorkerConfig};
use crate::hist::Histogram;
use crate::publisher::Publisher;
use crate::systems::{Identity, Paths, Server, SocketIo, Studyhall};
use crate::worker::{split, Error, Fleet};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Sizes of a run; `quick` is for trying the harness, not for the report.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub idle_measure: usize,
    pub idle_max: usize,
    pub room: usize,
    pub storm: usize,
    pub step_secs: u64,
    pub latency_secs: u64,
    pub load_processes: usize,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            idle_measure: 10_000,
            idle_max: 19_500,
            room: 1_000,
            storm: 10_000,
            step_secs: 4,
            latency_secs: 10,
            load_processes: 4,
        }
    }

    pub fn quick() -> Sizes {
        Sizes {
            idle_measure: 1_000,
            idle_max: 2_000,
            room: 200,
            storm: 1_000,
            step_secs: 2,
            latency_secs: 3,
            load_processes: 2,
        }
    }
}

/// A system ready to start (and restart) with a set of users.
pub enum Deployment {
    Studyhall(Studyhall),
    SocketIo(SocketIo),
}

impl Deployment {
    pub fn new(system: System, paths: &Paths) -> Result<Deployment, Error> {
        Ok(match system {
            System::Studyhall => Deployment::Studyhall(Studyhall::new(paths)?),
            System::Socketio => Deployment::SocketIo(SocketIo::new(paths)),
        })
    }

    /// `students` users and an admin (the last one).
    pub async fn identities(&self, students: usize) -> Result<Vec<Identity>, Error> {
        match self {
            Deployment::Studyhall(s) => s.seed(students).await,
            Deployment::SocketIo(s) => Ok(s.identities(students)),
        }
    }

    pub async fn start(&self) -> Result<Server, Error> {
        match self {
            Deployment::Studyhall(s) => s.start(false).await,
            Deployment::SocketIo(s) => s.start().await,
        }
    }
}

/// 127.0.0.2 … 127.0.0.9: each source address has its own ephemeral ports.
pub fn sources() -> Vec<IpAddr> {
    (2..=9).map(|i| IpAddr::from([127, 0, 0, i])).collect()
}

fn config(system: System, server: &Server, conns: Vec<ConnSpec>, reconnect: bool) -> WorkerConfig {
    WorkerConfig {
        system,
        addr: server.addr,
        sources: sources(),
        conns,
        reconnect,
        connects_per_sec: 1_000,
        track_seqs: reconnect,
        read_buffer_bytes: 8 * 1024,
    }
}

fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// Scenario 1: authenticated connections, each subscribed to its own stream; memory per connection
/// at `idle_measure` and the most one process holds.
pub async fn idle(system: System, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let deployment = Deployment::new(system, paths)?;
    let ids = deployment.identities(sizes.idle_max).await?;
    let server = deployment.start().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = server.rss();
    let conns: Vec<ConnSpec> = ids[..sizes.idle_max]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec![format!("user:{}", i.user_id)],
        })
        .collect();
    let (first, rest) = conns.split_at(sizes.idle_measure);
    let started = Instant::now();
    let mut fleet = Fleet::spawn(split(
        &config(system, &server, first.to_vec(), false),
        sizes.load_processes,
    ))
    .await?;
    let ready_measure = fleet
        .wait_ready(first.len() as u64, Duration::from_secs(120))
        .await?;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_measure = server.rss();
    let mut more = Fleet::spawn(split(
        &config(system, &server, rest.to_vec(), false),
        sizes.load_processes,
    ))
    .await?;
    more.wait_ready(rest.len() as u64, Duration::from_secs(120))
        .await?;
    // Hold them a while: a connection counts only if it is still open and subscribed afterwards.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let held = fleet.status().await?["ready"].as_u64().unwrap_or(0)
        + more.status().await?["ready"].as_u64().unwrap_or(0);
    let rss_max = server.rss();
    fleet.quit().await;
    more.quit().await;
    server.stop().await;
    let per_conn = rss_measure.saturating_sub(base) as f64 / ready_measure.max(1) as f64;
    Ok(json!({
        "connections_measured": ready_measure,
        "connect_seconds": (connect_secs * 10.0).round() / 10.0,
        "rss_base_mib": mib(base),
        "rss_at_measure_mib": mib(rss_measure),
        "bytes_per_connection": per_conn.round(),
        "attempted_max": sizes.idle_max,
        "held": held,
        "rss_at_max_mib": mib(rss_max),
        "projected_100k_mib": mib(base + (per_conn * 100_000.0) as u64),
    }))
}

/// One fan-out step at `rate` publishes per second.
struct Step {
    rate: f64,
    published: u64,
    failed: u64,
    late_us: u64,
    delivered: u64,
    per_sec: f64,
    closed: u64,
    first: Histogram,
    second: Histogram,
}

impl Step {
    /// Sustained: every publish taken, none started more than 50 ms behind its schedule (with 256 in
    /// flight, a server that falls behind makes sends start late), every copy delivered, nobody
    /// dropped, median latency in the second half of the step within 1.5× (+5 ms) of the first
    /// half's (a queue that grows moves the median; a lone slow publish, such as a database
    /// checkpoint, only the tail) and p99 in the second half under 100 ms (socket buffers are queues
    /// too: they fill up to their size and then hold latency high without it rising further).
    fn sustained(&self, members: u64, secs: u64) -> bool {
        let scheduled = (self.rate * secs as f64).round() as u64;
        self.failed == 0
            && self.published >= scheduled
            && self.late_us <= 50_000
            && self.delivered >= self.published * members
            && self.closed == 0
            && self.second.quantile(0.5) * 2 <= self.first.quantile(0.5) * 3 + 10_000
            && self.second.quantile(0.99) <= 100_000
    }

    fn summary(&self) -> Value {
        let mut all = self.first.clone();
        all.merge(&self.second);
        json!({"rate": self.rate, "published": self.published, "failed": self.failed,
               "late_ms": self.late_us / 1000, "delivered": self.delivered, "delivered_per_sec": self.per_sec.round(),
               "closed": self.closed, "p50_first_half_us": self.first.quantile(0.5),
               "p50_second_half_us": self.second.quantile(0.5),
               "p99_second_half_us": self.second.quantile(0.99), "p50_us": all.quantile(0.5),
               "p95_us": all.quantile(0.95), "p99_us": all.quantile(0.99), "max_us": all.max()})
    }
}

async fn step(
    fleet: &mut Fleet,
    publisher: &Publisher,
    rate: f64,
    secs: u64,
    members: u64,
) -> Result<Step, Error> {
    let closed_before = fleet.status().await?["closed"].as_u64().unwrap_or(0);
    let start = crate::client::now_us();
    fleet
        .ask(&format!("step {start} {}", start + secs * 500_000))
        .await?;
    let (published, failed, late_us) = publisher
        .at_rate(rate, Duration::from_secs(secs), 256)
        .await;
    let drain_until = Instant::now() + Duration::from_secs(2);
    let mut delivered;
    loop {
        delivered = fleet.sum("status", "received").await?;
        if delivered >= published * members || Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut first = Histogram::default();
    let mut second = Histogram::default();
    for answer in fleet.ask("hist").await? {
        first.merge(&serde_json::from_value(answer["first"].clone())?);
        second.merge(&serde_json::from_value(answer["second"].clone())?);
    }
    let closed = fleet.status().await?["closed"].as_u64().unwrap_or(0) - closed_before;
    Ok(Step {
        rate,
        published,
        failed,
        late_us,
        delivered,
        per_sec: delivered as f64 / secs as f64,
        closed,
        first,
        second,
    })
}

/// Scenario 2: one room of `room` members and one publisher. Finds the highest publish rate that is
/// sustained (doubling, then bisecting), then measures latency at half of it.
pub async fn fanout(system: System, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let deployment = Deployment::new(system, paths)?;
    let ids = deployment.identities(sizes.room).await?;
    let server = deployment.start().await?;
    let conns = ids[..sizes.room]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec!["announcements".into()],
        })
        .collect();
    let mut members_config = config(system, &server, conns, false);
    members_config.read_buffer_bytes = 64 * 1024;
    let mut fleet = Fleet::spawn(split(&members_config, 2)).await?;
    let ready = fleet
        .wait_ready(sizes.room as u64, Duration::from_secs(60))
        .await?;
    if ready < sizes.room as u64 {
        return Err(format!("only {ready} of {} members subscribed", sizes.room).into());
    }
    let publisher = Publisher::new(server.addr, &ids.last().ok_or("no admin")?.token);
    let members = sizes.room as u64;
    let mut steps = Vec::new();
    let mut best: Option<Step> = None;
    let mut failing: Option<f64> = None;
    let mut rate = 25.0;
    while rate <= 50_000.0 {
        let s = step(&mut fleet, &publisher, rate, sizes.step_secs, members).await?;
        let ok = s.sustained(members, sizes.step_secs);
        steps.push(s.summary());
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !ok {
            failing = Some(rate);
            break;
        }
        best = Some(s);
        rate *= 2.0;
    }
    if let Some(mut hi) = failing {
        let mut lo = best.as_ref().map_or(0.0, |b| b.rate);
        for _ in 0..3 {
            let mid = ((lo + hi) / 2.0).round();
            if mid <= lo || mid >= hi {
                break;
            }
            let s = step(&mut fleet, &publisher, mid, sizes.step_secs, members).await?;
            let ok = s.sustained(members, sizes.step_secs);
            steps.push(s.summary());
            tokio::time::sleep(Duration::from_secs(1)).await;
            if ok {
                lo = mid;
                best = Some(s);
            } else {
                hi = mid;
            }
        }
    }
    let best = best.ok_or("not even the lowest rate was sustained")?;
    let half = (best.rate / 2.0).max(1.0);
    // The load generator shares the cores, so also report what each delivery costs the server itself.
    let cpu_before = server.cpu_us();
    let latency = step(&mut fleet, &publisher, half, sizes.latency_secs, members).await?;
    let cpu_used = server.cpu_us().saturating_sub(cpu_before);
    fleet.quit().await;
    server.stop().await;
    Ok(json!({
        "members": members,
        "sustained_publishes_per_sec": best.rate,
        "sustained_delivered_per_sec": best.per_sec.round(),
        "latency_at_half": latency.summary(),
        "server_cpu_seconds_at_half": cpu_used as f64 / 1e6,
        "server_cpu_us_per_delivery": ((cpu_used as f64 / latency.delivered.max(1) as f64) * 100.0).round() / 100.0,
        "steps": steps,
    }))
}

/// Scenario 3: `storm` connections on their own stream and the announcements room; the server is
/// restarted (SIGTERM, start again) while an admin keeps publishing. How long until everyone is back
/// and has everything, and what was lost.
pub async fn storm(system: System, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let deployment = Deployment::new(system, paths)?;
    let ids = deployment.identities(sizes.storm).await?;
    let mut server = deployment.start().await?;
    let n = sizes.storm as u64;
    let conns = ids[..sizes.storm]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec![format!("user:{}", i.user_id), "announcements".into()],
        })
        .collect();
    let mut fleet = Fleet::spawn(split(
        &config(system, &server, conns, true),
        sizes.load_processes,
    ))
    .await?;
    if fleet.wait_ready(n, Duration::from_secs(120)).await? < n {
        return Err("not every connection subscribed before the storm".into());
    }
    let publisher = Publisher::new(server.addr, &ids.last().ok_or("no admin")?.token);
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let publishing = tokio::spawn(
        publisher
            .clone()
            .steady(20.0, stop.clone(), published.clone()),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_restart = published.load(Ordering::Acquire);
    // The restart: the old process goes, a new one starts on the same address and data.
    let addr = server.addr;
    let killed = Instant::now();
    server.stop().await;
    server = restart_on(&deployment, addr).await?;
    let up = Instant::now();
    let restart_ms = (up - killed).as_millis() as u64;
    // Keep publishing while clients find their way back.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Release);
    let _ = publishing.await;
    let m = published.load(Ordering::Acquire);
    let limit = up + Duration::from_secs(60);
    let mut resubscribed_ms = None;
    let mut recovered_ms = None;
    let (mut complete, mut missing);
    loop {
        let ready = fleet.status().await?["ready"].as_u64().unwrap_or(0);
        if ready >= n && resubscribed_ms.is_none() {
            resubscribed_ms = Some(up.elapsed().as_millis() as u64);
        }
        let answers = fleet.ask(&format!("seqs {m}")).await?;
        complete = answers
            .iter()
            .map(|a| a["complete"].as_u64().unwrap_or(0))
            .sum::<u64>();
        missing = answers
            .iter()
            .map(|a| a["missing"].as_u64().unwrap_or(0))
            .sum::<u64>();
        if ready >= n && complete >= n {
            recovered_ms = Some(up.elapsed().as_millis() as u64);
            break;
        }
        // Everyone is back but some never got what they missed: it is not coming.
        if let Some(at) = resubscribed_ms {
            if up.elapsed().as_millis() as u64 > at + 5_000 {
                break;
            }
        }
        if Instant::now() >= limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = fleet.status().await?;
    fleet.quit().await;
    server.stop().await;
    Ok(json!({
        "connections": n,
        "published_total": m,
        "published_before_restart": before_restart,
        "restart_ms": restart_ms,
        "resubscribed_ms": resubscribed_ms,
        "recovered_ms": recovered_ms,
        "connections_complete": complete,
        "events_lost": missing,
        "duplicates": status["dupes"],
        "resets": status["resets"],
        "sessions_recovered": status["recovered"],
    }))
}

/// Starts the deployment again on the address its clients know.
async fn restart_on(deployment: &Deployment, addr: std::net::SocketAddr) -> Result<Server, Error> {
    match deployment {
        Deployment::Studyhall(s) => s.start_at(addr).await,
        Deployment::SocketIo(s) => s.start_at(addr).await,
    }
}
