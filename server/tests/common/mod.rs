//! Starts the real server on 127.0.0.1:0 against a test database, with an HTTP client that keeps
//! cookies and sends the site's Origin like a browser would.

#![allow(dead_code)]

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
    _data: tempfile::TempDir,
}

pub const PASSWORD: &str = "correct horse battery";

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
        let config = Config::from_source(&Source(move |name| vars.get(name).cloned())).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = studyhall_server::start(config, listener).await.unwrap();
        TestServer {
            base: format!("http://{}", server.addr),
            server: Some(server),
            db,
            _data: data,
        }
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
        studyhall::server::accounts::create_user(
            &self.db.db,
            email,
            email,
            PASSWORD,
            "UTC",
            role,
            None,
        )
        .await
        .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }
}

pub fn session_cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("studyhall_session="))
        .map(str::to_string)
}
