//! The chat reads a person waits for, timed on Studyhall alone (the reference has no such reads): a
//! history page of 50 messages, the room list with unread counts for someone in 200 rooms, and a
//! search over a million messages. Rooms come from the chat service; the messages are written
//! straight into the database (with their search index, by its triggers) so that a million of them
//! take a minute, not an hour of HTTP. Each figure is a request's time on loopback, one at a time:
//! the server's time plus a loopback round trip.

use crate::hist::Histogram;
use crate::systems::{Identity, Paths, Studyhall};
use crate::worker::Error;
use serde_json::{json, Value};
use studyhall::server::db::Db;
use tokio::time::Instant;

/// Sizes: rooms the reader is in, and messages in all.
pub struct QuerySizes {
    pub rooms: usize,
    pub messages: usize,
    pub samples: usize,
}

impl QuerySizes {
    pub fn full() -> Self {
        QuerySizes {
            rooms: 200,
            messages: 1_000_000,
            samples: 100,
        }
    }

    pub fn quick() -> Self {
        QuerySizes {
            rooms: 200,
            messages: 20_000,
            samples: 30,
        }
    }
}

/// Words the messages are made of; `needle` appears in one message in a thousand.
const WORDS: [&str; 24] = [
    "borrow",
    "checker",
    "lifetime",
    "trait",
    "async",
    "tokio",
    "query",
    "index",
    "cohort",
    "mentor",
    "session",
    "goal",
    "review",
    "exam",
    "notes",
    "chapter",
    "ownership",
    "closure",
    "iterator",
    "pattern",
    "match",
    "vector",
    "string",
    "slice",
];

pub async fn run(paths: &Paths, sizes: &QuerySizes) -> Result<Value, Error> {
    let studyhall = Studyhall::new(paths)?;
    // The reader is student 0; each other student shares one room with them.
    let ids = studyhall.seed(sizes.rooms + 1).await?;
    let reader = &ids[0];
    let mut rooms = Vec::with_capacity(sizes.rooms);
    for other in &ids[1..=sizes.rooms] {
        rooms.push(
            studyhall
                .chat_room(&[identity(reader), identity(other)])
                .await?,
        );
    }
    let seeding = Instant::now();
    fill(&studyhall.db_url, &rooms, &ids, sizes.messages).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let server = studyhall.start(false).await?;
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    let auth = format!("Bearer {}", reader.token);
    let timed = |path: String| {
        let (client, auth, url) = (client.clone(), auth.clone(), format!("{base}{path}"));
        async move {
            let started = Instant::now();
            let res = client
                .get(&url)
                .header("authorization", &auth)
                .send()
                .await?;
            let ok = res.status().is_success();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            if !ok {
                return Err::<_, Error>(format!("GET {url}: {body}").into());
            }
            Ok((started.elapsed().as_micros() as u64, body))
        }
    };
    // Warm the caches once, as a running server's would be.
    timed("/api/v1/rooms".into()).await?;
    let mut list = Histogram::default();
    let mut unread_rooms = 0;
    for _ in 0..sizes.samples {
        let (us, body) = timed("/api/v1/rooms".into()).await?;
        list.record(us);
        unread_rooms = body["rooms"].as_array().map_or(0, Vec::len);
    }
    let mut history = Histogram::default();
    let busiest = rooms[0];
    let (_, first) = timed(format!("/api/v1/rooms/{busiest}/messages?limit=50")).await?;
    let mut before = first["older"].as_i64();
    for _ in 0..sizes.samples {
        let path = match before {
            Some(b) => format!("/api/v1/rooms/{busiest}/messages?limit=50&before={b}"),
            None => format!("/api/v1/rooms/{busiest}/messages?limit=50"),
        };
        let (us, page) = timed(path).await?;
        history.record(us);
        before = page["older"].as_i64();
    }
    let mut rare = Histogram::default();
    let mut common = Histogram::default();
    let mut rare_hits = 0;
    for i in 0..sizes.samples {
        let (us, found) = timed("/api/v1/rooms/search?q=needle".into()).await?;
        rare.record(us);
        rare_hits = found["hits"].as_array().map_or(0, Vec::len);
        let word = WORDS[i % WORDS.len()];
        let (us, _) = timed(format!("/api/v1/rooms/search?q={word}")).await?;
        common.record(us);
    }
    server.stop().await;
    let ms = |h: &Histogram, q: f64| (h.quantile(q) as f64 / 100.0).round() / 10.0;
    Ok(json!({
        "messages": sizes.messages,
        "rooms": sizes.rooms,
        "samples": sizes.samples,
        "seed_seconds": (seed_secs * 10.0).round() / 10.0,
        "room_list_rooms": unread_rooms,
        "room_list_p50_ms": ms(&list, 0.5), "room_list_p99_ms": ms(&list, 0.99),
        "history_p50_ms": ms(&history, 0.5), "history_p99_ms": ms(&history, 0.99),
        "search_rare_p50_ms": ms(&rare, 0.5), "search_rare_p99_ms": ms(&rare, 0.99),
        "search_rare_results": rare_hits,
        "search_common_p50_ms": ms(&common, 0.5), "search_common_p99_ms": ms(&common, 0.99),
    }))
}

fn identity(i: &Identity) -> Identity {
    Identity {
        user_id: i.user_id,
        token: String::new(),
    }
}

/// `total` messages over `rooms` (the first room gets a tenth of them, the rest share the others),
/// by the room's two members in turn, a minute apart, in transactions of 10,000.
async fn fill(db_url: &str, rooms: &[i64], ids: &[Identity], total: usize) -> Result<(), Error> {
    let db = Db::connect(db_url, 1).await?;
    let Db::Sqlite(pool) = &db else {
        return Err("the query scenario runs on SQLite".into());
    };
    let start = studyhall::server::now_ms() - total as i64 * 60_000;
    let mut written = 0;
    while written < total {
        let mut tx = pool.begin().await?;
        for k in written..(written + 10_000).min(total) {
            let room_index = if k % 10 == 0 {
                0
            } else {
                1 + k % (rooms.len() - 1)
            };
            let author = if k % 2 == 0 {
                ids[0].user_id
            } else {
                ids[1 + room_index].user_id
            };
            let mut body = String::new();
            for j in 0..8 {
                body.push_str(WORDS[(k * 7 + j * 13) % WORDS.len()]);
                body.push(' ');
            }
            if k % 1000 == 500 {
                body.push_str("needle");
            }
            let html = format!("<p>{body}</p>");
            sqlx::query(
                "INSERT INTO chat_messages (room_id, author_id, client_id, body, html, created_at, log_offset) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0)",
            )
            .bind(rooms[room_index])
            .bind(author)
            .bind(format!("seed-{k}"))
            .bind(&body)
            .bind(&html)
            .bind(start + k as i64 * 60_000)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        written = (written + 10_000).min(total);
    }
    sqlx::query("UPDATE chat_rooms SET last_message_at = $1")
        .bind(studyhall::server::now_ms())
        .execute(pool)
        .await?;
    db.close().await;
    Ok(())
}
