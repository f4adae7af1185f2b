//! Scenario `cluster` (issue 20): each system as two processes behind nginx with Redis between them,
//! and, for the ratio, as one process behind the same nginx. Studyhall's nodes share a fresh
//! PostgreSQL database and publish their events over Redis pub/sub; the Socket.IO reference's two
//! processes use Socket.IO's own Redis adapter (`bench/socketio/server.js` with `REDIS_URL`).
//!
//! For each system: the fan-out scenario through nginx, one node, then two (the rate search, or two
//! fixed rates with `--quick`), every member keeping the sequence numbers it received so that what
//! never arrived and what arrived twice are counted; then, on the two nodes, the node-kill run: members
//! on their own stream and the announcements topic, an admin publishing 20 a second through nginx,
//! one node killed with SIGKILL mid-run. Clients reconnect through nginx to the node that is left:
//! Studyhall's resume from their cursors (the log is in PostgreSQL, so the survivor replays what they
//! missed, the events the dead node committed included), Socket.IO's start new sessions (its Redis
//! adapter keeps none to recover) and lose what was sent meanwhile. Server CPU is the sum over the node
//! processes; nginx's and Redis's are reported apart. A tap subscribed to every Redis channel measures
//! what crosses the bus per event.
//!
//! Everything it starts (redis-server, nginx, the nodes, the load processes) stops when the scenario
//! ends, on an error too (each is killed when its handle drops), and Studyhall's database is dropped.

use crate::client::{ConnSpec, System};
use crate::publisher::Publisher;
use crate::realtime::{self, config, Meters, Room, Sizes};
use crate::systems::{self, Identity, NodeRole, Paths, Server, SocketIo, Studyhall};
use crate::worker::{split, Error, Fleet};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The quick run's two rates (publishes a second), in place of the search.
const QUICK_RATES: [f64; 2] = [25.0, 200.0];
/// The node-kill run's publish rate, as the storm's.
const KILL_RATE: f64 = 20.0;

/// Scenario `cluster` for one system.
pub async fn cluster(system: System, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let mut sizes = sizes.clone();
    if !sizes.cluster_search {
        // Two fixed rates of a second each: the quick run only shows that everything works.
        sizes.step_secs = 1;
    }
    let started = Instant::now();
    let deployment = Deployment::new(system, paths).await?;
    let mut result = run(&deployment, paths, &sizes).await;
    deployment.clean_up().await;
    if let Ok(figures) = &mut result {
        figures["seconds"] = started.elapsed().as_secs().into();
    }
    result
}

async fn run(deployment: &Deployment, paths: &Paths, sizes: &Sizes) -> Result<Value, Error> {
    let system = deployment.system();
    let ids = deployment
        .identities(sizes.room.max(sizes.cluster_kill))
        .await?;
    let redis = Redis::start().await?;

    // One node behind nginx: the same workload, for the ratio.
    let node = deployment.node(None).await?;
    let nginx = Nginx::start(paths, &[node.addr]).await?;
    let one = fanout(system, &nginx, &[&node], None, &ids, sizes).await?;
    nginx.stop().await;
    node.stop().await;

    // Two nodes behind nginx, Redis between them.
    let first = deployment.node(Some((&redis, "bench-1"))).await?;
    let second = deployment.node(Some((&redis, "bench-2"))).await?;
    joined(system, &[&first, &second]).await?;
    let nginx = Nginx::start(paths, &[first.addr, second.addr]).await?;
    let two = fanout(
        system,
        &nginx,
        &[&first, &second],
        Some(&redis),
        &ids,
        sizes,
    )
    .await?;
    let kill = node_kill(system, &nginx, first, &ids, sizes).await?;
    if !systems::alive(second.pid) || !systems::alive(nginx.pid) {
        return Err("the node left after the kill, or nginx, stopped during the node kill".into());
    }
    nginx.stop().await;
    second.stop().await;
    redis.stop().await;

    let sum = |key: &str| {
        [&one, &two, &kill]
            .iter()
            .map(|v| v[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    Ok(json!({
        "events_lost": sum("events_lost"),
        "duplicates": sum("duplicates"),
        "one_node": one,
        "two_nodes": two,
        "node_kill": kill,
    }))
}

/// A system's processes, started as one node or as one of several.
enum Deployment {
    /// On a PostgreSQL database of its own, made here and dropped by [`Deployment::clean_up`].
    Studyhall(Studyhall, Database),
    SocketIo(SocketIo),
}

impl Deployment {
    async fn new(system: System, paths: &Paths) -> Result<Deployment, Error> {
        Ok(match system {
            System::Studyhall => {
                let database = Database::create().await?;
                match Studyhall::on_database(paths, &database.url) {
                    Ok(studyhall) => Deployment::Studyhall(studyhall, database),
                    Err(e) => {
                        database.drop().await;
                        return Err(e);
                    }
                }
            }
            System::Socketio => Deployment::SocketIo(SocketIo::new(paths)),
        })
    }

    fn system(&self) -> System {
        match self {
            Deployment::Studyhall(..) => System::Studyhall,
            Deployment::SocketIo(_) => System::Socketio,
        }
    }

    /// `students` users and an admin (the last one).
    async fn identities(&self, students: usize) -> Result<Vec<Identity>, Error> {
        match self {
            Deployment::Studyhall(s, _) => s.seed(students).await,
            Deployment::SocketIo(s) => Ok(s.identities(students)),
        }
    }

    /// A node: alone (`None`), or one of several joined through `redis` under the given name.
    async fn node(&self, cluster: Option<(&Redis, &str)>) -> Result<Server, Error> {
        let url = cluster.map(|(redis, _)| redis.url());
        match self {
            Deployment::Studyhall(s, _) => {
                let role = cluster.zip(url.as_deref()).map(|((_, id), url)| NodeRole {
                    redis_url: url,
                    node_id: id,
                });
                s.start_node(role).await
            }
            Deployment::SocketIo(s) => s.start_node(url.as_deref()).await,
        }
    }

    async fn clean_up(&self) {
        if let Deployment::Studyhall(_, database) = self {
            database.drop().await;
        }
    }
}

/// A PostgreSQL database of the run's own, on the server the chat scenario uses.
struct Database {
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Result<Database, Error> {
        let admin = systems::postgres_admin_url();
        let name = format!(
            "studyhall_bench_cluster_{}_{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let pool = sqlx::PgPool::connect(&admin).await.map_err(|e| {
            format!("the cluster scenario needs PostgreSQL at {admin} (STUDYHALL_TEST_PG_URL): {e}")
        })?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        // The same server and options, another database: postgres://…/postgres?x → postgres://…/name?x.
        let (path, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
        let base = path.rsplit_once('/').map_or(path, |(b, _)| b);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Ok(Database {
            url: format!("{base}/{name}{query}"),
            name,
        })
    }

    async fn drop(&self) {
        if let Ok(pool) = sqlx::PgPool::connect(&systems::postgres_admin_url()).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}

/// Studyhall's nodes find each other through Redis (`/healthz`: the bus subscribed, every other node
/// heard); the reference's processes connect to Redis before they listen.
async fn joined(system: System, nodes: &[&Server]) -> Result<(), Error> {
    if system != System::Studyhall {
        return Ok(());
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = true;
        for node in nodes {
            let health: Value = match client
                .get(format!("http://{}/healthz", node.addr))
                .send()
                .await
            {
                Ok(response) => response.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            let others = health["other_nodes"].as_array().map_or(0, Vec::len);
            if health["bus"] != "redis" || others + 1 < nodes.len() {
                all = false;
            }
        }
        if all {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err("the nodes did not hear each other through Redis within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The fan-out scenario through the proxy: `sizes.room` members on `announcements`, the admin
/// publishing through nginx. Members reconnect if a node drops them (Studyhall's resume from their
/// cursors), and keep every sequence number, so the figures also say what was lost or doubled.
async fn fanout(
    system: System,
    nginx: &Nginx,
    nodes: &[&Server],
    redis: Option<&Redis>,
    ids: &[Identity],
    sizes: &Sizes,
) -> Result<Value, Error> {
    let room = sizes.room;
    let conns = ids[..room]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec!["announcements".into()],
        })
        .collect();
    let mut members = config(system, nginx.addr, conns, true);
    members.read_buffer_bytes = 64 * 1024;
    let mut fleet = Fleet::spawn(split(&members, 2)).await?;
    let ready = fleet
        .wait_ready(room as u64, Duration::from_secs(120))
        .await?;
    if ready < room as u64 {
        return Err(format!("only {ready} of {room} members subscribed").into());
    }
    let publisher = Publisher::new(nginx.addr, &ids.last().ok_or("no admin")?.token);
    let meters = Meters {
        servers: nodes.iter().map(|n| n.pid).collect(),
        proxy: nginx.pids(),
        redis: redis.map(|r| vec![r.pid]).unwrap_or_default(),
    };
    let tap = match redis {
        Some(r) => Some(BusTap::start(r.port).await?),
        None => None,
    };
    let began = Instant::now();
    let fixed = (!sizes.cluster_search).then_some(&QUICK_RATES[..]);
    let mut room_run = Room::new(&mut fleet, &meters, &publisher, room as u64, true);
    let mut figures = room_run.run(sizes, fixed).await?;
    // A process that died under the load (or was stopped from outside) is a failure of the run,
    // not a figure.
    if let Some(dead) = nodes.iter().position(|n| !systems::alive(n.pid)) {
        return Err(format!(
            "node {} of {} stopped during the fan-out",
            dead + 1,
            nodes.len()
        )
        .into());
    }
    if !systems::alive(nginx.pid) {
        return Err("nginx stopped during the fan-out".into());
    }
    let losses = room_run.losses().await?;
    let elapsed = began.elapsed().as_secs_f64();
    let status = fleet.status().await?;
    fleet.quit().await;
    figures["nodes"] = nodes.len().into();
    figures["published"] = losses.published.into();
    figures["events_lost"] = losses.missing.into();
    figures["duplicates"] = losses.dupes.into();
    figures["reconnects"] = status["closed"].clone();
    if let Some(tap) = tap {
        figures["bus"] = tap.summary(losses.published, elapsed);
    }
    Ok(figures)
}

/// The node-kill run on two nodes: `victim` is killed with SIGKILL while the admin publishes; the
/// other node stays.
async fn node_kill(
    system: System,
    nginx: &Nginx,
    victim: Server,
    ids: &[Identity],
    sizes: &Sizes,
) -> Result<Value, Error> {
    let n = sizes.cluster_kill as u64;
    let conns = ids[..sizes.cluster_kill]
        .iter()
        .map(|i| ConnSpec {
            token: i.token.clone(),
            topics: vec![format!("user:{}", i.user_id), "announcements".into()],
        })
        .collect();
    let mut fleet = Fleet::spawn(split(
        &config(system, nginx.addr, conns, true),
        sizes.load_processes,
    ))
    .await?;
    if fleet.wait_ready(n, Duration::from_secs(120)).await? < n {
        return Err("not every connection subscribed before the node kill".into());
    }
    // A publish whose node dies before it answers is retried through nginx (to the other node) with
    // the same Idempotency-Key: Studyhall answers the first if it committed; the reference ignores it.
    let publisher = Publisher::new(nginx.addr, &ids.last().ok_or("no admin")?.token)
        .with_idempotency(&format!("bench-kill-{:08x}", rand::random::<u32>()));
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let publishing = AbortOnDrop(tokio::spawn(publisher.steady(
        KILL_RATE,
        stop.clone(),
        published.clone(),
    )));
    let (before, after) = sizes.cluster_kill_secs;
    tokio::time::sleep(Duration::from_secs(before)).await;
    let closed_before = fleet.status().await?["closed"].as_u64().unwrap_or(0);
    let before_kill = published.load(Ordering::Acquire);
    let killed = Instant::now();
    victim.kill().await;
    // While the admin goes on publishing: when every connection is subscribed again (once the cut
    // ones have noticed; a dead node's sockets close at once, and the first retry waits for its
    // back-off).
    let mut resubscribed_ms = None;
    while killed.elapsed() < Duration::from_secs(after) {
        let status = fleet.status().await?;
        let cut = status["closed"].as_u64().unwrap_or(0) > closed_before;
        if resubscribed_ms.is_none() && cut && status["ready"].as_u64().unwrap_or(0) >= n {
            resubscribed_ms = Some(killed.elapsed().as_millis() as u64);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Release);
    let retries = publishing.join().await.unwrap_or(0);
    let m = published.load(Ordering::Acquire);
    let recovery = realtime::recovery(&mut fleet, n, m, killed).await?;
    let resubscribed_ms = resubscribed_ms.or(recovery.resubscribed_ms);
    let status = fleet.status().await?;
    fleet.quit().await;
    Ok(json!({
        "connections": n,
        "connections_cut": status["closed"].as_u64().unwrap_or(0).saturating_sub(closed_before),
        "published_total": m,
        "published_before_kill": before_kill,
        "publish_retries": retries,
        "publishing_after_kill_ms": after * 1000,
        "resubscribed_ms": resubscribed_ms,
        "recovered_ms": recovery.recovered_ms,
        "connections_complete": recovery.complete,
        "events_lost": recovery.missing,
        "duplicates": status["dupes"],
        "resets": status["resets"],
        "sessions_recovered": status["recovered"],
    }))
}

/// A spawned task that ends when its handle is dropped (on an error path too).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A program on PATH or in the sbin folders (Debian puts nginx in /usr/sbin).
fn program(name: &str) -> Result<PathBuf, Error> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("{name} is not installed (scripts/bench.sh installs it with scripts/ensure-programs.sh)")
                .into()
        })
}

/// A free loopback port (bound, then let go: the process started next takes it).
fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until something listens on 127.0.0.1:`port`, failing if `child` exits first.
async fn wait_listening(port: u16, child: &mut Child, what: &str) -> Result<(), Error> {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("{what} exited ({status}) before it listened").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{what} did not listen on 127.0.0.1:{port} within 10 s").into())
}

fn signal(pid: u32, signal: i32) {
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

/// A redis-server of the run's own on a free loopback port, keeping nothing on disk; killed when
/// its handle drops.
pub struct Redis {
    child: Child,
    pub port: u16,
    pub pid: u32,
    _dir: tempfile::TempDir,
}

impl Redis {
    async fn start() -> Result<Redis, Error> {
        let dir = tempfile::Builder::new()
            .prefix("studyhall-bench-redis-")
            .tempdir()?;
        let port = free_port()?;
        let mut child = Command::new(program("redis-server")?)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        wait_listening(port, &mut child, "redis-server").await?;
        let pid = child.id().ok_or("no pid")?;
        Ok(Redis {
            child,
            port,
            pid,
            _dir: dir,
        })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn stop(mut self) {
        signal(self.pid, libc::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// nginx with deploy/nginx.conf.template rendered by deploy/render-nginx.sh for `nodes`, on a free
/// loopback port, from a prefix directory of its own; stopped when its handle drops.
pub struct Nginx {
    child: Child,
    pid: u32,
    workers: Vec<u32>,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    stopped: bool,
}

impl Nginx {
    async fn start(paths: &Paths, nodes: &[SocketAddr]) -> Result<Nginx, Error> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("studyhall-bench-nginx-")
            .tempdir()?;
        // Started as root, nginx's workers run as "nobody" and must be able to enter the prefix.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let rendered = std::process::Command::new("bash")
            .arg(&paths.render_nginx)
            .arg(&listen)
            .arg(dir.path())
            .args(nodes.iter().map(SocketAddr::to_string))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", paths.render_nginx.display()))?;
        if !rendered.status.success() {
            return Err(format!(
                "{} failed: {}",
                paths.render_nginx.display(),
                String::from_utf8_lossy(&rendered.stderr).trim()
            )
            .into());
        }
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, &rendered.stdout)?;
        let stderr = std::fs::File::create(dir.path().join("stderr.log"))?;
        let mut child = Command::new(program("nginx")?)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("no pid")?;
        if let Err(e) = wait_listening(port, &mut child, "nginx").await {
            let log =
                |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
            return Err(format!("{e}: {}{}", log("stderr.log"), log("error.log")).into());
        }
        // Its worker processes (the master's children), for their CPU time.
        let mut workers = Vec::new();
        for _ in 0..100 {
            workers = children_of(pid);
            if !workers.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Nginx {
            child,
            pid,
            workers,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            stopped: false,
        })
    }

    /// The master and its workers.
    fn pids(&self) -> Vec<u32> {
        std::iter::once(self.pid)
            .chain(self.workers.iter().copied())
            .collect()
    }

    /// Fast shutdown (SIGTERM: open connections are closed), then whatever is left is killed.
    async fn stop(mut self) {
        self.stopped = true;
        signal(self.pid, libc::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        self.kill_workers();
    }

    /// Workers of this master that outlived it (none, normally).
    fn kill_workers(&self) {
        for &worker in &self.workers {
            let comm = std::fs::read_to_string(format!("/proc/{worker}/comm")).unwrap_or_default();
            if comm.trim() == "nginx" {
                signal(worker, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        signal(self.pid, libc::SIGTERM);
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.start_kill();
        self.kill_workers();
        let _ = &self.dir;
    }
}

/// The processes whose parent is `pid` (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    // After the command name (which may hold spaces): state, then the parent's pid.
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// What crossed Redis pub/sub, counted by a connection subscribed to every channel (`PSUBSCRIBE *`).
#[derive(Default)]
struct TapCounts {
    /// Events: Studyhall's messages whose header says `"k":"event"`; the Socket.IO adapter's
    /// broadcasts (channel `socket.io#/#…`).
    events: u64,
    event_bytes: u64,
    /// Everything else: Studyhall's presence and heartbeats, the adapter's requests and responses.
    other: u64,
    other_bytes: u64,
    /// The other messages by kind (Studyhall's header `k`, the adapter's channel).
    other_kinds: std::collections::BTreeMap<String, u64>,
    sample: Option<(String, Vec<u8>)>,
}

struct BusTap {
    counts: Arc<Mutex<TapCounts>>,
    _task: AbortOnDrop<()>,
}

impl BusTap {
    async fn start(port: u16) -> Result<BusTap, Error> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let (read, mut write) = stream.into_split();
        write.write_all(b"PSUBSCRIBE *\r\n").await?;
        let mut reader = BufReader::new(read);
        let answer = read_array(&mut reader).await?;
        if answer.first().map(Vec::as_slice) != Some(b"psubscribe") {
            return Err("Redis did not confirm the tap's subscription".into());
        }
        let counts = Arc::new(Mutex::new(TapCounts::default()));
        let task = tokio::spawn({
            let counts = counts.clone();
            async move {
                let _write = write;
                while let Ok(parts) = read_array(&mut reader).await {
                    let [kind, _pattern, channel, payload] = &parts[..] else {
                        continue;
                    };
                    if kind != b"pmessage" {
                        continue;
                    }
                    let mut c = counts.lock().unwrap();
                    if is_event(channel, payload) {
                        c.events += 1;
                        c.event_bytes += payload.len() as u64;
                        if c.sample.is_none() {
                            c.sample = Some((
                                String::from_utf8_lossy(channel).into_owned(),
                                payload.clone(),
                            ));
                        }
                    } else {
                        c.other += 1;
                        c.other_bytes += payload.len() as u64;
                        *c.other_kinds.entry(kind_of(channel, payload)).or_default() += 1;
                    }
                }
            }
        });
        Ok(BusTap {
            counts,
            _task: AbortOnDrop(task),
        })
    }

    /// The counts over a run of `published` events lasting `secs`.
    fn summary(&self, published: u64, secs: f64) -> Value {
        let c = self.counts.lock().unwrap();
        let (channel, header, frame_bytes, payload_bytes) = match &c.sample {
            Some((channel, payload)) => {
                // Studyhall's envelope: a JSON header line, then the frame as the clients get it.
                let split = payload.iter().position(|b| *b == b'\n');
                let header = split
                    .filter(|_| payload.first() == Some(&b'{'))
                    .map(|at| String::from_utf8_lossy(&payload[..at]).into_owned());
                let frame = split
                    .filter(|_| header.is_some())
                    .map(|at| payload.len() - at - 1);
                (Some(channel.clone()), header, frame, Some(payload.len()))
            }
            None => (None, None, None, None),
        };
        json!({
            "event_messages": c.events,
            "messages_per_event": (c.events as f64 / published.max(1) as f64 * 100.0).round() / 100.0,
            "envelope_bytes": (c.event_bytes as f64 / c.events.max(1) as f64).round(),
            "other_messages_per_sec": (c.other as f64 / secs.max(0.001) * 10.0).round() / 10.0,
            "other_bytes_per_sec": (c.other_bytes as f64 / secs.max(0.001)).round(),
            "other_messages_by_kind": c.other_kinds,
            "sample_channel": channel,
            "sample_header": header,
            "sample_frame_bytes": frame_bytes,
            "sample_payload_bytes": payload_bytes,
        })
    }
}

fn is_event(channel: &[u8], payload: &[u8]) -> bool {
    let header = payload.split(|b| *b == b'\n').next().unwrap_or_default();
    let studyhall = header.starts_with(b"{")
        && header
            .windows(br#""k":"event""#.len())
            .any(|w| w == br#""k":"event""#);
    studyhall || channel.starts_with(b"socket.io#")
}

/// What a message that is not an event is: Studyhall's header names its kind and, for presence, the
/// update's (`presence:alive`, `presence:topic`, …); the adapter's channel says what it is.
fn kind_of(channel: &[u8], payload: &[u8]) -> String {
    let header = payload.split(|b| *b == b'\n').next().unwrap_or_default();
    match serde_json::from_slice::<Value>(header) {
        Ok(value) if value["k"].is_string() => match value["update"]["t"].as_str() {
            Some(update) => format!("{}:{update}", value["k"].as_str().unwrap_or_default()),
            None => value["k"].as_str().unwrap_or_default().to_string(),
        },
        _ => String::from_utf8_lossy(channel).into_owned(),
    }
}

/// One RESP2 array of bulk strings, integers or simple strings (what a subscriber is sent).
async fn read_array<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Vec<Vec<u8>>, Error> {
    async fn line<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<String, Error> {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err("Redis closed the tap's connection".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
    let head = line(reader).await?;
    let n: usize = head
        .strip_prefix('*')
        .ok_or_else(|| format!("not a RESP array: {head}"))?
        .parse()?;
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        let item = line(reader).await?;
        match item.as_bytes().first() {
            Some(b'$') => {
                let len: usize = item[1..].parse()?;
                let mut buf = vec![0; len + 2];
                reader.read_exact(&mut buf).await?;
                buf.truncate(len);
                parts.push(buf);
            }
            Some(b':' | b'+') => parts.push(item.as_bytes()[1..].to_vec()),
            _ => return Err(format!("unexpected RESP item: {item}").into()),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_published_message_is_read_as_redis_sends_it() {
        let wire = b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$15\r\nstudyhall-b:bus\r\n$29\r\n{\"n\":\"a\",\"k\":\"event\"}\n{\"x\":1}\r\n\
                     *3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n";
        let mut reader = BufReader::new(&wire[..]);
        let parts = read_array(&mut reader).await.unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], b"pmessage");
        assert_eq!(parts[3].len(), 29);
        assert!(is_event(&parts[2], &parts[3]));
        let parts = read_array(&mut reader).await.unwrap();
        assert_eq!(
            parts,
            vec![b"psubscribe".to_vec(), b"*".to_vec(), b"1".to_vec()]
        );
        assert!(
            read_array(&mut reader).await.is_err(),
            "the end of the stream"
        );
    }

    #[test]
    fn events_are_told_from_presence_and_the_adapters_requests() {
        assert!(!is_event(
            b"studyhall-bench:bus",
            b"{\"n\":\"a\",\"k\":\"presence\"}\n"
        ));
        assert!(is_event(b"socket.io#/#announcements#", b"\x93\xa6binary"));
        assert!(!is_event(b"socket.io-request#/#", b"{}"));
        let alive = br#"{"n":"a","k":"presence","seq":3,"update":{"t":"alive"}}"#;
        assert_eq!(
            kind_of(b"studyhall-bench:bus", &alive[..]),
            "presence:alive"
        );
        assert_eq!(
            kind_of(b"socket.io-request#/#", b"\x81"),
            "socket.io-request#/#"
        );
    }
}
