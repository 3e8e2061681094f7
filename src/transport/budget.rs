//! A per-client token bucket that limits retries when a server fails for
//! everyone, in the manner of the AWS SDKs' standard retry mode.
//!
//! Each retry spends tokens and each successful call returns one, so a
//! single caller never runs out, while hundreds of concurrent calls against a
//! failing server stop retrying once the bucket is empty instead of
//! multiplying the load.

use std::sync::atomic::{AtomicU32, Ordering};

/// Tokens a retry after an error response or connection failure costs.
pub(crate) const RETRY_COST: u32 = 5;
/// Tokens a retry after a timeout costs: a timeout suggests an overloaded
/// server, so it spends more.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
/// Default capacity: 100 retries at [`RETRY_COST`].
pub(crate) const DEFAULT_CAPACITY: u32 = 500;

#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    available: AtomicU32,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            capacity,
            available: AtomicU32::new(capacity),
        }
    }

    /// Takes `cost` tokens, or returns false and takes none when fewer remain.
    pub(crate) fn try_spend(&self, cost: u32) -> bool {
        self.available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |available| {
                available.checked_sub(cost)
            })
            .is_ok()
    }

    /// Returns one token after a successful call, up to the capacity.
    pub(crate) fn record_success(&self) {
        // Skip the write when full, which is the common case.
        if self.available.load(Ordering::Relaxed) >= self.capacity {
            return;
        }
        let _ = self
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |available| {
                refilled(available, self.capacity)
            });
    }

    #[cfg(test)]
    fn available(&self) -> u32 {
        self.available.load(Ordering::Acquire)
    }
}

/// Returns the count after adding one token, or `None` when the bucket is full.
///
/// A concurrent success can fill the bucket between the caller's first read
/// and this update. The capacity can be `u32::MAX`, so the sum is formed only
/// below the capacity.
fn refilled(available: u32, capacity: u32) -> Option<u32> {
    if available < capacity {
        Some(available + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_stops_at_empty() {
        let budget = RetryBudget::new(12);
        let spent = (0..5).filter(|_| budget.try_spend(RETRY_COST)).count();
        assert_eq!(spent, 2);
    }

    #[test]
    fn success_refills_up_to_capacity() {
        let budget = RetryBudget::new(10);
        assert!(budget.try_spend(RETRY_COST));
        for _ in 0..20 {
            budget.record_success();
        }
        assert_eq!(budget.available(), 10);
    }

    #[test]
    fn refill_of_full_max_bucket_refused() {
        assert_eq!(refilled(u32::MAX, u32::MAX), None);
    }

    #[test]
    fn refill_below_capacity_adds_one() {
        assert_eq!(refilled(7, 10), Some(8));
    }
}
