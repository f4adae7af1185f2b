//! Several real server processes on one PostgreSQL database with their own Redis, all on loopback:
//! started from the built binary (so a node can be killed with SIGKILL), each on a free port, torn
//! down when the test ends.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use studyhall::testing::TestDb;

/// A free loopback port (bound, then let go: the process started next takes it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Finds a program on PATH or in the sbin folders (Debian puts nginx in /usr/sbin).
pub fn program(name: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("{name} is not installed (scripts/test.sh installs it)"))
}

async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not listen on {port} within 10 s");
}

/// A redis-server of the test's own.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Redis {
    pub async fn start() -> Redis {
        let mut redis = Redis {
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.launch().await;
        redis
    }

    async fn launch(&mut self) {
        let child = Command::new(program("redis-server"))
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server").await;
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: nothing it held survives; it keeps nothing on disk anyway).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn start_again(&mut self) {
        self.kill();
        self.launch().await;
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server process.
pub struct Node {
    pub port: u16,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Node {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    pub fn alive(&self) -> bool {
        self.child.is_some()
    }
}

/// Several nodes on one PostgreSQL database and one Redis.
pub struct Cluster {
    pub db: TestDb,
    pub redis: Redis,
    pub nodes: Vec<Node>,
    data: tempfile::TempDir,
    extra: Vec<(String, String)>,
    http: reqwest::Client,
}

pub const SECRET: &str = "cluster-test-secret-of-some-length!!!!";

impl Cluster {
    /// Starts `n` nodes (with `extra` settings) and waits until each answers `/healthz`.
    pub async fn start(n: usize, extra: &[(&str, &str)]) -> Cluster {
        let mut cluster = Cluster {
            db: TestDb::postgres().await,
            redis: Redis::start().await,
            nodes: Vec::new(),
            data: tempfile::tempdir().unwrap(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            http: reqwest::Client::new(),
        };
        for _ in 0..n {
            cluster.add_node().await;
        }
        cluster
    }

    /// Starts one more node; returns its index.
    pub async fn add_node(&mut self) -> usize {
        let i = self.nodes.len();
        let port = free_port();
        let dir = self.data.path().join(format!("node{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_studyhall-server"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.db.url())
            .env("STUDYHALL_REDIS_URL", self.redis.url())
            .env("STUDYHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("STUDYHALL_SECRET", SECRET)
            .env("STUDYHALL_DEMO_DATA", "false")
            .env("STUDYHALL_DATA_DIR", &dir)
            .env("STUDYHALL_NODE_ID", format!("node-{i}"))
            .env("STUDYHALL_LOG", "info,sqlx=warn")
            .env("STUDYHALL_LOGIN_MAX_FAILURES_PER_IP", "1000")
            .current_dir(&dir)
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start studyhall-server");
        self.nodes.push(Node {
            port,
            child: Some(child),
            log,
        });
        self.wait_healthy(i).await;
        i
    }

    async fn wait_healthy(&self, i: usize) {
        for _ in 0..300 {
            if let Ok(res) = self.http.get(self.url(i, "/healthz")).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "node {i} did not become healthy within 15 s:\n{}",
            std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
        );
    }

    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{}", self.nodes[i].base(), path)
    }

    pub fn ws_url(&self, i: usize) -> String {
        self.nodes[i].ws_url()
    }

    /// SIGKILL: the node gets no chance to say goodbye.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `/healthz` of node `i`.
    pub async fn health(&self, i: usize) -> serde_json::Value {
        self.http
            .get(self.url(i, "/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until every live node hears from every other live node (presence and the bus are up).
    pub async fn wait_connected(&self) {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].alive())
            .collect();
        for _ in 0..200 {
            let mut ok = true;
            for &i in &live {
                let h = self.health(i).await;
                let others = h["other_nodes"].as_array().map_or(0, Vec::len);
                ok &= h["bus"] == "redis" && others == live.len() - 1;
            }
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the nodes did not all hear from each other within 10 s");
    }

    /// A bearer token for `email` from node `i`.
    pub async fn token(&self, i: usize, email: &str) -> String {
        let res = self
            .http
            .post(self.url(i, "/api/v1/auth/token"))
            .json(&serde_json::json!({ "email": email, "password": super::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "token for {email}");
        res.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_user(
        &self,
        email: &str,
        role: studyhall::model::Role,
    ) -> studyhall::model::User {
        super::create_user(&self.db.db, email, role).await
    }

    /// Sends a JSON request to node `i` as the bearer of `token`: status and body.
    pub async fn call(
        &self,
        i: usize,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .http
            .request(method, self.url(i, path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// nginx in front of the cluster's nodes, configured from `deploy/nginx.conf.template` (rendered
/// by `deploy/render-nginx.sh`, as `scripts/cluster.sh` does), in a prefix of the test's own.
pub struct Nginx {
    pub port: u16,
    child: Child,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    pub async fn start(nodes: &[&Node]) -> Nginx {
        let prefix = tempfile::tempdir().unwrap();
        // The workers run as nobody when started as root: the prefix must be searchable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(prefix.path(), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let port = free_port();
        let render = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/render-nginx.sh");
        let rendered = Command::new("bash")
            .arg(render)
            .arg(format!("127.0.0.1:{port}"))
            .arg(prefix.path())
            .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)))
            .output()
            .expect("render the nginx configuration");
        assert!(
            rendered.status.success(),
            "{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let conf = prefix.path().join("nginx.conf");
        std::fs::write(&conf, rendered.stdout).unwrap();
        let child = Command::new(program("nginx"))
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        wait_for_port(port, "nginx").await;
        Nginx {
            port,
            child,
            _prefix: prefix,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}

impl Drop for Nginx {
    /// SIGTERM to the master, which takes its workers down with it (after a SIGKILL the workers
    /// would live on, still answering on the port).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
