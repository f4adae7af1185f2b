//! The catch-up: with several nodes, the bus between them may lose an event (Redis restarted, a
//! node's subscription dropped, a message lost). The log never does. Each node compares, for every
//! topic it has subscribers for, the log's head with the newest offset it has delivered, and
//! delivers what is missing from the log, in order; connections drop what they already have, so
//! nothing arrives twice. A Redis outage delays live delivery by at most one check; it loses nothing.

use super::log;
use super::Hub;
use crate::protocol::Topic;
use crate::server::db::Db;
use crate::AppError;

/// Most events one check reads per topic; the rest waits for the next check.
const PAGE: i64 = 500;

/// One check of every watched topic: one read of the heads per 500 topics, then a read of the log
/// for each topic that moved past what was delivered here. Returns how many events it delivered.
pub async fn catch_up_once(db: &Db, hub: &Hub) -> Result<u64, AppError> {
    let watched = hub.watched();
    if watched.is_empty() {
        return Ok(0);
    }
    let topics: Vec<Topic> = watched.iter().map(|(t, _)| *t).collect();
    let heads = log::heads(db, &topics).await?;
    let mut delivered = 0;
    for ((topic, seen), head) in watched.into_iter().zip(heads) {
        let after = match &seen {
            Some((epoch, offset)) if **epoch == *head.epoch => {
                if head.head <= *offset {
                    continue;
                }
                *offset
            }
            // Nothing delivered here yet, or the log was reset: the newest event alone. A
            // connection behind it fills the rest from the log itself, one that has it drops it.
            _ if head.head > 0 => head.head - 1,
            _ => continue,
        };
        let from = after.max(head.oldest - 1);
        let events = log::read(db, topic, &head.epoch, from, head.head, PAGE).await?;
        for event in &events {
            hub.deliver_caught_up(event);
        }
        delivered += events.len() as u64;
    }
    Ok(delivered)
}
