//! The realtime scenarios, each run the same way against both systems: idle connections, fan-out to
//! a 1,000-member room (announcements from one admin, or chat messages from 20 of its members, each
//! stored before it is delivered), and a reconnect storm across a server restart.

use crate::client::{ConnSpec, System, WorkerConfig};
use crate::hist::Histogram;
use crate::publisher::Publisher;
use crate::systems::{cpu_us_of, Identity, Paths, Server, SocketIo, Studyhall};
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
    /// The large room: one topic whose every publish reaches this many members.
    pub large_room: usize,
    pub storm: usize,
    pub step_secs: u64,
    pub latency_secs: u64,
    pub load_processes: usize,
    /// Cluster: connections through the proxy while one node is killed.
    pub cluster_kill: usize,
    /// Cluster: seconds of publishing before the kill and after it.
    pub cluster_kill_secs: (u64, u64),
    /// Cluster: the fan-out's rate search (false: two fixed rates, for a quick run).
    pub cluster_search: bool,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            idle_measure: 10_000,
            idle_max: 19_500,
            room: 1_000,
            large_room: 10_000,
            storm: 10_000,
            step_secs: 4,
            latency_secs: 10,
            load_processes: 4,
            cluster_kill: 2_000,
            cluster_kill_secs: (3, 3),
            cluster_search: true,
        }
    }

    pub fn quick() -> Sizes {
        Sizes {
            idle_measure: 1_000,
            idle_max: 2_000,
            room: 200,
            large_room: 1_000,
            storm: 1_000,
            step_secs: 2,
            latency_secs: 3,
            load_processes: 2,
            cluster_kill: 400,
            cluster_kill_secs: (1, 2),
            cluster_search: false,
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

    /// A chat room (a channel) whose members are `members`, made before the server starts; its id.
    /// The Socket.IO reference keeps its rooms in PostgreSQL, as the app it stands for does.
    pub async fn chat_room(&self, members: &[Identity]) -> Result<i64, Error> {
        match self {
            Deployment::Studyhall(s) => s.chat_room(members).await,
            Deployment::SocketIo(s) => s.chat_room(members).await,
        }
    }

    /// Removes what the deployment made outside its temporary directory (a PostgreSQL database).
    pub async fn clean_up(&self) {
        if let Deployment::SocketIo(s) = self {
            s.clean_up().await;
        }
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

/// Members connecting to `addr` (a server, or the proxy in front of several).
pub fn config(
    system: System,
    addr: std::net::SocketAddr,
    conns: Vec<ConnSpec>,
    reconnect: bool,
) -> WorkerConfig {
    WorkerConfig {
        system,
        addr,
        sources: sources(),
        conns,
        reconnect,
        connects_per_sec: 1_000,
        track_seqs: reconnect,
        read_buffer_bytes: 8 * 1024,
        max_connecting: MAX_CONNECTING,
    }
}

/// Connections each load process sets up at once (first tries only; reconnects are not bounded). An
/// unbounded burst piled up thousands of upgrades in flight on Studyhall (each holding its HTTP
/// buffers, middleware and session look-up), whose freed memory the allocator then kept: that was
/// counted as idle memory, though no client with a bounded pool would ever cause it.
const MAX_CONNECTING: usize = 32;

/// Waits until the server process has used at most one clock tick of CPU in half a second (its
/// set-up work and the allocator's delayed purge are over), for at most `limit`: RSS is read from a
/// quiet process, as an outside observer reading `ps` after the connections are up would.
async fn quiet(server: &Server, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let before = server.cpu_us();
        tokio::time::sleep(Duration::from_millis(500)).await;
        if server.cpu_us().saturating_sub(before) < 20_000 || Instant::now() >= deadline {
            return;
        }
    }
}

fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// Scenario 1: authenticated connections, each subscribed to its own stream; memory per connection
/// at `idle_measure` and the most one process holds. Memory is what an outside client would count:
/// the server process's RSS growth over its quiet state before the first connection, divided by the
/// connections, read once the process is quiet again; connections are set up at most
/// [`MAX_CONNECTING`] at a time per load process.
pub async fn idle(system: System, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let deployment = Deployment::new(system, paths)?;
    let ids = deployment.identities(sizes.idle_max).await?;
    let server = deployment.start().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    quiet(&server, Duration::from_secs(10)).await;
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
        &config(system, server.addr, first.to_vec(), false),
        sizes.load_processes,
    ))
    .await?;
    let ready_measure = fleet
        .wait_ready(first.len() as u64, Duration::from_secs(120))
        .await?;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    quiet(&server, Duration::from_secs(15)).await;
    let rss_measure = server.rss();
    let mut more = Fleet::spawn(split(
        &config(system, server.addr, rest.to_vec(), false),
        sizes.load_processes,
    ))
    .await?;
    more.wait_ready(rest.len() as u64, Duration::from_secs(120))
        .await?;
    // Hold them a while: a connection counts only if it is still open and subscribed afterwards.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let held = fleet.status().await?["ready"].as_u64().unwrap_or(0)
        + more.status().await?["ready"].as_u64().unwrap_or(0);
    quiet(&server, Duration::from_secs(15)).await;
    let rss_max = server.rss();
    fleet.quit().await;
    more.quit().await;
    server.stop().await;
    let per_conn = rss_measure.saturating_sub(base) as f64 / ready_measure.max(1) as f64;
    let beyond = rss_max.saturating_sub(rss_measure) as f64
        / held.saturating_sub(ready_measure).max(1) as f64;
    Ok(json!({
        "connections_measured": ready_measure,
        "max_connecting": MAX_CONNECTING * sizes.load_processes,
        "bytes_per_connection_beyond_measure": beyond.round(),
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

/// Where a step's CPU time is read: the server processes (summed: the nodes of a cluster), and in
/// front of and between them the proxy's and Redis's processes, each reported apart.
#[derive(Debug, Clone, Default)]
pub struct Meters {
    pub servers: Vec<u32>,
    pub proxy: Vec<u32>,
    pub redis: Vec<u32>,
}

impl Meters {
    /// One server process alone.
    pub fn server(server: &Server) -> Meters {
        Meters {
            servers: vec![server.pid],
            ..Meters::default()
        }
    }

    /// CPU time so far (µs): the servers', the proxy's and Redis's.
    fn read(&self) -> [u64; 3] {
        let sum = |pids: &[u32]| pids.iter().map(|p| cpu_us_of(*p)).sum::<u64>();
        [sum(&self.servers), sum(&self.proxy), sum(&self.redis)]
    }
}

/// One fan-out step at `rate` publishes per second.
#[derive(Clone)]
struct Step {
    rate: f64,
    published: u64,
    failed: u64,
    late_us: u64,
    delivered: u64,
    /// Deliveries per second of the step's wall time, from its start until every copy had arrived
    /// (or the 2 s drain ran out): what the system delivered, whatever the latency.
    per_sec: f64,
    closed: u64,
    /// Every delivery's latency: from the publisher's request start to the receipt.
    latency: Histogram,
    /// The publish requests' own times (start to answer).
    requests: Histogram,
    frame_bytes: u64,
    server_cpu_us: u64,
    /// Behind a proxy: its CPU time over the step, and Redis's (`None` when not measured).
    proxy_cpu_us: Option<u64>,
    redis_cpu_us: Option<u64>,
}

impl Step {
    /// The rate-search rule (docs/BENCHMARKS.md, "Fan-out: the rate search"): a rate is sustained when,
    /// over the whole step, every publish was answered with success, none started more than 50 ms
    /// behind its schedule, every copy reached every member by the end of the drain, no member was
    /// dropped, and the p99 of delivery latency (the publisher's request start to the receipt) was
    /// under 100 ms.
    fn sustained(&self, members: u64, secs: u64) -> bool {
        let scheduled = (self.rate * secs as f64).round() as u64;
        self.failed == 0
            && self.published >= scheduled
            && self.late_us <= 50_000
            && self.delivered >= self.published * members
            && self.closed == 0
            && self.latency.quantile(0.99) < 100_000
    }

    fn frame_bytes_per_delivery(&self) -> f64 {
        (self.frame_bytes as f64 / self.delivered.max(1) as f64).round()
    }

    fn per_delivery(&self, cpu_us: u64) -> f64 {
        (cpu_us as f64 / self.delivered.max(1) as f64 * 100.0).round() / 100.0
    }

    fn cpu_us_per_delivery(&self) -> f64 {
        self.per_delivery(self.server_cpu_us)
    }

    fn summary(&self, members: u64, secs: u64) -> Value {
        let l = &self.latency;
        let mut summary = json!({"rate": self.rate, "sustained": self.sustained(members, secs),
               "published": self.published, "failed": self.failed,
               "late_ms": self.late_us / 1000, "delivered": self.delivered, "delivered_per_sec": self.per_sec.round(),
               "closed": self.closed, "p50_us": l.quantile(0.5), "p95_us": l.quantile(0.95),
               "p99_us": l.quantile(0.99), "max_us": l.max(),
               "publish_p50_us": self.requests.quantile(0.5), "publish_p99_us": self.requests.quantile(0.99),
               "frame_bytes_per_delivery": self.frame_bytes_per_delivery(),
               "server_cpu_us_per_delivery": self.cpu_us_per_delivery()});
        if let Some(us) = self.proxy_cpu_us {
            summary["proxy_cpu_us_per_delivery"] = self.per_delivery(us).into();
        }
        if let Some(us) = self.redis_cpu_us {
            summary["redis_cpu_us_per_delivery"] = self.per_delivery(us).into();
        }
        summary
    }
}

/// A room's members (a fleet of load processes) and its publisher, stepped through publish rates.
pub struct Room<'a> {
    pub fleet: &'a mut Fleet,
    pub meters: &'a Meters,
    pub publisher: &'a Publisher,
    pub members: u64,
    /// The members keep every sequence number they receive (`track_seqs`): the publisher then numbers
    /// publishes across steps, each step waits (up to 30 s) for its last copies before the next one
    /// starts, and [`Room::losses`] counts what never arrived and what arrived twice.
    tracked: bool,
    next_seq: u64,
    failed_seqs: Vec<u64>,
}

/// What a room lost and doubled over all its steps.
pub struct Losses {
    /// Copies of successful publishes that some member never received (sum over members).
    pub missing: u64,
    /// Copies a member received more than once.
    pub dupes: u64,
    /// Publishes in all.
    pub published: u64,
}

impl<'a> Room<'a> {
    pub fn new(
        fleet: &'a mut Fleet,
        meters: &'a Meters,
        publisher: &'a Publisher,
        members: u64,
        tracked: bool,
    ) -> Room<'a> {
        Room {
            fleet,
            meters,
            publisher,
            members,
            tracked,
            next_seq: 1,
            failed_seqs: Vec::new(),
        }
    }

    async fn step(&mut self, rate: f64, secs: u64) -> Result<Step, Error> {
        let members = self.members;
        let closed_before = self.fleet.status().await?["closed"].as_u64().unwrap_or(0);
        let cpu_before = self.meters.read();
        let began = Instant::now();
        let start = crate::client::now_us();
        self.fleet
            .ask(&format!("step {start} {}", start + secs * 500_000))
            .await?;
        // Untracked steps number from 1 each time (as the report's frames always have).
        let first_seq = if self.tracked { self.next_seq } else { 1 };
        let published = self
            .publisher
            .at_rate(rate, Duration::from_secs(secs), 256, first_seq)
            .await;
        if self.tracked {
            self.next_seq += (rate * secs as f64).round() as u64;
            self.failed_seqs.extend(&published.failed_seqs);
        }
        let drain_until = Instant::now() + Duration::from_secs(2);
        let mut delivered;
        loop {
            delivered = self.fleet.sum("status", "received").await?;
            if delivered >= published.ok * members || Instant::now() >= drain_until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let elapsed = began.elapsed().as_secs_f64();
        let cpu_after = self.meters.read();
        let used = |i: usize| cpu_after[i].saturating_sub(cpu_before[i]);
        let mut latency = Histogram::default();
        let mut frame_bytes = 0;
        for answer in self.fleet.ask("hist").await? {
            latency.merge(&serde_json::from_value(answer["first"].clone())?);
            latency.merge(&serde_json::from_value(answer["second"].clone())?);
            frame_bytes += answer["frame_bytes"].as_u64().unwrap_or(0);
        }
        let closed = self.fleet.status().await?["closed"].as_u64().unwrap_or(0) - closed_before;
        if self.tracked {
            // The last copies of a saturated step, before the next step counts its own: not timed,
            // only so that nothing of this step lands in the next one.
            let limit = Instant::now() + Duration::from_secs(30);
            while self.fleet.sum("status", "received").await? < published.ok * members
                && Instant::now() < limit
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(Step {
            rate,
            published: published.ok,
            failed: published.failed,
            late_us: published.late_us,
            delivered,
            per_sec: delivered as f64 / elapsed,
            closed,
            latency,
            requests: published.requests,
            frame_bytes,
            server_cpu_us: used(0),
            proxy_cpu_us: (!self.meters.proxy.is_empty()).then(|| used(1)),
            redis_cpu_us: (!self.meters.redis.is_empty()).then(|| used(2)),
        })
    }

    /// What never arrived and what arrived twice, over every step so far (tracked rooms only).
    pub async fn losses(&mut self) -> Result<Losses, Error> {
        let last = self.next_seq - 1;
        let excluded = self
            .failed_seqs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let answers = self.fleet.ask(&format!("seqs {last} {excluded}")).await?;
        Ok(Losses {
            missing: answers
                .iter()
                .map(|a| a["missing"].as_u64().unwrap_or(0))
                .sum(),
            dupes: answers
                .iter()
                .map(|a| a["dupes"].as_u64().unwrap_or(0))
                .sum(),
            published: last - self.failed_seqs.len() as u64,
        })
    }

    /// The rate search of the fan-out scenario, or with `fixed` rates a fixed plan (a short warm-up,
    /// then each rate once; the first rate's step is also the latency run). Returns the search's
    /// steps and the latency run.
    async fn search(
        &mut self,
        sizes: &Sizes,
        fixed: Option<&[f64]>,
    ) -> Result<(Search, Step), Error> {
        let members = self.members;
        let secs = sizes.step_secs;
        let mut search = Search::default();
        // 25 publishes a second for rooms up to 1,000; a larger room starts as many deliveries a second
        // lower (2.5 a second for 10,000), so the doubling does not begin past the knee.
        let mut rate: f64 = (25_000.0 / members as f64).clamp(1.0, 25.0);
        if let Some(rates) = fixed {
            let first = *rates.first().ok_or("no rate to step through")?;
            self.step(first, 1).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut latency = None;
            for &rate in rates {
                let s = self.step(rate, secs).await?;
                latency.get_or_insert_with(|| s.clone());
                search.record(s, members, secs);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            return Ok((search, latency.ok_or("no step ran")?));
        }
        // A warm-up step, not counted: the first step on a fresh server also pays for cold caches, the
        // publisher's connection pool and the allocator growing, and judged it would end the doubling
        // early (25 a second failed cold where 24 passed warm, and 50 then delivered twice as much).
        self.step(rate, 3).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        while rate <= 50_000.0 {
            let s = self.step(rate, secs).await?;
            let ok = search.record(s, members, secs);
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !ok {
                break;
            }
            rate *= 2.0;
        }
        let first_fail = search.failed_at;
        if let Some(first_fail) = first_fail {
            let mut hi = first_fail;
            let mut lo = search.best.as_ref().map_or(0.0, |b| b.rate);
            for _ in 0..6 {
                let mid = ((lo + hi) / 2.0).round();
                if mid <= lo || mid >= hi || (lo > 0.0 && hi / lo <= 1.05) {
                    break;
                }
                let s = self.step(mid, secs).await?;
                if search.record(s, members, secs) {
                    lo = mid;
                } else {
                    hi = mid;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            // Past the knee: what the system delivers when offered more than it sustains.
            let s = self.step(first_fail * 2.0, secs).await?;
            search.record(s, members, secs);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        // When no rate met the rule (a room so large that one publish's fan-out alone takes longer than
        // the p99 bound on this machine), latency is measured at the lowest rate the search tried.
        let lowest = search
            .steps
            .iter()
            .filter_map(|s| s["rate"].as_f64())
            .fold(f64::INFINITY, f64::min);
        let half = match &search.best {
            Some(best) => (best.rate / 2.0).max(1.0),
            None => lowest.max(1.0),
        };
        let latency = self.step(half, sizes.latency_secs).await?;
        Ok((search, latency))
    }

    /// The search's figures as the report has them for every fan-out.
    pub async fn run(&mut self, sizes: &Sizes, fixed: Option<&[f64]>) -> Result<Value, Error> {
        let members = self.members;
        let secs = sizes.step_secs;
        let (search, latency) = self.search(sizes, fixed).await?;
        let Search {
            steps,
            best,
            saturation,
            ..
        } = search;
        let saturation = saturation.ok_or("no step ran")?;
        let frame = sample_frame(&mut *self.fleet).await?;
        let latency_secs = if fixed.is_some() {
            secs
        } else {
            sizes.latency_secs
        };
        let latency_summary = latency.summary(members, latency_secs);
        Ok(json!({
            "members": members,
            "sustained_publishes_per_sec": best.as_ref().map(|b| b.rate),
            "sustained_delivered_per_sec": best.as_ref().map(|b| (b.rate * members as f64).round()),
            "sustained": best.as_ref().map(|b| b.summary(members, secs)),
            "saturation_delivered_per_sec": saturation.per_sec.round(),
            "saturation": saturation.summary(members, secs),
            "latency_at_half": latency_summary,
            "server_cpu_seconds_at_half": latency.server_cpu_us as f64 / 1e6,
            "server_cpu_us_per_delivery": latency.cpu_us_per_delivery(),
            "frame_bytes_per_delivery": latency.frame_bytes_per_delivery(),
            "frame_sample": frame,
            "frame_sample_payload_bytes": frame.as_str().map(str::len),
            "steps": steps,
        }))
    }
}

/// The first event frame any member received, exactly as it came (a WebSocket text payload).
async fn sample_frame(fleet: &mut Fleet) -> Result<Value, Error> {
    Ok(fleet
        .ask("hist")
        .await?
        .into_iter()
        .map(|a| a["sample"].clone())
        .find(|s| s.is_string())
        .unwrap_or(Value::Null))
}

/// What a fan-out publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// An admin's announcements to everyone following `announcements`.
    Announcements,
    /// Messages to one chat room of every member, from [`CHAT_SENDERS`] of them in turn.
    Chat,
}

/// Members of the chat room who send.
pub const CHAT_SENDERS: usize = 20;

/// Scenario 2: one room of `room` members and one publisher. Finds the highest publish rate that is
/// sustained (doubling from 25 a second, then bisecting until the bounds are within 5 %), pushes one
/// step past it (twice the first rate that failed) so that the highest delivery rate of any step is
/// the system's saturation, then measures latency at half the sustained rate.
pub async fn fanout(
    system: System,
    paths: &Paths,
    sizes: &Sizes,
    room: usize,
    workload: Workload,
) -> Result<Value, Error> {
    let deployment = Deployment::new(system, paths)?;
    let ids = deployment.identities(room).await?;
    let (topic, chat_room) = match workload {
        Workload::Announcements => ("announcements".to_string(), None),
        Workload::Chat => {
            let id = deployment.chat_room(&ids[..room]).await?;
            (format!("room:{id}"), Some(id))
        }
    };
    let server = deployment.start().await?;
    let conns = ids[..room]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec![topic.clone()],
        })
        .collect();
    let mut members_config = config(system, server.addr, conns, false);
    members_config.read_buffer_bytes = 64 * 1024;
    let mut fleet = Fleet::spawn(split(&members_config, 2)).await?;
    let ready = fleet
        .wait_ready(room as u64, Duration::from_secs(120))
        .await?;
    if ready < room as u64 {
        return Err(format!("only {ready} of {room} members subscribed").into());
    }
    let publisher = match chat_room {
        None => Publisher::new(server.addr, &ids.last().ok_or("no admin")?.token),
        Some(id) => {
            let senders: Vec<String> = ids[..CHAT_SENDERS.min(room)]
                .iter()
                .map(|i| i.token.clone())
                .collect();
            Publisher::chat(server.addr, id, &senders)
        }
    };
    let meters = Meters::server(&server);
    let figures = Room::new(&mut fleet, &meters, &publisher, room as u64, false)
        .run(sizes, None)
        .await?;
    fleet.quit().await;
    server.stop().await;
    deployment.clean_up().await;
    Ok(figures)
}

/// The steps of a rate search so far.
#[derive(Default)]
struct Search {
    steps: Vec<Value>,
    /// The highest sustained step.
    best: Option<Step>,
    /// The step that delivered the most per second, sustained or not.
    saturation: Option<Step>,
    /// The first rate that was not sustained.
    failed_at: Option<f64>,
}

impl Search {
    /// Keeps a step's figures; whether it was sustained.
    fn record(&mut self, s: Step, members: u64, secs: u64) -> bool {
        self.steps.push(s.summary(members, secs));
        let ok = s.sustained(members, secs);
        if ok && self.best.as_ref().is_none_or(|b| s.rate > b.rate) {
            self.best = Some(s.clone());
        }
        if !ok && self.failed_at.is_none() {
            self.failed_at = Some(s.rate);
        }
        if self
            .saturation
            .as_ref()
            .is_none_or(|b| s.per_sec > b.per_sec)
        {
            self.saturation = Some(s);
        }
        ok
    }
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
        &config(system, server.addr, conns, true),
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
    let Recovery {
        resubscribed_ms,
        recovered_ms,
        complete,
        missing,
    } = recovery(&mut fleet, n, m, up).await?;
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

/// How a fleet of reconnecting, sequence-tracking connections came back after a disruption.
pub struct Recovery {
    /// From `since` until every connection was subscribed again (ms).
    pub resubscribed_ms: Option<u64>,
    /// From `since` until every connection also had every event 1..=m (ms).
    pub recovered_ms: Option<u64>,
    /// Connections that have every event.
    pub complete: u64,
    /// Events missing, summed over the connections.
    pub missing: u64,
}

/// Waits until all `n` connections are subscribed and have every event 1..=m, for at most 60 s
/// from `since`, or 5 s after everyone is back (what has not come by then is not coming).
pub async fn recovery(
    fleet: &mut Fleet,
    n: u64,
    m: u64,
    since: Instant,
) -> Result<Recovery, Error> {
    let limit = since + Duration::from_secs(60);
    let mut resubscribed_ms = None;
    let mut recovered_ms = None;
    let (mut complete, mut missing);
    loop {
        let ready = fleet.status().await?["ready"].as_u64().unwrap_or(0);
        if ready >= n && resubscribed_ms.is_none() {
            resubscribed_ms = Some(since.elapsed().as_millis() as u64);
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
            recovered_ms = Some(since.elapsed().as_millis() as u64);
            break;
        }
        // Everyone is back but some never got what they missed: it is not coming.
        if let Some(at) = resubscribed_ms {
            if since.elapsed().as_millis() as u64 > at + 5_000 {
                break;
            }
        }
        if Instant::now() >= limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Recovery {
        resubscribed_ms,
        recovered_ms,
        complete,
        missing,
    })
}

/// Starts the deployment again on the address its clients know.
async fn restart_on(deployment: &Deployment, addr: std::net::SocketAddr) -> Result<Server, Error> {
    match deployment {
        Deployment::Studyhall(s) => s.start_at(addr).await,
        Deployment::SocketIo(s) => s.start_at(addr).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(latencies_us: &[u64]) -> Step {
        let mut latency = Histogram::default();
        for l in latencies_us {
            latency.record(*l);
        }
        Step {
            rate: 10.0,
            published: 40,
            failed: 0,
            late_us: 0,
            delivered: 400,
            per_sec: 100.0,
            closed: 0,
            latency,
            requests: Histogram::default(),
            frame_bytes: 400 * 250,
            server_cpu_us: 4_000,
            proxy_cpu_us: None,
            redis_cpu_us: None,
        }
    }

    #[test]
    fn a_step_is_sustained_only_if_the_whole_steps_p99_is_under_100_ms() {
        let fast = vec![10_000; 400];
        assert!(step(&fast).sustained(10, 4));
        // A slow start (the old rule looked at the second half only, and passed this).
        let mut slow_start = vec![150_000; 8];
        slow_start.extend(vec![10_000; 392]);
        assert!(!step(&slow_start).sustained(10, 4), "2 % over 100 ms");
        let mut lost = step(&fast);
        lost.delivered -= 1;
        assert!(!lost.sustained(10, 4), "every copy must arrive");
        let mut behind = step(&fast);
        behind.late_us = 60_000;
        assert!(!behind.sustained(10, 4), "publishes must start on schedule");
    }

    #[test]
    fn saturation_is_the_most_delivered_in_any_step_and_best_the_highest_sustained() {
        let mut search = Search::default();
        let mut a = step(&[10_000; 400]);
        a.per_sec = 100.0;
        let mut b = step(&[200_000; 400]);
        b.rate = 20.0;
        b.per_sec = 150.0;
        let mut c = step(&[10_000; 400]);
        c.rate = 15.0;
        c.per_sec = 120.0;
        // Everything a 15-a-second step schedules in 4 s, and every copy.
        c.published = 60;
        c.delivered = 600;
        assert!(search.record(a, 10, 4));
        assert!(!search.record(b, 10, 4));
        assert!(search.record(c, 10, 4));
        assert_eq!(search.best.as_ref().map(|s| s.rate), Some(15.0));
        assert_eq!(search.failed_at, Some(20.0));
        assert_eq!(search.saturation.as_ref().map(|s| s.per_sec), Some(150.0));
        assert_eq!(search.steps.len(), 3);
        assert_eq!(step(&[1]).frame_bytes_per_delivery(), 250.0);
        assert_eq!(step(&[1]).cpu_us_per_delivery(), 10.0);
    }
}
