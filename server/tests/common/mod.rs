//! Starts the real server on 127.0.0.1:0 against a test database, with an HTTP client that keeps
//! cookies and sends the site's Origin like a browser would.

#![allow(dead_code)]

pub mod cluster;

use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use reqwest::redirect::Policy;
use serde_json::Value;
use std::collections::HashMap;
use studyhall::testing::TestDb;
use studyhall_server::config::{Config, Source};
use studyhall_server::RunningServer;

pub struct TestServer {
    pub base: String,
    pub server: Option<RunningServer>,
    pub db: TestDb,
    vars: HashMap<String, String>,
    _data: tempfile::TempDir,
    /// With [`TWO_NODES`]: a second node on the same PostgreSQL database, joined through `redis`.
    second: Option<(RunningServer, String)>,
    redis: Option<cluster::Redis>,
    /// Which node the next [`TestServer::ws_url`] names.
    turn: std::sync::atomic::AtomicUsize,
}

tokio::task_local! {
    /// Set around a test body (see `one_and_two_nodes!` in tests/ws.rs): every `TestServer` it starts
    /// is two nodes with Redis between them, and its WebSocket clients alternate between the two.
    pub static TWO_NODES: bool;
}

pub const PASSWORD: &str = "correct horse battery";

/// See [`TestServer::chat_cast`].
pub struct ChatCast {
    pub cohort: i64,
    pub ana: studyhall::model::User,
    pub ben: studyhall::model::User,
}

impl TestServer {
    pub async fn start(db: TestDb) -> TestServer {
        Self::start_with(db, &[]).await
    }

    pub async fn start_with(db: TestDb, extra: &[(&str, &str)]) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let mut vars: HashMap<String, String> = [
            ("STUDYHALL_DATA_DIR", data.path().to_str().unwrap()),
            ("DATABASE_URL", db.url()),
            (
                "STUDYHALL_SECRET",
                "integration-test-secret-of-some-length!!",
            ),
            ("STUDYHALL_DEMO_DATA", "false"),
            ("STUDYHALL_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3"),
            ("STUDYHALL_LOGIN_MAX_FAILURES_PER_IP", "50"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let two_nodes = TWO_NODES.try_with(|on| *on).unwrap_or(false);
        let redis = if two_nodes {
            let redis = cluster::Redis::start().await;
            vars.insert("STUDYHALL_REDIS_URL".into(), redis.url());
            Some(redis)
        } else {
            None
        };
        let server = Self::boot(&vars).await;
        let second = match redis {
            Some(_) => {
                let node = Self::boot(&vars).await;
                let base = format!("http://{}", node.addr);
                Self::wait_joined(&[&server, &node]).await;
                Some((node, base))
            }
            None => None,
        };
        TestServer {
            base: format!("http://{}", server.addr),
            server: Some(server),
            db,
            vars,
            _data: data,
            second,
            redis,
            turn: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Waits until each node hears from the others (presence is replicated from then on).
    async fn wait_joined(nodes: &[&RunningServer]) {
        for _ in 0..200 {
            if nodes
                .iter()
                .all(|n| n.services.hub.other_nodes().len() == nodes.len() - 1)
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the test's nodes did not hear from each other within 5 s");
    }

    async fn boot(vars: &HashMap<String, String>) -> RunningServer {
        let vars = vars.clone();
        let config = Config::from_source(&Source(move |name| vars.get(name).cloned())).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        studyhall_server::start(config, listener).await.unwrap()
    }

    /// Stops this server and starts a new one on the same database (a new address).
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        let server = Self::boot(&self.vars).await;
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    pub fn services(&self) -> &studyhall::server::web::Services {
        &self.server.as_ref().expect("server running").services
    }

    /// The WebSocket URL: with two nodes, each call names the other node than the last.
    pub fn ws_url(&self) -> String {
        let base = match &self.second {
            Some((_, second))
                if self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2 == 1 =>
            {
                second
            }
            _ => &self.base,
        };
        format!("{}/ws", base.replacen("http://", "ws://", 1))
    }

    /// The first node's WebSocket URL, for a test about that one process (its shutdown).
    pub fn primary_ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: keeps cookies, sends this site's Origin, does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(&self.base).unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// A plain API client: no cookies, no Origin.
    pub fn api(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Registers a student through the same server function the registration page uses.
    pub async fn register(
        &self,
        client: &reqwest::Client,
        email: &str,
        name: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/session/register"))
            .header("accept", "application/json")
            .form(&[
                ("email", email),
                ("display_name", name),
                ("password", PASSWORD),
                ("time_zone", "Europe/Lisbon"),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/session/login"))
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// A bearer token from the JSON sign-in endpoint.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let res = self
            .api()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "token for {email}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a user with any role directly through the core service.
    pub async fn create_user(
        &self,
        email: &str,
        role: studyhall::model::Role,
    ) -> studyhall::model::User {
        create_user(&self.db.db, email, role).await
    }

    /// Sends one JSON request as `client` (a browser with its cookie, or anonymous); answers the
    /// status and the JSON body (`Null` when there is none).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = client
            .request(method, self.url(path))
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Asks each of `clients` (labelled by `who`, in order) the same request and compares their
    /// statuses with `want`, reporting every identity's answer when they differ.
    pub async fn matrix<const N: usize>(
        &self,
        who: &[&str; N],
        clients: &[reqwest::Client],
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        want: [u16; N],
    ) {
        let mut got = [0u16; N];
        for (i, c) in clients.iter().enumerate().take(N) {
            got[i] = self.call(c, method.clone(), path, body.clone()).await.0;
        }
        let report: Vec<String> = who
            .iter()
            .zip(got)
            .map(|(w, g)| format!("{w}: {g}"))
            .collect();
        assert_eq!(got, want, "{method} {path}: {}", report.join(", "));
    }

    /// Subscribes to `topic` as each `(email, allowed)` (password [`PASSWORD`]) and checks who is
    /// let in and who is refused with `forbidden`.
    pub async fn assert_topic_readers(&self, topic: &str, who: &[(&str, bool)]) {
        use studyhall::protocol::{ErrorCode, ServerMessage};
        for &(email, allowed) in who {
            let token = self.token(email, PASSWORD).await;
            let mut c = ws::connect(&self.ws_url(), &token).await;
            match c.subscribe(topic, None).await {
                ServerMessage::Subscribed { .. } => {
                    assert!(allowed, "{email} subscribed to {topic}")
                }
                ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    ..
                } => assert!(!allowed, "{email} refused {topic}"),
                other => panic!("{email} on {topic}: {other:?}"),
            }
        }
    }

    /// The chat tests' people: Ana and Ben, students in cohort "A"; Cy, a student of no cohort; Max,
    /// a mentor of nobody; Root, an admin (all with [`PASSWORD`], emails `name@example.com`).
    pub async fn chat_cast(&self) -> ChatCast {
        use studyhall::model::Role;
        let cohort = studyhall::accounts::cohorts::insert(&self.db.db, "A", 0)
            .await
            .unwrap()
            .id;
        let ana = self.create_user("ana@example.com", Role::Student).await;
        let ben = self.create_user("ben@example.com", Role::Student).await;
        self.create_user("cy@example.com", Role::Student).await;
        self.create_user("max@example.com", Role::Mentor).await;
        self.create_user("root@example.com", Role::Admin).await;
        for id in [ana.id, ben.id] {
            studyhall::accounts::users::set_cohort(&self.db.db, id, Some(cohort))
                .await
                .unwrap();
        }
        ChatCast { cohort, ana, ben }
    }

    /// An anonymous browser, then one signed in as each of `emails` (password [`PASSWORD`]).
    pub async fn browsers_for(&self, emails: &[&str]) -> Vec<reqwest::Client> {
        let mut clients = vec![self.browser()];
        for email in emails {
            let c = self.browser();
            assert_eq!(
                self.login(&c, email, PASSWORD).await.status(),
                200,
                "{email}"
            );
            clients.push(c);
        }
        clients
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        if let Some((server, _)) = self.second.take() {
            server.shutdown().await.unwrap();
        }
    }
}

/// A user with any role, named by their email, with [`PASSWORD`], created through the core service
/// (for a single server and for the cluster harness alike).
pub async fn create_user(
    db: &studyhall::server::db::Db,
    email: &str,
    role: studyhall::model::Role,
) -> studyhall::model::User {
    studyhall::accounts::service::create_user(db, email, email, PASSWORD, "UTC", role, None)
        .await
        .unwrap()
}

pub fn session_cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("studyhall_session="))
        .map(str::to_string)
}

pub mod ws {
    //! A WebSocket test client speaking the Studyhall protocol.

    use futures_util::{SinkExt, StreamExt};
    use std::time::Duration;
    use studyhall::protocol::{decode_server, ServerMessage};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message;

    pub type Stream = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    pub struct Client {
        pub stream: Stream,
    }

    pub enum Auth<'a> {
        Bearer(&'a str),
        /// A browser: the cookie and an Origin header.
        Cookie {
            cookie: &'a str,
            origin: &'a str,
        },
    }

    /// An upgrade the server accepts and then turns away: the close code, which must come before
    /// anything else (no welcome).
    pub async fn refused(url: &str, token: &str) -> u16 {
        try_connect(url, Auth::Bearer(token))
            .await
            .expect("upgrade accepted")
            .closed_at_once(Duration::from_secs(5))
            .await
    }

    /// Opens a connection; Err carries the HTTP status of a refused upgrade.
    pub async fn try_connect(url: &str, auth: Auth<'_>) -> Result<Client, u16> {
        let mut req = url.into_client_request().unwrap();
        match auth {
            Auth::Bearer(token) => {
                req.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
                );
            }
            Auth::Cookie { cookie, origin } => {
                req.headers_mut()
                    .insert("cookie", HeaderValue::from_str(cookie).unwrap());
                req.headers_mut()
                    .insert("origin", HeaderValue::from_str(origin).unwrap());
            }
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(Client { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
            Err(e) => panic!("connect failed: {e}"),
        }
    }

    /// Connects with a bearer token and reads the welcome.
    pub async fn connect(url: &str, token: &str) -> Client {
        let mut c = try_connect(url, Auth::Bearer(token))
            .await
            .expect("upgrade accepted");
        match c.recv().await {
            ServerMessage::Welcome { .. } => c,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    impl Client {
        pub async fn send(&mut self, value: serde_json::Value) {
            self.stream
                .send(Message::text(value.to_string()))
                .await
                .unwrap();
        }

        pub async fn send_text(&mut self, text: String) {
            self.stream.send(Message::text(text)).await.unwrap();
        }

        /// The next protocol message (pings are skipped), within 5 s.
        pub async fn recv(&mut self) -> ServerMessage {
            self.try_recv(Duration::from_secs(5))
                .await
                .expect("a message within 5 s")
        }

        /// The next protocol message within `wait`, or None.
        pub async fn try_recv(&mut self, wait: Duration) -> Option<ServerMessage> {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let next = tokio::time::timeout_at(deadline, self.stream.next())
                    .await
                    .ok()??;
                match next {
                    Ok(Message::Text(t)) => {
                        return Some(decode_server(t.as_str()).expect("valid server frame"))
                    }
                    Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                    Ok(Message::Close(frame)) => panic!("unexpected close {frame:?}"),
                    Ok(other) => panic!("unexpected frame {other:?}"),
                    Err(e) => panic!("socket error {e}"),
                }
            }
        }

        /// Reads for `wait` (answering pings, as every WebSocket library does) and counts the pings.
        pub async fn pings_within(&mut self, wait: Duration) -> usize {
            let deadline = tokio::time::Instant::now() + wait;
            let mut pings = 0;
            while let Ok(next) = tokio::time::timeout_at(deadline, self.stream.next()).await {
                match next {
                    Some(Ok(Message::Ping(_))) => pings += 1,
                    Some(Ok(Message::Close(frame))) => panic!("unexpected close {frame:?}"),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("socket error {e}"),
                    None => panic!("socket ended"),
                }
            }
            pings
        }

        /// The close code, if the server's first frame is a close (a refusal before any message).
        pub async fn closed_at_once(&mut self, wait: Duration) -> u16 {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => panic!("no close within {wait:?}"),
                Ok(Some(Ok(Message::Close(frame)))) => frame
                    .map(|f| u16::from(f.code))
                    .unwrap_or(u16::from(CloseCode::Status)),
                Ok(other) => panic!("expected a close first, got {other:?}"),
            }
        }

        /// Reads until the server closes; returns the close code (skipping any messages before it).
        pub async fn closed(&mut self, wait: Duration) -> u16 {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                match tokio::time::timeout_at(deadline, self.stream.next()).await {
                    Err(_) => panic!("no close within {wait:?}"),
                    Ok(None) => return 1006,
                    Ok(Some(Ok(Message::Close(frame)))) => {
                        return frame
                            .map(|f| u16::from(f.code))
                            .unwrap_or(u16::from(CloseCode::Status));
                    }
                    Ok(Some(Ok(_))) => continue,
                    Ok(Some(Err(_))) => return 1006,
                }
            }
        }

        pub async fn subscribe(
            &mut self,
            topic: &str,
            since: Option<(&str, i64)>,
        ) -> ServerMessage {
            let mut msg = serde_json::json!({"type": "subscribe", "id": topic, "topic": topic});
            if let Some((epoch, offset)) = since {
                msg["since"] = serde_json::json!({"epoch": epoch, "offset": offset});
            }
            self.send(msg).await;
            self.recv().await
        }
    }
}
