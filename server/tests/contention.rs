//! The server under contention and at shutdown (issue 24, items 15 and 16). A large retention run
//! beside page reads, WebSocket upgrades and a burst of writes fails none of them; a shutdown under
//! load never queries a closed pool. Every warning and error the server logs is captured (one
//! subscriber for this test binary) and must stay empty.

mod common;

use common::{session_cookie_of, TestServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use studyhall::both_backends;
use studyhall::model::Millis;
use studyhall::protocol::{decode_server, KpiModule, ServerMessage, Topic};
use studyhall::server::db::Db;
use studyhall::server::now_ms;
use studyhall::testing::TestDb;
use studyhall_server::jobs::{self, JobSettings};
use tokio_tungstenite::tungstenite::Message;

mod logs {
    //! Every warning and error logged in this test binary, from any thread or task.
    use std::sync::{Mutex, OnceLock};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::Layer;

    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;
    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let meta = event.metadata();
            let mut line = Line(format!("{} {}:", meta.level(), meta.target()));
            event.record(&mut line);
            eprintln!("captured: {}", line.0);
            // sqlx's note that a statement took over a second says how loaded this 2-core machine
            // is (a test build may be running beside it), not that anything failed.
            if meta.target() == "sqlx::query" && line.0.contains("slow statement") {
                return;
            }
            SEEN.lock().unwrap().push(line.0);
        }
    }

    pub fn install() {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            let subscriber =
                tracing_subscriber::registry().with(Capture.with_filter(LevelFilter::WARN));
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        });
    }

    pub fn seen() -> Vec<String> {
        SEEN.lock().unwrap().clone()
    }
}

const DAY_MS: Millis = 24 * 3600 * 1000;

/// Appends `count` events of `at` to `topic`'s log in one transaction (the row lock on the log keeps
/// the server's own appends to the topic in order with these).
async fn fill(db: &Db, topic: &str, count: i64, at: Millis) {
    let mut tx = db.begin().await.unwrap();
    studyhall::with_tx!(&mut tx, conn => {
        let head: i64 = sqlx::query_scalar(
            "INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, 'filled', $2, $3) \
             ON CONFLICT (topic) DO UPDATE SET head = topic_logs.head + $2 RETURNING head")
            .bind(topic).bind(count).bind(at).fetch_one(&mut *conn).await.unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
             INSERT INTO events (topic, seq, event, data, created_at) \
             SELECT $1, $3 + i, 'filler', '{}', $4 FROM n")
            .bind(topic).bind(count).bind(head - count).bind(at)
            .execute(&mut *conn).await.unwrap();
    });
    tx.commit().await.unwrap();
}

async fn count_events(db: &Db, topic: &str) -> (i64, Option<i64>) {
    studyhall::with_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*), MIN(seq) FROM events WHERE topic = $1")
        .bind(topic).fetch_one(pool).await.unwrap())
}

/// A signed-in student: a browser client with its cookie, the bare cookie, and a bearer token.
async fn student(t: &TestServer, email: &str) -> (reqwest::Client, String, String) {
    let browser = t.browser();
    let res = t.register(&browser, email, email).await;
    assert!(
        res.status().is_success(),
        "register {email}: {}",
        res.status()
    );
    let cookie = session_cookie_of(&res).expect("session cookie");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let token = t.token(email, common::PASSWORD).await;
    (browser, cookie, token)
}

/// Opens a WebSocket as a browser would (cookie and Origin); Err says why it was not welcomed.
async fn open_socket(t: &TestServer, cookie: &str) -> Result<common::ws::Client, String> {
    let auth = common::ws::Auth::Cookie {
        cookie,
        origin: &t.base,
    };
    let mut client = common::ws::try_connect(&t.ws_url(), auth)
        .await
        .map_err(|status| format!("upgrade answered {status}"))?;
    match client.try_recv(Duration::from_secs(10)).await {
        Some(ServerMessage::Welcome { .. }) => Ok(client),
        other => Err(format!("expected a welcome, got {other:?}")),
    }
}

/// Runs `op` in a loop until `stop`, recording each failure, and counting the ones started while
/// `busy` was set.
fn keep_doing<F, Fut>(
    stop: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
    overlapped: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    op: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        while !stop.load(Ordering::Acquire) {
            let during = busy.load(Ordering::Acquire);
            if let Err(e) = op().await {
                failures.lock().unwrap().push(e);
                return;
            }
            if during {
                overlapped.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}

fn today() -> String {
    studyhall::learning::analytics::format_day(studyhall::learning::analytics::local_day(
        "Europe/Lisbon",
        now_ms(),
    ))
}

both_backends!(
    a_large_retention_run_fails_no_read_upgrade_or_write,
    |db: TestDb| async move {
        logs::install();
        let t = TestServer::start_with(
            db,
            &[
                // Every read and upgrade of a session not seen for a second writes its touch.
                ("STUDYHALL_SESSION_TOUCH_INTERVAL", "1s"),
                ("STUDYHALL_JOBS_INTERVAL", "24h"),
            ],
        )
        .await;
        let db = t.services().accounts.db().clone();
        let now = now_ms();
        // 51,000 events: a busy log with 30,000 events past the age limit before 5,000 recent ones
        // (the shape that kept the single DELETE busy for minutes), one over the count limit, and
        // 200 small logs that all go.
        let figures = Topic::Kpi(KpiModule::System).to_string();
        fill(&db, &figures, 30_000, now - 60 * DAY_MS).await;
        fill(&db, &figures, 5_000, now - 60_000).await;
        fill(&db, "announcements", 12_000, now - 60_000).await;
        for k in 0..200 {
            fill(&db, &format!("user:{}", 100_000 + k), 20, now - 40 * DAY_MS).await;
        }

        let stop = Arc::new(AtomicBool::new(false));
        let busy = Arc::new(AtomicBool::new(true));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let (reads, upgrades, writes) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let t = Arc::new(t);
        let mut load = Vec::new();
        for n in 0..3 {
            let (browser, cookie, token) = student(&t, &format!("load{n}@example.com")).await;
            let (tt, browser) = (t.clone(), browser.clone());
            load.push(keep_doing(
                stop.clone(),
                busy.clone(),
                reads.clone(),
                failures.clone(),
                move || {
                    let (t, browser) = (tt.clone(), browser.clone());
                    async move {
                        for path in ["/", "/activity"] {
                            let res = browser
                                .get(t.url(path))
                                .send()
                                .await
                                .map_err(|e| e.to_string())?;
                            if res.status() != 200 {
                                return Err(format!("GET {path} answered {}", res.status()));
                            }
                        }
                        Ok(())
                    }
                },
            ));
            let tt = t.clone();
            load.push(keep_doing(
                stop.clone(),
                busy.clone(),
                upgrades.clone(),
                failures.clone(),
                move || {
                    let (t, cookie) = (tt.clone(), cookie.clone());
                    async move { open_socket(&t, &cookie).await.map(|_| ()) }
                },
            ));
            let (tt, api) = (t.clone(), t.api());
            load.push(keep_doing(
                stop.clone(),
                busy.clone(),
                writes.clone(),
                failures.clone(),
                move || {
                    let (t, api, token) = (tt.clone(), api.clone(), token.clone());
                    async move {
                        let body = json!({"day": today(), "minutes": 25, "topic": "Load"});
                        let res = api
                            .post(t.url("/api/v1/learning/sessions"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        if res.status() != 201 {
                            return Err(format!("POST a session answered {}", res.status()));
                        }
                        Ok(())
                    }
                },
            ));
        }

        let settings = JobSettings {
            every: Duration::from_secs(3600),
            throttle_window_ms: 3_600_000,
            events_per_topic: 10_000,
            event_max_age_ms: 30 * DAY_MS,
        };
        let started = Instant::now();
        let retention = {
            let t = t.clone();
            tokio::spawn(async move { jobs::run_once(t.services(), &settings, &|| true).await })
        };
        // Bounded: with the old single statement this is where SQLite's lock made writers give up.
        let finished = tokio::time::timeout(Duration::from_secs(45), retention).await;
        let took = started.elapsed();
        busy.store(false, Ordering::Release);
        stop.store(true, Ordering::Release);
        for task in load {
            task.await.unwrap();
        }
        eprintln!(
            "retention took {took:?}, beside {} page pairs, {} upgrades, {} writes",
            reads.load(Ordering::Relaxed),
            upgrades.load(Ordering::Relaxed),
            writes.load(Ordering::Relaxed),
        );
        let failures = failures.lock().unwrap().clone();
        assert!(failures.is_empty(), "failed under retention: {failures:?}");
        assert!(finished.is_ok(), "retention still running after {took:?}");
        for (what, n) in [
            ("page reads", &reads),
            ("upgrades", &upgrades),
            ("writes", &writes),
        ] {
            assert!(
                n.load(Ordering::Relaxed) > 0,
                "no {what} ran beside the retention run"
            );
        }
        // It deleted what it had to: the old prefix of the busy log, the count overflow, the small logs.
        // The server's own figures job writes to the busy log too (at start-up, maybe before the
        // fill, and every two seconds), so its offsets are not fixed: count by age and by kind.
        let figures_left = |condition: String| {
            let (db, figures) = (db.clone(), figures.clone());
            async move {
                let sql = format!("SELECT COUNT(*) FROM events WHERE topic = $1 AND {condition}");
                let n: i64 = studyhall::with_db!(&db, pool => sqlx::query_scalar(&sql)
                    .bind(&figures).fetch_one(pool).await.unwrap());
                n
            }
        };
        let cutoff = now - 30 * DAY_MS;
        let too_old = figures_left(format!("created_at < {cutoff}")).await;
        assert_eq!(too_old, 0, "none past the age limit is left");
        let fillers = figures_left("event = 'filler'".into()).await;
        assert_eq!(fillers, 5_000, "every recent one is kept");
        let (left, _) = count_events(&db, &figures).await;
        assert!((5_000..=5_100).contains(&left), "{left} left");
        assert_eq!(
            count_events(&db, "announcements").await,
            (10_000, Some(2_001))
        );
        assert_eq!(count_events(&db, "user:100000").await, (0, None));
        let seen = logs::seen();
        assert!(seen.is_empty(), "the server logged: {seen:#?}");
        Arc::into_inner(t).expect("load finished").stop().await;
    }
);

/// One socket's load: subscribe to `topic` from its start (a replay of several pages), unsubscribe,
/// again, until the server closes the socket. Any protocol error frame is a failure.
async fn replay_until_closed(
    mut client: common::ws::Client,
    topic: String,
    epoch: String,
    failures: Arc<Mutex<Vec<String>>>,
) {
    loop {
        let frames = [
            json!({"type": "subscribe", "id": "s", "topic": topic, "since": {"epoch": epoch, "offset": 0}}),
            json!({"type": "unsubscribe", "id": "u", "topic": topic}),
        ];
        for frame in frames {
            if client
                .stream
                .send(Message::text(frame.to_string()))
                .await
                .is_err()
            {
                return;
            }
        }
        loop {
            match client.stream.next().await {
                Some(Ok(Message::Text(text))) => match decode_server(text.as_str()) {
                    Ok(ServerMessage::Unsubscribed { .. }) => break,
                    Ok(ServerMessage::Error { code, message, .. }) => {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{code:?}: {message}"));
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => panic!("bad frame: {e:?}"),
                },
                Some(Ok(_)) => {}
                // Closed (1001 at shutdown) or gone.
                Some(Err(_)) | None => return,
            }
        }
    }
}

both_backends!(
    a_shutdown_under_load_never_queries_a_closed_pool,
    |db: TestDb| async move {
        logs::install();
        let t = TestServer::start_with(db, &[("STUDYHALL_JOBS_INTERVAL", "1s")]).await;
        let db = t.services().accounts.db().clone();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let mut load = Vec::new();
        // Work for the retention job, which runs every second: it is mid-run at the shutdown.
        fill(&db, "user:99999", 30_000, now_ms() - 60 * DAY_MS).await;
        for n in 0..4 {
            let (browser, cookie, token) = student(&t, &format!("down{n}@example.com")).await;
            let me: i64 = {
                let res = t
                    .api()
                    .get(t.url("/api/v1/me"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                res.json::<serde_json::Value>().await.unwrap()["user"]["id"]
                    .as_i64()
                    .unwrap()
            };
            let topic = Topic::User(me).to_string();
            fill(&db, &topic, 2_000, now_ms()).await;
            let epoch = studyhall::server::realtime::log::head(&db, Topic::User(me))
                .await
                .unwrap()
                .epoch;
            for _ in 0..4 {
                let client = open_socket(&t, &cookie).await.expect("welcomed");
                load.push(tokio::spawn(replay_until_closed(
                    client,
                    topic.clone(),
                    epoch.clone(),
                    failures.clone(),
                )));
            }
            // Pages and writes until the server stops answering; a 5xx is a failure.
            let (base, api) = (t.base.clone(), t.api());
            let failed = failures.clone();
            load.push(tokio::spawn(async move {
                loop {
                    let page = browser.get(format!("{base}/activity")).send().await;
                    let body = json!({"day": today(), "minutes": 5, "topic": "Down"});
                    let write = api
                        .post(format!("{base}/api/v1/learning/sessions"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    for res in [page, write] {
                        match res {
                            Ok(res) if res.status().is_server_error() => {
                                failed.lock().unwrap().push(format!(
                                    "{} answered {}",
                                    res.url(),
                                    res.status()
                                ));
                                return;
                            }
                            Ok(_) => {}
                            Err(_) => return, // the server stopped listening
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let stopping = Instant::now();
        tokio::time::timeout(Duration::from_secs(30), t.stop())
            .await
            .expect("shut down in time");
        eprintln!("shutdown took {:?}", stopping.elapsed());
        for task in load {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("load ended")
                .unwrap();
        }
        let failures = failures.lock().unwrap().clone();
        assert!(
            failures.is_empty(),
            "answered during shutdown: {failures:?}"
        );
        let seen = logs::seen();
        assert!(seen.is_empty(), "the server logged: {seen:#?}");
    }
);
