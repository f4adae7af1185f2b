//! The two systems under test, started and stopped by the harness: Studyhall's release server on a
//! fresh SQLite file (users and sessions seeded straight into the database, so no one waits for 20,000
//! argon2 hashes), and the Socket.IO reference in bench/socketio on the machine's Node.js. Also the
//! bare axum handler that is the SSR ceiling, and the process figures (RSS) the report uses.

use crate::worker::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use studyhall::accounts::sessions::{self, NewSession};
use studyhall::accounts::tokens::{Claims, TokenSigner};
use studyhall::accounts::users::{self, NewUser};
use studyhall::accounts::SessionKind;
use studyhall::model::Role;
use studyhall::server::db::Db;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where the harness finds what it runs.
#[derive(Debug, Clone)]
pub struct Paths {
    pub server_bin: PathBuf,
    pub site_root: PathBuf,
    pub socketio_dir: PathBuf,
    /// deploy/render-nginx.sh: the cluster scenario's nginx configuration, as production's.
    pub render_nginx: PathBuf,
}

/// A server process under test.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Server {
    /// Resident set size now, in bytes (from /proc).
    pub fn rss(&self) -> u64 {
        rss_of(self.pid)
    }

    pub fn cpu_us(&self) -> u64 {
        cpu_us_of(self.pid)
    }

    /// SIGKILL, as a crash or a lost machine would: nothing is flushed or said goodbye.
    pub async fn kill(mut self) {
        unsafe {
            libc::kill(self.pid as i32, libc::SIGKILL);
        }
        let _ = self.child.wait().await;
    }

    /// SIGTERM, as a deploy would; SIGKILL if it has not gone after 15 s.
    pub async fn stop(mut self) {
        unsafe {
            libc::kill(self.pid as i32, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Whether the process is still running (not gone, not a zombie waiting to be reaped).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s[s.rfind(')')? + 2..].chars().next())
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// CPU time (user + system) the process has used so far, in microseconds (from /proc).
pub fn cpu_us_of(pid: u32) -> u64 {
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start after the last ')'.
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some((user + system) * 1_000_000 / ticks_per_sec)
        })
        .unwrap_or(0)
}

pub fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Reads the child's stdout until a line contains `marker`, and returns what follows it.
async fn wait_for_line(child: &mut Child, marker: &str) -> Result<String, Error> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(pos) = line.find(marker) {
                return Ok::<_, Error>(Some(line[pos + marker.len()..].trim().to_string()));
            }
        }
        Ok(None)
    })
    .await
    .map_err(|_| "the server did not start within 60 s")??
    .ok_or("the server exited before it listened")?;
    // Keep draining so the child never blocks on a full pipe (and show it when asked to).
    let verbose = std::env::var_os("STUDYHALL_BENCH_VERBOSE").is_some();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if verbose {
                eprintln!("server: {line}");
            }
        }
    });
    Ok(found)
}

/// Users with signed-in sessions, in the form each system's client presents them.
pub struct Identity {
    pub user_id: i64,
    pub token: String,
}

/// One Studyhall deployment: its database and secret survive restarts.
pub struct Studyhall {
    dir: tempfile::TempDir,
    pub db_url: String,
    secret: String,
    paths: Paths,
}

/// What makes a Studyhall process one node of several: the Redis bus and its name.
pub struct NodeRole<'a> {
    pub redis_url: &'a str,
    pub node_id: &'a str,
}

/// The Redis prefix of the harness's cluster runs (each run has a Redis of its own anyway).
pub const REDIS_PREFIX: &str = "studyhall-bench";

impl Studyhall {
    /// On a fresh SQLite file (the one-process deployment).
    pub fn new(paths: &Paths) -> Result<Studyhall, Error> {
        let dir = tempfile::Builder::new()
            .prefix("studyhall-bench-")
            .tempdir()?;
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        Ok(Studyhall {
            dir,
            db_url,
            secret: random_secret(),
            paths: paths.clone(),
        })
    }

    /// On the database at `db_url` (PostgreSQL, for several nodes), made and dropped by the caller.
    pub fn on_database(paths: &Paths, db_url: &str) -> Result<Studyhall, Error> {
        let mut studyhall = Studyhall::new(paths)?;
        studyhall.db_url = db_url.to_string();
        Ok(studyhall)
    }

    /// Creates `students` students and one admin with day-long API sessions; returns their tokens
    /// (admin last).
    pub async fn seed(&self, students: usize) -> Result<Vec<Identity>, Error> {
        let db = Db::connect(&self.db_url, 1).await?;
        // One real hash, shared: nobody signs in with a password here.
        let hash = studyhall::accounts::password::hash_blocking("bench-password-not-used")
            .map_err(|e| format!("{e:?}"))?;
        let signer = TokenSigner::new(self.secret.as_bytes());
        let now = studyhall::server::now_ms();
        let day = 24 * 3600 * 1000;
        let mut out = Vec::with_capacity(students + 1);
        for i in 0..=students {
            let (email, role) = if i == students {
                ("bench-admin@studyhall.test".to_string(), Role::Admin)
            } else {
                (format!("bench{i}@studyhall.test"), Role::Student)
            };
            let name = format!("Bench {i}");
            let user = users::insert(
                &db,
                NewUser {
                    email: &email,
                    display_name: &name,
                    role,
                    time_zone: "UTC",
                    password_hash: &hash,
                    cohort_id: None,
                },
                now,
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            let session = sessions::create(
                &db,
                NewSession {
                    user_id: user.id,
                    kind: SessionKind::Api,
                    idle_ttl_ms: day,
                    max_ttl_ms: day,
                    user_agent: Some("studyhall-bench"),
                    ip: None,
                },
                now,
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            let token = signer.sign(&Claims {
                sub: user.id.to_string(),
                sid: session.id,
                kind: SessionKind::Api,
                iat: now / 1000,
                exp: (now + day) / 1000,
            });
            out.push(Identity {
                user_id: user.id,
                token,
            });
        }
        db.close().await;
        Ok(out)
    }

    pub async fn start(&self, demo_data: bool) -> Result<Server, Error> {
        self.launch(demo_data, "127.0.0.1:0".into(), None).await
    }

    /// One node of several on this deployment's (PostgreSQL) database, on an ephemeral port.
    pub async fn start_node(&self, role: Option<NodeRole<'_>>) -> Result<Server, Error> {
        self.launch(false, "127.0.0.1:0".into(), role).await
    }

    /// A channel of `members` made by the admin through the chat service, as the REST call would.
    pub async fn chat_room(&self, members: &[Identity]) -> Result<i64, Error> {
        use studyhall::server::realtime::{Hub, HubSettings, InProcessBus};
        let db = Db::connect(&self.db_url, 1).await?;
        let (user, _) = users::find_with_hash(&db, "bench-admin@studyhall.test")
            .await
            .map_err(|e| format!("{e:?}"))?
            .ok_or("no bench admin")?;
        let caller = studyhall::accounts::service::Caller {
            user,
            session_id: String::new(),
            session_handle: String::new(),
            kind: SessionKind::Api,
            token_expires_at: i64::MAX,
            scopes: None,
        };
        let hub = Hub::new(
            HubSettings::default(),
            std::sync::Arc::new(InProcessBus::default()),
        );
        let ids: Vec<i64> = members.iter().map(|m| m.user_id).collect();
        let room = studyhall::chat::service::create_channel(&db, &hub, &caller, "bench", "", &ids)
            .await
            .map_err(|e| format!("{e:?}"))?;
        db.close().await;
        Ok(room.room.id)
    }

    /// Starts again on the address the clients know (after a restart).
    pub async fn start_at(&self, addr: SocketAddr) -> Result<Server, Error> {
        self.launch(false, addr.to_string(), None).await
    }

    async fn launch(
        &self,
        demo_data: bool,
        listen: String,
        role: Option<NodeRole<'_>>,
    ) -> Result<Server, Error> {
        let mut command = Command::new(&self.paths.server_bin);
        if let Some(role) = role {
            command
                .env("STUDYHALL_REDIS_URL", role.redis_url)
                .env("STUDYHALL_REDIS_PREFIX", REDIS_PREFIX)
                .env("STUDYHALL_NODE_ID", role.node_id);
        }
        let mut child = command
            // Files (attachments) in the deployment's temporary directory; several nodes share it,
            // as production nodes must.
            .env("STUDYHALL_DATA_DIR", self.dir.path())
            .env("STUDYHALL_LISTEN", listen)
            .env("DATABASE_URL", &self.db_url)
            .env("STUDYHALL_SECRET", &self.secret)
            .env(
                "STUDYHALL_DEMO_DATA",
                if demo_data { "true" } else { "false" },
            )
            .env("STUDYHALL_SITE_ROOT", &self.paths.site_root)
            // The chat scenario's senders post far more than a person would.
            .env("STUDYHALL_CHAT_MESSAGES_PER_MINUTE", "10000000")
            .env("STUDYHALL_LOG", "warn,studyhall_server=info")
            .env("STUDYHALL_LOG_FORMAT", "text")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {} ({e}); build it first with `cargo leptos build --release`",
                    self.paths.server_bin.display()
                )
            })?;
        let addr = wait_for_line(&mut child, "listening on http://").await?;
        let pid = child.id().ok_or("no pid")?;
        Ok(Server {
            child,
            addr: addr.parse()?,
            pid,
        })
    }
}

/// Brings the site's brotli twins up to date before any server starts. Left to the server, they are
/// written in the background at start-up after every build, while the first scenario runs: that costs
/// the scenario a core, and the first-load figure comes from on-the-fly compression instead.
pub async fn precompress(paths: &Paths) -> Result<(), Error> {
    let status = Command::new(&paths.server_bin)
        .arg("precompress")
        .env("STUDYHALL_SITE_ROOT", &paths.site_root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| {
            format!(
                "cannot run {} precompress ({e})",
                paths.server_bin.display()
            )
        })?;
    if !status.success() {
        return Err(format!(
            "{} precompress failed ({status})",
            paths.server_bin.display()
        )
        .into());
    }
    Ok(())
}

/// The Socket.IO reference: its tokens are HS256 JWTs with `sub` and `role`, as its handshake expects.
pub struct SocketIo {
    secret: String,
    paths: Paths,
    /// For the chat scenario: the PostgreSQL database it stores messages in, and the room's members.
    chat: std::sync::Mutex<Option<(String, String, usize)>>,
}

/// Where the harness makes the reference's chat database: the test suite's PostgreSQL when it set
/// one, else the local server's.
pub fn postgres_admin_url() -> String {
    std::env::var("STUDYHALL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl SocketIo {
    pub fn new(paths: &Paths) -> SocketIo {
        SocketIo {
            secret: random_secret(),
            paths: paths.clone(),
            chat: std::sync::Mutex::new(None),
        }
    }

    /// A fresh PostgreSQL database for the reference's messages; the server makes its tables and
    /// room 1 of `members` when it starts.
    pub async fn chat_room(&self, members: &[Identity]) -> Result<i64, Error> {
        let admin = postgres_admin_url();
        let name = format!(
            "studyhall_bench_sio_{}_{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let pool = sqlx::PgPool::connect(&admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        *self.chat.lock().unwrap() = Some((url, name, members.len()));
        Ok(1)
    }

    /// Drops the chat database, if one was made.
    pub async fn clean_up(&self) {
        let Some((_, name, _)) = self.chat.lock().unwrap().take() else {
            return;
        };
        if let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }

    pub fn identities(&self, students: usize) -> Vec<Identity> {
        let exp = studyhall::server::now_ms() / 1000 + 24 * 3600;
        let key = jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes());
        (0..=students)
            .map(|i| {
                let role = if i == students { "admin" } else { "student" };
                let user_id = i as i64 + 1;
                let claims =
                    serde_json::json!({"sub": user_id.to_string(), "role": role, "exp": exp});
                let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)
                    .expect("HS256 signing cannot fail");
                Identity { user_id, token }
            })
            .collect()
    }

    pub async fn start(&self) -> Result<Server, Error> {
        self.launch(0, None).await
    }

    pub async fn start_at(&self, addr: SocketAddr) -> Result<Server, Error> {
        self.launch(addr.port(), None).await
    }

    /// One process of several sharing their broadcasts through the Redis at `redis_url` (Socket.IO's
    /// Redis adapter), or alone without it; on an ephemeral port.
    pub async fn start_node(&self, redis_url: Option<&str>) -> Result<Server, Error> {
        self.launch(0, redis_url).await
    }

    async fn launch(&self, port: u16, redis_url: Option<&str>) -> Result<Server, Error> {
        let dir = &self.paths.socketio_dir;
        if !dir.join("node_modules/socket.io").exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--silent"])
                .current_dir(dir)
                .status()
                .await?;
            if !status.success() {
                return Err("npm ci in bench/socketio failed".into());
            }
        }
        let mut command = Command::new("node");
        if let Some(url) = redis_url {
            command.env("REDIS_URL", url);
        }
        if let Some((url, _, members)) = self.chat.lock().unwrap().clone() {
            command
                .env("DATABASE_URL", url)
                .env("CHAT_MEMBERS", members.to_string());
        }
        let mut child = command
            .arg(dir.join("server.js"))
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("JWT_SECRET", &self.secret)
            .env("NODE_ENV", "production")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start node ({e})"))?;
        let port: u16 = wait_for_line(&mut child, "listening ").await?.parse()?;
        let pid = child.id().ok_or("no pid")?;
        Ok(Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            pid,
        })
    }
}

/// The SSR ceiling: this binary's own `bare` subcommand, an axum handler returning a short string.
pub async fn start_bare() -> Result<(Child, SocketAddr), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("bare")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let addr = wait_for_line(&mut child, "listening on http://").await?;
    Ok((child, addr.parse()?))
}

/// The `bare` subcommand.
pub fn bare_main() -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, world!" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    })
}

fn random_secret() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 48)
}

/// Raises this process's soft open-file limit to the hard one; children (servers, workers) inherit it.
pub fn raise_nofile() -> u64 {
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            return limit.rlim_cur;
        }
    }
    0
}
