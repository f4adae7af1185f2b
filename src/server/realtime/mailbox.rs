//! A connection's mailbox: what the hub queued for one socket, bounded, and the slow-consumer flag.
//!
//! It replaces a tokio `mpsc` channel per connection, which allocates a block of 32 slots up front
//! and keeps it while the connection idles. A mailbox holds no buffer while empty and gives back a
//! large one once it drains, so thousands of idle connections cost a few dozen bytes each here.

use super::hub::Outbound;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

/// A queue that grew past this many slots during a burst is freed once it is empty again.
const KEEP_CAPACITY: usize = 16;

pub struct Mailbox {
    items: Mutex<VecDeque<Outbound>>,
    capacity: usize,
    /// Something was queued into an empty mailbox.
    arrived: Notify,
    slow: AtomicBool,
    slow_raised: Notify,
}

/// What became of an offered item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The mailbox was full: the item was dropped and the consumer flagged as slow.
    Full,
}

impl Mailbox {
    pub fn new(capacity: usize) -> Mailbox {
        Mailbox {
            items: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            arrived: Notify::new(),
            slow: AtomicBool::new(false),
            slow_raised: Notify::new(),
        }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Outbound>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an item without waiting. A full mailbox (or one already flagged) drops it, raises
    /// the slow flag and lets go of what is queued: that connection is about to be closed.
    pub fn offer(&self, item: Outbound) -> Offer {
        let mut items = self.items();
        if self.is_slow() || items.len() >= self.capacity {
            *items = VecDeque::new();
            drop(items);
            self.raise_slow();
            return Offer::Full;
        }
        let was_empty = items.is_empty();
        items.push_back(item);
        drop(items);
        if was_empty {
            // One wake-up per batch: the consumer takes everything queued by then.
            self.arrived.notify_one();
        }
        Offer::Queued
    }

    /// Waits until something is queued, then moves up to `max` items into `batch`.
    /// Cancel-safe: nothing is taken from the queue before the wait ends.
    pub async fn recv_batch(&self, batch: &mut Vec<Outbound>, max: usize) {
        loop {
            {
                let mut items = self.items();
                if !items.is_empty() {
                    let n = items.len().min(max);
                    batch.extend(items.drain(..n));
                    if items.is_empty() && items.capacity() > KEEP_CAPACITY {
                        *items = VecDeque::new();
                    }
                    return;
                }
            }
            // A wake-up that arrives between the check above and this wait is kept as a permit.
            self.arrived.notified().await;
        }
    }

    /// Moves up to `max` queued items into `batch` without waiting.
    pub fn try_recv_batch(&self, batch: &mut Vec<Outbound>, max: usize) {
        let mut items = self.items();
        let n = items.len().min(max);
        batch.extend(items.drain(..n));
    }

    fn raise_slow(&self) {
        if !self.slow.swap(true, Ordering::AcqRel) {
            self.slow_raised.notify_one();
        }
    }

    pub fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Acquire)
    }

    /// Resolves once the connection has been flagged as a slow consumer.
    pub async fn slow(&self) {
        if !self.is_slow() {
            self.slow_raised.notified().await;
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
            Outbound::Event(_) => unreachable!(),
        }
    }

    #[tokio::test]
    async fn delivers_in_order_in_batches_of_at_most_max() {
        let mailbox = Mailbox::new(10);
        for n in 0..5 {
            assert_eq!(mailbox.offer(frame(n)), Offer::Queued);
        }
        let mut batch = Vec::new();
        mailbox.recv_batch(&mut batch, 3).await;
        assert_eq!(batch.iter().map(byte).collect::<Vec<_>>(), [0, 1, 2]);
        batch.clear();
        mailbox.try_recv_batch(&mut batch, 64);
        assert_eq!(batch.iter().map(byte).collect::<Vec<_>>(), [3, 4]);
        batch.clear();
        mailbox.try_recv_batch(&mut batch, 64);
        assert!(batch.is_empty());
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_when_an_item_arrives() {
        let mailbox = std::sync::Arc::new(Mailbox::new(10));
        let consumer = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move {
                let mut batch = Vec::new();
                mailbox.recv_batch(&mut batch, 64).await;
                batch.iter().map(byte).collect::<Vec<_>>()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        mailbox.offer(frame(7));
        let got = tokio::time::timeout(Duration::from_secs(5), consumer)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(got, [7]);
    }

    #[tokio::test]
    async fn a_cancelled_wait_loses_neither_the_item_nor_the_wake_up() {
        let mailbox = Mailbox::new(10);
        let mut batch = Vec::new();
        // Wait, get cancelled; an item arrives after the cancellation.
        let _ = tokio::time::timeout(
            Duration::from_millis(10),
            mailbox.recv_batch(&mut batch, 64),
        )
        .await;
        mailbox.offer(frame(1));
        tokio::time::timeout(Duration::from_secs(5), mailbox.recv_batch(&mut batch, 64))
            .await
            .expect("the item is there");
        assert_eq!(batch.iter().map(byte).collect::<Vec<_>>(), [1]);
    }

    #[tokio::test]
    async fn a_full_mailbox_flags_the_consumer_and_lets_go_of_its_queue() {
        let mailbox = Mailbox::new(2);
        assert_eq!(mailbox.offer(frame(0)), Offer::Queued);
        assert_eq!(mailbox.offer(frame(1)), Offer::Queued);
        assert!(!mailbox.is_slow());
        assert_eq!(mailbox.offer(frame(2)), Offer::Full);
        assert!(mailbox.is_slow());
        tokio::time::timeout(Duration::from_secs(5), mailbox.slow())
            .await
            .expect("slow resolves");
        // Nothing more is queued for a connection that is being closed.
        assert_eq!(mailbox.offer(frame(3)), Offer::Full);
        let mut batch = Vec::new();
        mailbox.try_recv_batch(&mut batch, 64);
        assert!(batch.is_empty());
    }

    #[tokio::test]
    async fn a_drained_burst_gives_its_buffer_back() {
        let mailbox = Mailbox::new(1000);
        for n in 0..200 {
            mailbox.offer(frame(n as u8));
        }
        assert!(mailbox.items().capacity() >= 200);
        let mut batch = Vec::new();
        while !mailbox.items().is_empty() {
            mailbox.recv_batch(&mut batch, 64).await;
        }
        assert_eq!(batch.len(), 200);
        assert_eq!(mailbox.items().capacity(), 0);
    }
}
