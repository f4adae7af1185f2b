//! The durable event log: per-topic offsets with no gaps in commit order, an epoch per log, replay
//! ranges and retention.

use crate::model::Millis;
use crate::protocol::{ServerMessage, Topic};
use crate::server::db::{fetch_in, internal, Db, Tx};
use crate::{with_db, with_tx, AppError};
use rand::RngCore;
use serde_json::Value;

/// An event as stored and delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub topic: Topic,
    pub epoch: String,
    pub offset: i64,
    pub event: String,
    pub data: Value,
    pub at: Millis,
}

impl StoredEvent {
    pub fn to_message(&self) -> ServerMessage {
        ServerMessage::Event {
            topic: self.topic,
            epoch: self.epoch.clone(),
            offset: self.offset,
            event: self.event.clone(),
            data: self.data.clone(),
            at: self.at,
        }
    }
}

/// Where a topic's log stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub epoch: String,
    /// The offset of the newest event (0 if none yet).
    pub head: i64,
    /// The oldest offset still stored; `head + 1` when retention removed everything.
    pub oldest: i64,
}

fn new_epoch() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 9];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends an event in the caller's transaction; the offset is final once the transaction commits.
/// Publish the returned event to the hub only after the commit.
pub async fn append(
    tx: &mut Tx,
    topic: Topic,
    event: &str,
    data: &Value,
    now: Millis,
) -> Result<StoredEvent, AppError> {
    append_with(tx, topic, event, now, |_| Ok(data.clone())).await
}

/// Like [`append`], for data that must name its own offset: `data` is called with the offset.
pub async fn append_with(
    tx: &mut Tx,
    topic: Topic,
    event: &str,
    now: Millis,
    data: impl FnOnce(i64) -> Result<Value, AppError>,
) -> Result<StoredEvent, AppError> {
    let key = topic.to_string();
    let epoch_if_new = new_epoch();
    let (epoch, offset): (String, i64) = with_tx!(&mut *tx, conn => sqlx::query_as(
        "INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (topic) DO UPDATE SET head = topic_logs.head + 1 RETURNING epoch, head")
        .bind(&key).bind(&epoch_if_new).bind(now)
        .fetch_one(&mut *conn).await.map_err(internal)?);
    let data = data(offset)?;
    let payload = data.to_string();
    with_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO events (topic, seq, event, data, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&key).bind(offset).bind(event).bind(&payload).bind(now)
        .execute(&mut *conn).await.map(|_| ()).map_err(internal)?);
    Ok(StoredEvent {
        topic,
        epoch,
        offset,
        event: event.to_string(),
        data,
        at: now,
    })
}

/// Takes the topic's log row lock in `tx` (creating the log if new) before the transaction reads what
/// its event will carry, such as counts or figures. On PostgreSQL two writers to the same topic then
/// run one after the other, so the later event's data includes the earlier change; SQLite write
/// transactions are serialized already.
pub async fn lock(tx: &mut Tx, topic: Topic, now: Millis) -> Result<(), AppError> {
    let key = topic.to_string();
    let epoch_if_new = new_epoch();
    with_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (topic) DO UPDATE SET head = topic_logs.head")
        .bind(&key).bind(&epoch_if_new).bind(now)
        .execute(&mut *conn).await.map(|_| ()).map_err(internal))
}

/// Appends one event in its own transaction (for events that are not part of a larger change).
pub async fn append_now(
    db: &Db,
    topic: Topic,
    event: &str,
    data: &Value,
) -> Result<StoredEvent, AppError> {
    let mut tx = db.begin().await?;
    let stored = append(&mut tx, topic, event, data, super::super::now_ms()).await?;
    tx.commit().await?;
    Ok(stored)
}

/// The topic's epoch, head and oldest stored offset; creates the log (with a fresh epoch) if new.
pub async fn head(db: &Db, topic: Topic) -> Result<Head, AppError> {
    let key = topic.to_string();
    // Read first: a log almost always exists, and creating one is a write (on SQLite it waits for the
    // single writer), which every subscribe and snapshot used to pay.
    with_db!(db, pool => {
        let select = "SELECT epoch, head, (SELECT MIN(seq) FROM events WHERE topic = $1) FROM topic_logs WHERE topic = $1";
        let mut row: Option<(String, i64, Option<i64>)> = sqlx::query_as(select)
            .bind(&key).fetch_optional(pool).await.map_err(internal)?;
        if row.is_none() {
            sqlx::query("INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, $2, 0, $3) \
                         ON CONFLICT (topic) DO NOTHING")
                .bind(&key).bind(new_epoch()).bind(super::super::now_ms()).execute(pool).await.map_err(internal)?;
            row = Some(sqlx::query_as(select).bind(&key).fetch_one(pool).await.map_err(internal)?);
        }
        let (epoch, head, oldest) = row.expect("read or created above");
        Ok(Head { epoch, head, oldest: oldest.unwrap_or(head + 1) })
    })
}

/// The heads of many topics, in the order given: one read per 500 topics ([`fetch_in`]), then [`head`]
/// (which creates the log) for each that has none yet.
pub async fn heads(db: &Db, topics: &[Topic]) -> Result<Vec<Head>, AppError> {
    let keys: Vec<String> = topics.iter().map(Topic::to_string).collect();
    let rows: Vec<(String, String, i64, Option<i64>)> = fetch_in(db, &keys, |list| {
        format!(
            "SELECT t.topic, t.epoch, t.head, (SELECT MIN(seq) FROM events e WHERE e.topic = t.topic) \
             FROM topic_logs t WHERE t.topic IN ({list})"
        )
    })
    .await?;
    let found: std::collections::HashMap<String, Head> = rows
        .into_iter()
        .map(|(topic, epoch, head, oldest)| {
            let oldest = oldest.unwrap_or(head + 1);
            (
                topic,
                Head {
                    epoch,
                    head,
                    oldest,
                },
            )
        })
        .collect();
    let mut heads = Vec::with_capacity(topics.len());
    for (topic, key) in topics.iter().zip(&keys) {
        heads.push(match found.get(key) {
            Some(h) => h.clone(),
            None => head(db, *topic).await?,
        });
    }
    Ok(heads)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    event: String,
    data: String,
    created_at: i64,
}

/// Events with `after < offset <= until`, oldest first, at most `limit`.
pub async fn read(
    db: &Db,
    topic: Topic,
    epoch: &str,
    after: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, AppError> {
    let key = topic.to_string();
    let rows = with_db!(db, pool => sqlx::query_as::<_, EventRow>(
        "SELECT seq, event, data, created_at FROM events WHERE topic = $1 AND seq > $2 AND seq <= $3 \
         ORDER BY seq LIMIT $4")
        .bind(&key).bind(after).bind(until).bind(limit).fetch_all(pool).await)
    .map_err(internal)?;
    rows.into_iter()
        .map(|r| {
            Ok(StoredEvent {
                topic,
                epoch: epoch.to_string(),
                offset: r.seq,
                event: r.event,
                data: serde_json::from_str(&r.data).map_err(|e| {
                    tracing::error!(error = %e, %topic, offset = r.seq, "stored event is not JSON");
                    AppError::Internal
                })?,
                at: r.created_at,
            })
        })
        .collect()
}

/// Deletes events older than `max_age_ms` and all but the newest `max_per_topic` of each topic.
pub async fn apply_retention(
    db: &Db,
    max_per_topic: i64,
    max_age_ms: Millis,
    now: Millis,
) -> Result<u64, AppError> {
    with_db!(db, pool => {
        // Only a prefix of each log goes (up to its newest too-old event), so a log never gets a
        // hole in the middle even where write times and offsets are not in the same order.
        let by_age = sqlx::query(
            "DELETE FROM events WHERE seq <= (SELECT MAX(old.seq) FROM events old \
             WHERE old.topic = events.topic AND old.created_at < $1)")
            .bind(now - max_age_ms).execute(pool).await.map_err(internal)?.rows_affected();
        let by_count = sqlx::query(
            "DELETE FROM events WHERE seq <= (SELECT l.head FROM topic_logs l WHERE l.topic = events.topic) - $1")
            .bind(max_per_topic).execute(pool).await.map_err(internal)?.rows_affected();
        Ok(by_age + by_count)
    })
}

/// Starts a topic's log over with a new epoch (an operator's tool, e.g. after restoring a backup).
pub async fn reset(db: &Db, topic: Topic) -> Result<String, AppError> {
    let key = topic.to_string();
    let epoch = new_epoch();
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, conn => {
        sqlx::query("DELETE FROM events WHERE topic = $1").bind(&key).execute(&mut *conn).await.map_err(internal)?;
        sqlx::query("UPDATE topic_logs SET epoch = $2, head = 0 WHERE topic = $1")
            .bind(&key).bind(&epoch).execute(&mut *conn).await.map_err(internal)?;
    });
    tx.commit().await?;
    Ok(epoch)
}
