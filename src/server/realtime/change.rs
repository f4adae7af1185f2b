//! The unit of work every writer goes through: one write transaction, the topic locks it takes, the
//! durable events it appends, then the commit and only then the publish, in that order, always.
//!
//! ```ignore
//! let mut change = Change::begin(db, hub).await?;
//! change.lock(Topic::User(id)).await?;          // before reading what the event will carry
//! with_tx!(change.tx(), conn => /* write rows */);
//! change.emit(Topic::User(id), &DurableEvent::LearningChanged(..)).await?;
//! change.commit().await?;                       // commits, then publishes what was emitted
//! ```
//!
//! A change dropped without [`Change::commit`] (an error returned with `?`) rolls back and publishes
//! nothing, so no client ever sees an event of a change that did not happen, and an event that was
//! committed is always published (the log keeps it for whoever was offline).

use super::log::{self, StoredEvent};
use super::Hub;
use crate::events::DurableEvent;
use crate::model::{Millis, UserId};
use crate::protocol::Topic;
use crate::server::db::{Conn, Db, Tx};
use crate::AppError;

/// An open unit of work. Its clock ([`Change::now`]) is read once at the start, so every row and
/// event of one change carries the same time.
pub struct Change<'h> {
    tx: Tx,
    hub: &'h Hub,
    events: Vec<StoredEvent>,
    /// Access the change takes away, revoked from open connections after the events are published.
    revoked: Vec<(UserId, Topic)>,
    now: Millis,
}

impl<'h> Change<'h> {
    /// Begins a change now.
    pub async fn begin(db: &Db, hub: &'h Hub) -> Result<Self, AppError> {
        Self::begin_at(db, hub, crate::server::now_ms()).await
    }

    /// Begins a change dated `now` (the demo data writes its history through this).
    pub async fn begin_at(db: &Db, hub: &'h Hub, now: Millis) -> Result<Self, AppError> {
        Ok(Change {
            tx: db.begin().await?,
            hub,
            events: Vec::new(),
            revoked: Vec::new(),
            now,
        })
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    /// The transaction, for the change's own reads and writes.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The transaction's connection, for helpers that take one.
    pub fn conn(&mut self) -> Conn<'_> {
        self.tx.conn()
    }

    /// Takes `topic`'s log row lock before the change reads what its event will carry (counts,
    /// figures): two changes to one topic then run one after the other on PostgreSQL, so the later
    /// event includes the earlier change. SQLite write transactions are serialized already.
    pub async fn lock(&mut self, topic: Topic) -> Result<(), AppError> {
        log::lock(&mut self.tx, topic, self.now).await
    }

    /// Appends `event` to `topic`'s log in this change; it is published after the commit.
    pub async fn emit(
        &mut self,
        topic: Topic,
        event: &DurableEvent,
    ) -> Result<&StoredEvent, AppError> {
        let stored = log::append(&mut self.tx, topic, event, self.now).await?;
        self.events.push(stored);
        Ok(self.events.last().expect("pushed above"))
    }

    /// Like [`Change::emit`], for an event that names its own offset: `event` gets the offset.
    pub async fn emit_with(
        &mut self,
        topic: Topic,
        event: impl FnOnce(i64) -> DurableEvent,
    ) -> Result<&StoredEvent, AppError> {
        let stored = log::append_with(&mut self.tx, topic, self.now, event).await?;
        self.events.push(stored);
        Ok(self.events.last().expect("pushed above"))
    }

    /// After the commit, stops delivering `topic` to `user`'s open connections (they are told), once
    /// this change's events are published: a member removed from a room gets the event saying so,
    /// then nothing more of the room.
    pub fn revoke(&mut self, user: UserId, topic: Topic) {
        self.revoked.push((user, topic));
    }

    /// Commits, then publishes every emitted event in the order it was emitted, then revokes what
    /// the change took away; returns the events.
    pub async fn commit(self) -> Result<Vec<StoredEvent>, AppError> {
        self.tx.commit().await?;
        self.events.iter().for_each(|e| self.hub.publish(e));
        for (user, topic) in self.revoked {
            self.hub.revoke(user, topic);
        }
        Ok(self.events)
    }
}
