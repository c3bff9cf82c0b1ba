//! A token bucket per connection.

use std::time::{Duration, Instant};

/// Allows `burst` messages at once and `per_second` on average.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(burst: u32, now: Instant) -> Self {
        TokenBucket { tokens: f64::from(burst), last: now }
    }

    /// Takes one token if there is one.
    pub(crate) fn take(&mut self, now: Instant, burst: u32, per_second: u32) -> bool {
        let elapsed = now.saturating_duration_since(self.last).min(Duration::from_secs(3600));
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * f64::from(per_second)).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3, t0);
        assert!((0..3).all(|_| b.take(t0, 3, 10)));
        assert!(!b.take(t0, 3, 10));
        assert!(b.take(t0 + Duration::from_millis(100), 3, 10));
        assert!(!b.take(t0 + Duration::from_millis(100), 3, 10));
    }
}
