//! The durable event log: per-topic offsets with no gaps in commit order, an epoch per log, replay
//! ranges and retention.

use crate::events::DurableEvent;
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

/// Appends an event in the change's transaction; the offset is final once the transaction commits.
/// Only [`super::Change`] calls this, and publishes the event after its commit.
pub(super) async fn append(
    tx: &mut Tx,
    topic: Topic,
    event: &DurableEvent,
    now: Millis,
) -> Result<StoredEvent, AppError> {
    let (epoch, offset) = next_offset(tx, topic, now).await?;
    store(tx, topic, epoch, offset, event, now).await
}

/// Like [`append`], for an event that must name its own offset: `event` is called with the offset.
pub(super) async fn append_with(
    tx: &mut Tx,
    topic: Topic,
    now: Millis,
    event: impl FnOnce(i64) -> DurableEvent,
) -> Result<StoredEvent, AppError> {
    let (epoch, offset) = next_offset(tx, topic, now).await?;
    store(tx, topic, epoch, offset, &event(offset), now).await
}

/// Takes the topic's next offset (creating the log if new): the epoch and the offset.
async fn next_offset(tx: &mut Tx, topic: Topic, now: Millis) -> Result<(String, i64), AppError> {
    let key = topic.to_string();
    let epoch_if_new = new_epoch();
    with_tx!(&mut *tx, conn => sqlx::query_as(
        "INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (topic) DO UPDATE SET head = topic_logs.head + 1 RETURNING epoch, head")
        .bind(&key).bind(&epoch_if_new).bind(now)
        .fetch_one(&mut *conn).await.map_err(internal))
}

/// Writes `event` at `offset`, as stored and as it will be delivered.
async fn store(
    tx: &mut Tx,
    topic: Topic,
    epoch: String,
    offset: i64,
    event: &DurableEvent,
    now: Millis,
) -> Result<StoredEvent, AppError> {
    let (name, data) = (event.name(), event.data());
    let payload = data.to_string();
    with_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO events (topic, seq, event, data, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(topic.to_string()).bind(offset).bind(name).bind(&payload).bind(now)
        .execute(&mut *conn).await.map(|_| ()).map_err(internal)?);
    Ok(StoredEvent {
        topic,
        epoch,
        offset,
        event: name.to_string(),
        data,
        at: now,
    })
}

/// Takes the topic's log row lock in `tx` (creating the log if new) before the transaction reads what
/// its event will carry, such as counts or figures ([`super::Change::lock`]). On PostgreSQL two writers to the same topic then
/// run one after the other, so the later event's data includes the earlier change; SQLite write
/// transactions are serialized already.
pub(super) async fn lock(tx: &mut Tx, topic: Topic, now: Millis) -> Result<(), AppError> {
    let key = topic.to_string();
    let epoch_if_new = new_epoch();
    with_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO topic_logs (topic, epoch, head, created_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (topic) DO UPDATE SET head = topic_logs.head")
        .bind(&key).bind(&epoch_if_new).bind(now)
        .execute(&mut *conn).await.map(|_| ()).map_err(internal))
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
                    AppError::internal(format_args!(
                        "stored event {topic} {} is not JSON: {e}",
                        r.seq
                    ))
                })?,
                at: r.created_at,
            })
        })
        .collect()
}

/// Most events one retention batch deletes: each batch is its own short transaction, so a writer
/// waiting for SQLite's single write lock waits for one batch (milliseconds), never for a whole run.
const RETENTION_BATCH: i64 = 500;

/// Deletes events older than `max_age_ms` and all but the newest `max_per_topic` of each topic.
pub async fn apply_retention(
    db: &Db,
    max_per_topic: i64,
    max_age_ms: Millis,
    now: Millis,
) -> Result<u64, AppError> {
    apply_retention_while(db, max_per_topic, max_age_ms, now, || true).await
}

/// [`apply_retention`] in batches of at most [`RETENTION_BATCH`] events, pausing after each as long
/// as it took (other writers get the lock at least half the time) and stopping between batches once
/// `keep_going` says no (a shutdown). Its cost is what it deletes plus one probe per topic it cuts:
/// the single `DELETE … WHERE seq <= (correlated subquery)` it replaces ran that subquery once per
/// stored event and took 48 s over 14,000 events to delete none (docs/ARCHITECTURE.md, Persistence).
pub async fn apply_retention_while(
    db: &Db,
    max_per_topic: i64,
    max_age_ms: Millis,
    now: Millis,
    keep_going: impl Fn() -> bool,
) -> Result<u64, AppError> {
    let mut deleted = 0;
    for (topic, (epoch, upto)) in retention_targets(db, max_per_topic, now - max_age_ms).await? {
        loop {
            if !keep_going() {
                return Ok(deleted);
            }
            let started = std::time::Instant::now();
            let (n, done) = delete_prefix_batch(db, &topic, &epoch, upto).await?;
            deleted += n;
            if done || n == 0 {
                break;
            }
            let pause = started.elapsed().max(std::time::Duration::from_millis(1));
            tokio::time::sleep(pause).await;
        }
    }
    Ok(deleted)
}

/// Each topic with events to delete: its epoch and the offset up to which its log goes. Only a
/// prefix of a log goes (up to its newest too-old event), so a log never gets a hole in the middle
/// even where write times and offsets are not in the same order.
async fn retention_targets(
    db: &Db,
    max_per_topic: i64,
    cutoff: Millis,
) -> Result<std::collections::BTreeMap<String, (String, i64)>, AppError> {
    // By age: a range of `events_age_idx` (created_at, topic, seq), read from the index alone, with
    // one entry per event that will go. SQLite's planner would rather walk the whole primary key
    // in topic order to group without sorting (`unindexed` stops it).
    let group_by = db.backend().unindexed("topic");
    let sql = format!(
        "SELECT o.topic, l.epoch, o.upto FROM (SELECT topic, MAX(seq) AS upto FROM events \
         WHERE created_at < $1 GROUP BY {group_by}) o JOIN topic_logs l ON l.topic = o.topic"
    );
    let by_age: Vec<(String, String, i64)> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(cutoff).fetch_all(pool).await)
    .map_err(internal)?;
    // By count: logs whose head is past the cap (one row per topic, no events read).
    let by_count: Vec<(String, String, i64)> = with_db!(db, pool => sqlx::query_as(
        "SELECT topic, epoch, head - $1 FROM topic_logs WHERE head > $1")
        .bind(max_per_topic).fetch_all(pool).await)
    .map_err(internal)?;
    let mut targets = std::collections::BTreeMap::new();
    for (topic, epoch, upto) in by_age.into_iter().chain(by_count) {
        let entry = targets.entry(topic).or_insert((epoch, upto));
        entry.1 = entry.1.max(upto);
    }
    Ok(targets)
}

/// Deletes the oldest events of `topic` up to `upto`, at most [`RETENTION_BATCH`], through the
/// primary key. Returns how many went and whether the prefix is gone. Nothing goes if the log was
/// reset since the targets were read (its offsets then mean other events).
async fn delete_prefix_batch(
    db: &Db,
    topic: &str,
    epoch: &str,
    upto: i64,
) -> Result<(u64, bool), AppError> {
    with_db!(db, pool => {
        let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE topic = $1")
            .bind(topic).fetch_one(pool).await.map_err(internal)?;
        let Some(oldest) = oldest.filter(|o| *o <= upto) else {
            return Ok((0, true));
        };
        let bound = upto.min(oldest + RETENTION_BATCH - 1);
        let n = sqlx::query(
            "DELETE FROM events WHERE topic = $1 AND seq <= $2 \
             AND EXISTS (SELECT 1 FROM topic_logs WHERE topic = $1 AND epoch = $3)")
            .bind(topic).bind(bound).bind(epoch).execute(pool).await.map_err(internal)?.rows_affected();
        Ok((n, bound == upto))
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
