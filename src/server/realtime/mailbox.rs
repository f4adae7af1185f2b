//! A connection's mailbox: what the hub queued for one socket, bounded, the slow-consumer flag and
//! the server's shutdown, so that a waiting connection waits on one thing.
//!
//! It replaces a tokio `mpsc` channel per connection, which allocates a block of 32 slots up front
//! and keeps it while the connection idles. A mailbox holds no buffer while empty and gives back a
//! large one once it drains, so thousands of idle connections cost a few dozen bytes each here.

use crate::protocol::Topic;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// A durable event as delivered to connections: the encoded frame plus what the connection needs to
/// keep its cursor (dropping duplicates, filling gaps).
#[derive(Debug)]
pub struct LiveEvent {
    pub topic: Topic,
    pub epoch: Arc<str>,
    pub offset: i64,
    pub frame: Bytes,
}

/// What a mailbox holds.
#[derive(Debug, Clone)]
pub enum Outbound {
    Event(Arc<LiveEvent>),
    /// An already-encoded frame with no offset (ephemeral events, presence changes).
    Frame(Topic, Bytes),
    /// The connection's user may no longer read the topic (removed from a room): the hub has
    /// already stopped delivering it; the connection drops its cursor and tells the client.
    Revoked(Topic),
}

/// A queue that grew past this many slots during a burst is freed once it is empty again.
const KEEP_CAPACITY: usize = 16;

pub struct Mailbox {
    items: Mutex<VecDeque<Outbound>>,
    capacity: usize,
    /// Something was queued into an empty mailbox, the connection was flagged as slow, or the
    /// server is shutting down: one wake-up for all three, so that a waiting connection holds one
    /// wait, not three.
    wake: Notify,
    slow: AtomicBool,
    closing: AtomicBool,
}

/// What a connection's task is woken for.
pub enum Next {
    Item(Outbound),
    Stop(Stop),
}

/// Why a connection must close now, whatever else it has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The connection was flagged as a slow consumer (its queue was dropped).
    Slow,
    /// The server is shutting down (clients reconnect and resume).
    Closing,
}

/// What became of an offered item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The mailbox was full: this offer flagged the connection as a slow consumer and dropped
    /// everything queued for it.
    FlaggedSlow,
    /// The connection was already flagged: the item was dropped.
    Dropped,
}

impl Mailbox {
    pub fn new(capacity: usize) -> Mailbox {
        Mailbox {
            items: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            wake: Notify::new(),
            slow: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Outbound>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an item without waiting. A full mailbox flags its connection as a slow consumer and
    /// lets go of what is queued (that connection is about to be closed); later items are dropped.
    pub fn offer(&self, item: Outbound) -> Offer {
        let mut items = self.items();
        // Only set under the lock, so exactly one offer sees the transition.
        if self.is_slow() {
            return Offer::Dropped;
        }
        if items.len() >= self.capacity {
            *items = VecDeque::new();
            self.slow.store(true, Ordering::Release);
            drop(items);
            self.wake.notify_one();
            return Offer::FlaggedSlow;
        }
        let was_empty = items.is_empty();
        items.push_back(item);
        drop(items);
        if was_empty {
            // One wake-up per burst: the consumer takes what follows with `try_recv`.
            self.wake.notify_one();
        }
        Offer::Queued
    }

    /// Tells the waiting connection that the server is shutting down. What is still queued is not
    /// delivered: the client resumes it from the log when it reconnects.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Waits for the next item, or for a flag that ends the connection (raising the slow flag
    /// empties the queue). Cancel-safe: an item is only taken in the poll that returns it.
    pub async fn next(&self) -> Next {
        loop {
            if let Some(stop) = self.stopped() {
                return Next::Stop(stop);
            }
            if let Some(item) = self.try_recv() {
                return Next::Item(item);
            }
            // A wake-up that arrives between the checks above and this wait is kept as a permit.
            self.wake.notified().await;
        }
    }

    /// The next item, if one is queued.
    pub fn try_recv(&self) -> Option<Outbound> {
        let mut items = self.items();
        let item = items.pop_front();
        if items.is_empty() && items.capacity() > KEEP_CAPACITY {
            *items = VecDeque::new();
        }
        item
    }

    pub fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Acquire)
    }

    /// A flag that ends the connection, if one is raised (the slow flag first).
    pub fn stopped(&self) -> Option<Stop> {
        if self.is_slow() {
            Some(Stop::Slow)
        } else if self.closing.load(Ordering::Acquire) {
            Some(Stop::Closing)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Topic;
    use bytes::Bytes;
    use std::time::Duration;

    fn frame(n: u8) -> Outbound {
        Outbound::Frame(Topic::Announcements, Bytes::from(vec![n]))
    }

    fn byte(item: &Outbound) -> u8 {
        match item {
            Outbound::Frame(_, bytes) => bytes[0],
            Outbound::Event(_) | Outbound::Revoked(_) => unreachable!(),
        }
    }

    async fn recv(mailbox: &Mailbox) -> Outbound {
        match mailbox.next().await {
            Next::Item(item) => item,
            Next::Stop(stop) => panic!("stopped: {stop:?}"),
        }
    }

    fn drain(mailbox: &Mailbox) -> Vec<u8> {
        std::iter::from_fn(|| mailbox.try_recv())
            .map(|item| byte(&item))
            .collect()
    }

    #[tokio::test]
    async fn delivers_in_order_and_holds_no_buffer_while_empty() {
        let mailbox = Mailbox::new(10);
        assert_eq!(mailbox.items().capacity(), 0);
        for n in 0..5 {
            assert_eq!(mailbox.offer(frame(n)), Offer::Queued);
        }
        assert_eq!(byte(&recv(&mailbox).await), 0);
        // Only the first offer woke anyone: a wait must look at the queue before it sleeps.
        let next = tokio::time::timeout(Duration::from_secs(5), recv(&mailbox))
            .await
            .expect("queued items are there without another wake-up");
        assert_eq!(byte(&next), 1);
        assert_eq!(drain(&mailbox), [2, 3, 4]);
        assert!(mailbox.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_when_an_item_arrives() {
        let mailbox = std::sync::Arc::new(Mailbox::new(10));
        let consumer = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move { byte(&recv(&mailbox).await) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        mailbox.offer(frame(7));
        let got = tokio::time::timeout(Duration::from_secs(5), consumer)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(got, 7);
    }

    #[tokio::test]
    async fn an_item_that_woke_a_cancelled_wait_reaches_the_next_one() {
        let mailbox = Mailbox::new(10);
        // `select!` drops a wait that was woken when another branch wins; the item must reach the
        // next wait, with no further offer to wake it.
        let mut first = Box::pin(mailbox.next());
        assert!(poll_once(first.as_mut()).is_none());
        mailbox.offer(frame(1));
        drop(first);
        let got = tokio::time::timeout(Duration::from_secs(5), recv(&mailbox))
            .await
            .expect("the next wait gets it");
        assert_eq!(byte(&got), 1);
    }

    fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        match f.poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }

    #[tokio::test]
    async fn a_full_mailbox_flags_the_consumer_once_and_lets_go_of_its_queue() {
        let mailbox = Mailbox::new(2);
        assert_eq!(mailbox.offer(frame(0)), Offer::Queued);
        assert_eq!(mailbox.offer(frame(1)), Offer::Queued);
        assert!(!mailbox.is_slow());
        assert_eq!(mailbox.offer(frame(2)), Offer::FlaggedSlow);
        assert!(mailbox.is_slow());
        let next = tokio::time::timeout(Duration::from_secs(5), mailbox.next())
            .await
            .expect("the flag is there without waiting");
        assert!(
            matches!(next, Next::Stop(Stop::Slow)),
            "the wait reports the flag"
        );
        assert_eq!(mailbox.items().capacity(), 0, "its queue is released");
        // Nothing more is queued for a connection that is being closed.
        assert_eq!(mailbox.offer(frame(3)), Offer::Dropped);
        assert!(mailbox.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_pending_wait_ends_with_the_slow_flag() {
        let mailbox = Mailbox::new(1);
        let mut wait = Box::pin(mailbox.next());
        assert!(poll_once(wait.as_mut()).is_none());
        // The wake-up of the first offer is still pending when the second flags the connection.
        assert_eq!(mailbox.offer(frame(1)), Offer::Queued);
        assert_eq!(mailbox.offer(frame(2)), Offer::FlaggedSlow);
        let next = tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("woken");
        assert!(matches!(next, Next::Stop(Stop::Slow)));
    }

    #[tokio::test]
    async fn closing_ends_a_pending_wait_and_comes_before_what_is_queued() {
        let mailbox = Mailbox::new(10);
        let mut wait = Box::pin(mailbox.next());
        assert!(poll_once(wait.as_mut()).is_none());
        mailbox.close();
        let next = tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("a waiting connection is woken by the shutdown");
        assert!(matches!(next, Next::Stop(Stop::Closing)));
        // The connection closes at once rather than flushing its queue; clients resume from the log.
        mailbox.offer(frame(1));
        assert!(matches!(mailbox.next().await, Next::Stop(Stop::Closing)));
        // A slow consumer's flag wins over the shutdown: its events were dropped, and 4002 says so.
        let full = Mailbox::new(1);
        full.close();
        full.offer(frame(2));
        assert_eq!(full.stopped(), Some(Stop::Closing));
        full.offer(frame(3));
        assert_eq!(full.stopped(), Some(Stop::Slow));
    }

    #[tokio::test]
    async fn a_drained_burst_gives_its_buffer_back() {
        let mailbox = Mailbox::new(1000);
        for n in 0..200 {
            mailbox.offer(frame(n as u8));
        }
        assert!(mailbox.items().capacity() >= 200);
        assert_eq!(drain(&mailbox).len(), 200);
        assert_eq!(mailbox.items().capacity(), 0);
        // A small queue keeps its buffer: no allocation per message at a steady trickle.
        mailbox.offer(frame(0));
        let _ = mailbox.try_recv();
        assert!(mailbox.items().capacity() > 0);
    }
}
