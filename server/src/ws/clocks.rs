//! A connection's clocks and its publish allowance: the timing rules of `ws`, kept apart from the IO.

use crate::config::WsSettings;
use std::time::{Duration, Instant};

/// Publishes allowed per minute, refilled continuously. The rate is the caller's to pass (it is in
/// the shared settings), not a copy kept in every connection.
pub(super) struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(super) fn new(per_minute: u32) -> Self {
        Self {
            tokens: per_minute as f64,
            last: Instant::now(),
        }
    }

    pub(super) fn take(&mut self, per_minute: u32) -> bool {
        let capacity = per_minute as f64;
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * capacity / 60.0;
        self.tokens = (self.tokens + refill).min(capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Which of a connection's clocks ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tick {
    SessionEnd,
    SessionCheck,
    Heartbeat,
}

/// A connection's three clocks (the token's expiry, the periodic session check, the heartbeat),
/// served by one timer: one `Sleep` per connection instead of three.
pub(super) struct Clocks {
    session_end: tokio::time::Instant,
    session_check: tokio::time::Instant,
    heartbeat: tokio::time::Instant,
}

impl Clocks {
    pub(super) fn start(settings: &WsSettings, session_left: Duration) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            session_end: now + session_left,
            session_check: now + settings.session_check,
            heartbeat: now + settings.heartbeat,
        }
    }

    /// When the timer must next wake the connection.
    pub(super) fn next(&self) -> tokio::time::Instant {
        self.session_end.min(self.session_check).min(self.heartbeat)
    }

    /// The clock that ran out by `now`, most urgent first, rearmed if it repeats. One per call:
    /// another one due at the same time fires on the next, immediate, wake-up.
    pub(super) fn take_due(
        &mut self,
        now: tokio::time::Instant,
        settings: &WsSettings,
    ) -> Option<Tick> {
        if now >= self.session_end {
            Some(Tick::SessionEnd)
        } else if now >= self.session_check {
            self.session_check = now + settings.session_check;
            Some(Tick::SessionCheck)
        } else if now >= self.heartbeat {
            self.heartbeat = now + settings.heartbeat;
            Some(Tick::Heartbeat)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WsSettings {
        WsSettings {
            heartbeat: Duration::from_secs(25),
            session_check: Duration::from_secs(30),
            ..WsSettings::default()
        }
    }

    #[test]
    fn the_timer_wakes_for_the_earliest_clock_and_each_clock_rearms_by_its_own_period() {
        let s = settings();
        let mut clocks = Clocks::start(&s, Duration::from_secs(100));
        let t0 = clocks.heartbeat - s.heartbeat;
        assert_eq!(clocks.next(), t0 + s.heartbeat, "the heartbeat comes first");
        assert_eq!(
            clocks.take_due(t0 + Duration::from_secs(10), &s),
            None,
            "nothing is due early"
        );

        // Woken late (a busy runtime): the next heartbeat counts from when this one fired.
        let at = t0 + s.heartbeat + Duration::from_secs(3);
        assert_eq!(clocks.take_due(at, &s), Some(Tick::Heartbeat));
        assert_eq!(
            clocks.heartbeat,
            at + s.heartbeat,
            "rearmed from when it fired"
        );
        assert_eq!(
            clocks.next(),
            t0 + s.session_check,
            "then the session check"
        );
        assert_eq!(clocks.take_due(at, &s), None, "fired once");

        let at = t0 + s.session_check;
        assert_eq!(clocks.take_due(at, &s), Some(Tick::SessionCheck));
        assert_eq!(clocks.session_check, at + s.session_check);
    }

    #[test]
    fn clocks_due_together_fire_one_per_wake_up_most_urgent_first() {
        let s = settings();
        let mut clocks = Clocks::start(&s, Duration::from_secs(40));
        let late = clocks.heartbeat - s.heartbeat + Duration::from_secs(45);
        assert_eq!(clocks.take_due(late, &s), Some(Tick::SessionEnd));
        // The session's end does not rearm: every later wake-up is the end again.
        assert_eq!(clocks.take_due(late, &s), Some(Tick::SessionEnd));

        let mut clocks = Clocks::start(&s, Duration::from_secs(1000));
        let late = clocks.heartbeat - s.heartbeat + Duration::from_secs(31);
        assert_eq!(clocks.take_due(late, &s), Some(Tick::SessionCheck));
        assert!(
            clocks.next() <= late,
            "the heartbeat is still due: the timer fires again at once"
        );
        assert_eq!(clocks.take_due(late, &s), Some(Tick::Heartbeat));
        assert_eq!(clocks.take_due(late, &s), None);
    }

    #[test]
    fn an_expired_token_is_due_at_once() {
        let s = settings();
        let mut clocks = Clocks::start(&s, Duration::ZERO);
        assert_eq!(clocks.take_due(clocks.next(), &s), Some(Tick::SessionEnd));
    }

    #[test]
    fn the_publish_allowance_runs_out_and_refills_with_time() {
        let mut bucket = TokenBucket::new(2);
        assert!(bucket.take(2) && bucket.take(2));
        assert!(!bucket.take(2), "two a minute: the third is refused");
        bucket.last -= Duration::from_secs(30);
        assert!(bucket.take(2), "half a minute later one more is allowed");
        assert!(!bucket.take(2));
    }
}
