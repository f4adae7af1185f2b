//! A small log-linear latency histogram (microseconds, about 1.6 % resolution) that merges across
//! processes: workers send their buckets as sparse `[index, count]` pairs.

use serde::{Deserialize, Serialize};

const LINEAR: u64 = 128;
const SUB: u64 = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let bits = 63 - v.leading_zeros() as u64; // >= 7
    let shift = bits - 6;
    let sub = (v >> shift) - SUB;
    (LINEAR + (bits - 7) * SUB + sub) as usize
}

fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let bits = (i - LINEAR) / SUB + 7;
    let sub = (i - LINEAR) % SUB;
    (SUB + sub) << (bits - 6)
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        let i = index(v);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value below which `q` (0..=1) of the samples fall, as the lower edge of its bucket.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lower_bound(i).min(self.max);
            }
        }
        self.max
    }

    pub fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (i, c) in other.counts.iter().enumerate() {
            self.counts[i] += c;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [
            0u64, 1, 127, 128, 129, 200, 1_000, 65_000, 1_000_000, 60_000_000,
        ] {
            let i = index(v);
            assert!(i >= last, "{v}");
            last = i;
            let lo = lower_bound(i);
            assert!(lo <= v && v - lo <= v / 60 + 1, "{v} -> {lo}");
        }
    }

    #[test]
    fn quantiles_of_a_uniform_range() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 - 5_000.0).abs() < 100.0, "{p50}");
        assert!((p99 - 9_900.0).abs() < 200.0, "{p99}");
        assert_eq!(h.max(), 10_000);
        let mut merged = Histogram::default();
        merged.merge(&h);
        merged.merge(&h);
        assert_eq!(merged.count(), 20_000);
        assert_eq!(merged.quantile(0.5), h.quantile(0.5));
    }
}
