//! A connection's subscriptions: the cursor each keeps, the replay from the log on `subscribe`, and
//! the live delivery that drops what was already sent and fills gaps from the log. The seam between
//! replay and live delivery is described in docs/ARCHITECTURE.md ("The connection task and its cursors").

use super::{Connection, End};
use axum::extract::ws::Message;
use studyhall::access::can_subscribe;
use studyhall::protocol::{close, encode, ErrorCode, Position, ResetReason, ServerMessage, Topic};
use studyhall::server::realtime::mailbox::Mailbox;
use studyhall::server::realtime::{log, Outbound};

const REPLAY_PAGE: i64 = 500;
/// Most queued items written before one flush.
const DELIVERY_BATCH: usize = 64;

/// Where one subscription stands: the log's epoch and the last offset sent.
pub(super) struct Cursor {
    epoch: String,
    offset: i64,
}

/// A connection's cursors by topic. A boxed slice, exactly as long as what it holds, rather than a
/// hash map: most connections hold one to a few subscriptions (at most `max_subscriptions`), where a
/// scan is as fast as hashing, and a map holding one entry allocates four slots (~200 bytes per idle
/// connection, measured with heaptrack). A slice rather than a `Vec`: it cannot keep spare room, and
/// it is 8 bytes smaller in the connection's boxed state.
#[derive(Default)]
pub(super) struct Subscriptions(Box<[(Topic, Cursor)]>);

impl Subscriptions {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn contains_key(&self, topic: &Topic) -> bool {
        self.get(topic).is_some()
    }

    pub(super) fn get(&self, topic: &Topic) -> Option<&Cursor> {
        self.0.iter().find(|(t, _)| t == topic).map(|(_, c)| c)
    }

    pub(super) fn get_mut(&mut self, topic: &Topic) -> Option<&mut Cursor> {
        self.0.iter_mut().find(|(t, _)| t == topic).map(|(_, c)| c)
    }

    /// Sets the cursor of `topic`, replacing the one it had.
    pub(super) fn insert(&mut self, topic: Topic, cursor: Cursor) {
        match self.get_mut(&topic) {
            Some(c) => *c = cursor,
            None => {
                let mut held = std::mem::take(&mut self.0).into_vec();
                held.reserve_exact(1);
                held.push((topic, cursor));
                self.0 = held.into_boxed_slice();
            }
        }
    }

    pub(super) fn remove(&mut self, topic: &Topic) {
        if let Some(i) = self.0.iter().position(|(t, _)| t == topic) {
            let mut held = std::mem::take(&mut self.0).into_vec();
            held.swap_remove(i);
            self.0 = held.into_boxed_slice();
        }
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &Topic> {
        self.0.iter().map(|(t, _)| t)
    }
}

impl Connection {
    pub(super) async fn subscribe(
        &mut self,
        id: Option<String>,
        topic: Topic,
        since: Option<Position>,
    ) -> Result<(), End> {
        let settings = *self.ws;
        if !self.subs.contains_key(&topic) && self.subs.len() >= settings.max_subscriptions {
            return self
                .refuse(
                    id,
                    ErrorCode::TooManySubscriptions,
                    &format!(
                        "A connection may hold at most {} subscriptions.",
                        settings.max_subscriptions
                    ),
                )
                .await;
        }
        let db = self.services.accounts.db().clone();
        // Rules are checked against what the database says now, not what it said at connect.
        let allowed = match self.principal().await? {
            Some(p) => can_subscribe(&p, &topic),
            None => {
                return self.retry_later(id).await;
            }
        };
        if !allowed {
            return self
                .refuse(
                    id,
                    ErrorCode::Forbidden,
                    &format!("You may not subscribe to {topic}."),
                )
                .await;
        }
        // Join the hub before reading the log: events committed from here on queue up for us, and the
        // cursor drops the ones the replay already sent.
        let present = self.services.hub.subscribe(self.id, topic);
        // Read with the list, so the two agree; later changes arrive as diffs.
        let away = present
            .as_ref()
            .map(|p| self.services.hub.away_among(p))
            .unwrap_or_default();
        let head = match log::head(&db, topic).await {
            Ok(h) => h,
            Err(e) => {
                e.log_if_internal();
                self.drop_subscription(topic);
                return self.retry_later(id).await;
            }
        };
        // The node's catch-up looks for what the log has past this point.
        self.services
            .hub
            .note_position(topic, &head.epoch, head.head);
        let reset = match &since {
            None => None,
            Some(p) if p.epoch != head.epoch => Some(ResetReason::EpochChanged),
            Some(p) if p.offset > head.head || p.offset < 0 => Some(ResetReason::UnknownOffset),
            Some(p) if p.offset < head.oldest - 1 => Some(ResetReason::BeyondRetention),
            Some(_) => None,
        };
        let start = match (&since, reset) {
            (Some(p), None) => p.offset,
            _ => head.head,
        };
        self.subs.insert(
            topic,
            Cursor {
                epoch: head.epoch.clone(),
                offset: start,
            },
        );
        let replayed = self.fill(topic, head.head).await?;
        let epoch = head.epoch.clone();
        let offset = self.subs.get(&topic).map_or(head.head, |c| c.offset);
        match reset {
            Some(reason) => {
                self.send(&ServerMessage::Reset {
                    id,
                    topic,
                    epoch,
                    offset,
                    reason,
                })
                .await?;
            }
            None => {
                self.send(&ServerMessage::Subscribed {
                    id,
                    topic,
                    epoch,
                    offset,
                    replayed,
                })
                .await?;
            }
        }
        if let Some(present) = present {
            self.send(&ServerMessage::Presence {
                topic,
                present,
                away,
            })
            .await?;
        }
        Ok(())
    }

    /// Sends stored events after the cursor up to `until`, from the log. Returns how many.
    async fn fill(&mut self, topic: Topic, until: i64) -> Result<u64, End> {
        let db = self.services.accounts.db().clone();
        let mut sent = 0;
        loop {
            let Some(cursor) = self.subs.get(&topic) else {
                return Ok(sent);
            };
            if cursor.offset >= until {
                return Ok(sent);
            }
            let (epoch, after) = (cursor.epoch.clone(), cursor.offset);
            let page = match log::read(&db, topic, &epoch, after, until, REPLAY_PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    e.log_if_internal();
                    return Err(End::Close(close::GOING_AWAY, "log unavailable"));
                }
            };
            // Retention removed what we needed (nothing left, or the first event is past the cursor):
            // say so rather than skip silently.
            if page.first().is_none_or(|e| e.offset != after + 1) {
                if let Some(c) = self.subs.get_mut(&topic) {
                    c.offset = until;
                }
                self.send(&ServerMessage::Reset {
                    id: None,
                    topic,
                    epoch,
                    offset: until,
                    reason: ResetReason::BeyondRetention,
                })
                .await?;
                return Ok(sent);
            }
            // Queued, not flushed one by one: every caller sends or flushes right after the fill,
            // and the write buffer goes out on its own each time it passes 16 KiB.
            for event in page {
                let offset = event.offset;
                self.queue(Message::Text(encode(&event.to_message()).into()))
                    .await?;
                if let Some(c) = self.subs.get_mut(&topic) {
                    c.offset = offset;
                }
                sent += 1;
            }
        }
    }

    /// Delivers what the hub queued, up to [`DELIVERY_BATCH`] items, then flushes once: under load
    /// one write carries many frames instead of one system call per frame.
    pub(super) async fn deliver_batch(
        &mut self,
        first: Outbound,
        mailbox: &Mailbox,
    ) -> Result<(), End> {
        self.deliver(first).await?;
        for _ in 1..DELIVERY_BATCH {
            match mailbox.try_recv() {
                Some(next) => self.deliver(next).await?,
                None => break,
            }
        }
        self.flush().await
    }

    async fn deliver(&mut self, out: Outbound) -> Result<(), End> {
        match out {
            Outbound::Frame(topic, frame) => {
                if self.subs.contains_key(&topic) {
                    self.queue_frame(frame).await?;
                }
                Ok(())
            }
            Outbound::Revoked(topic) if self.subs.contains_key(&topic) => self.lose(topic).await,
            Outbound::Revoked(_) => Ok(()),
            Outbound::Event(event) => {
                let Some(cursor) = self.subs.get_mut(&event.topic) else {
                    return Ok(());
                };
                if *event.epoch != *cursor.epoch {
                    // The log was reset while we listened: start over from this event.
                    cursor.epoch = event.epoch.to_string();
                    cursor.offset = event.offset - 1;
                    let (topic, epoch, offset) = (event.topic, cursor.epoch.clone(), cursor.offset);
                    self.send(&ServerMessage::Reset {
                        id: None,
                        topic,
                        epoch,
                        offset,
                        reason: ResetReason::EpochChanged,
                    })
                    .await?;
                }
                let behind = self.subs.get(&event.topic).map_or(i64::MAX, |c| c.offset);
                if event.offset <= behind {
                    return Ok(()); // already sent (replay, or a gap fill)
                }
                if event.offset > behind + 1 {
                    Box::pin(self.fill(event.topic, event.offset - 1)).await?;
                }
                self.queue_frame(event.frame.clone()).await?;
                if let Some(c) = self.subs.get_mut(&event.topic) {
                    c.offset = c.offset.max(event.offset);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(offset: i64) -> Cursor {
        Cursor {
            epoch: "e".into(),
            offset,
        }
    }

    #[test]
    fn subscriptions_keep_one_cursor_per_topic() {
        // No spare room is the type's doing (a boxed slice); this checks what it holds.
        let mut subs = Subscriptions::default();
        subs.insert(Topic::User(1), cursor(3));
        assert_eq!(subs.len(), 1);
        subs.insert(Topic::Announcements, cursor(7));
        subs.insert(Topic::User(1), cursor(5));
        assert_eq!(
            subs.len(),
            2,
            "a second subscribe to a topic replaces its cursor"
        );
        assert_eq!(subs.get(&Topic::User(1)).map(|c| c.offset), Some(5));
        subs.get_mut(&Topic::Announcements).expect("held").offset = 8;
        assert_eq!(subs.get(&Topic::Announcements).map(|c| c.offset), Some(8));
        subs.remove(&Topic::User(1));
        assert!(!subs.contains_key(&Topic::User(1)));
        assert!(subs.contains_key(&Topic::Announcements));
        assert_eq!(
            subs.keys().copied().collect::<Vec<_>>(),
            [Topic::Announcements]
        );
        subs.remove(&Topic::Inbox(9)); // not held: nothing happens
        assert_eq!(subs.len(), 1);
    }
}
