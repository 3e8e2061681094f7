//! When and how long to wait before sending a failed call again.
//!
//! The `backoff` crate computes the delays here and nowhere else, so it can
//! be replaced in this one module. Its own retry loop is not used because it
//! skips the elapsed-time check whenever a `Retry-After` is given, so a
//! server that always sends one would be retried forever.

use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::{ExponentialBackoff, ExponentialBackoffBuilder};

use crate::error::APIError;

/// The retry rules of a client: 408, 429, 500, 502, 503, 504,
/// connection failures and timeouts, with exponential backoff and jitter.
///
/// ```
/// use std::time::Duration;
/// use toolboxai::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_retries(5)
///     .initial_delay(Duration::from_millis(200));
/// assert_eq!(policy.get_max_retries(), 5);
/// assert_eq!(RetryPolicy::none().get_max_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_delay: Duration,
    multiplier: f64,
    jitter: f64,
    max_delay: Duration,
    max_elapsed: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay: Duration::from_millis(500),
            multiplier: 2.0,
            jitter: 0.5,
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Returns a policy that never retries.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// Sets how many times a call is sent again after its first attempt.
    ///
    /// Default is 3.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the delay before the first retry.
    ///
    /// Default is 500 ms.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the factor by which each delay grows. Values below 1 count as 1.
    ///
    /// Default is 2.
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Sets the jitter: each delay is drawn at random within this fraction
    /// above or below its nominal value, clamped to 0 to 1.
    ///
    /// Default is 0.5.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// Sets the longest single delay of the backoff schedule. A longer
    /// `Retry-After` is still honoured up to [`RetryPolicy::max_retry_after`].
    ///
    /// Default is 8 seconds.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the total time after which no further attempt starts, counted
    /// from the first attempt and including the wait before the next one.
    ///
    /// Default is 60 seconds.
    pub fn max_elapsed_time(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Sets the longest `Retry-After` the client waits. A longer one ends the
    /// call at once with [`APIError::RateLimited`] carrying the requested
    /// duration.
    ///
    /// Default is 60 seconds.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// Returns how many times a call is sent again after its first attempt.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Returns the longest `Retry-After` the client waits.
    pub fn get_max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    pub(crate) fn schedule(&self) -> Schedule<'_> {
        Schedule {
            policy: self,
            backoff: BackoffDelays::new(
                self.initial_delay,
                self.max_delay,
                self.multiplier,
                self.jitter,
            ),
            retries: 0,
        }
    }
}

/// Exponential delays with jitter, capped at a maximum. The HTTP retries and
/// the WebSocket reconnects both take their delays from here.
#[derive(Debug)]
pub(crate) struct BackoffDelays {
    backoff: ExponentialBackoff,
    max_delay: Duration,
}

impl BackoffDelays {
    pub(crate) fn new(
        initial: Duration,
        max_delay: Duration,
        multiplier: f64,
        jitter: f64,
    ) -> Self {
        let backoff = ExponentialBackoffBuilder::new()
            .with_initial_interval(initial)
            .with_multiplier(multiplier)
            .with_randomization_factor(jitter)
            .with_max_interval(max_delay)
            // Callers check elapsed time themselves, on tokio's clock.
            .with_max_elapsed_time(None)
            .build();
        Self { backoff, max_delay }
    }

    /// Returns the next delay of the series.
    pub(crate) fn next_delay(&mut self) -> Duration {
        // `next_backoff` returns `None` only after `max_elapsed_time`, which
        // is unset here.
        let delay = self.backoff.next_backoff().unwrap_or(self.max_delay);
        // Jitter can push a delay past the maximum, so it is capped again.
        delay.min(self.max_delay)
    }
}

/// The retry state of one logical call.
#[derive(Debug)]
pub(crate) struct Schedule<'a> {
    policy: &'a RetryPolicy,
    backoff: BackoffDelays,
    retries: u32,
}

/// The outcome of a failed attempt.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Wait this long, then send again.
    RetryAfter(Duration),
    /// Stop and return the error.
    Stop,
    /// Stop because the server asked for a longer wait than the policy allows.
    RetryAfterTooLong(Duration),
}

impl Schedule<'_> {
    /// Decides whether to retry after `error`, `elapsed` after the first
    /// attempt started. The backoff schedule advances on every call, and a
    /// longer `Retry-After` replaces its delay.
    pub(crate) fn next(&mut self, error: &APIError, elapsed: Duration) -> Decision {
        if !error.is_retryable() || self.retries >= self.policy.max_retries {
            return Decision::Stop;
        }
        let backoff_delay = self.backoff.next_delay();
        let delay = match retry_after(error) {
            Some(requested) if requested > self.policy.max_retry_after => {
                return Decision::RetryAfterTooLong(requested);
            }
            // The header sets a floor: `Retry-After: 0` does not skip backoff.
            Some(requested) => requested.max(backoff_delay),
            None => backoff_delay,
        };
        if elapsed.saturating_add(delay) > self.policy.max_elapsed {
            return Decision::Stop;
        }
        self.retries += 1;
        Decision::RetryAfter(delay)
    }
}

fn retry_after(error: &APIError) -> Option<Duration> {
    match error {
        APIError::RateLimited { retry_after, .. } => *retry_after,
        _ => error.details()?.retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorDetails;

    fn server_error(status: u16, retry_after: Option<Duration>) -> APIError {
        APIError::Server(Box::new(ErrorDetails {
            status: Some(status),
            retry_after,
            ..ErrorDetails::default()
        }))
    }

    fn no_jitter() -> RetryPolicy {
        RetryPolicy::default().jitter(0.0)
    }

    #[test]
    fn delays_grow_and_stop_after_max_retries() {
        let policy = no_jitter();
        let mut schedule = policy.schedule();
        let error = server_error(503, None);
        let decisions: Vec<Decision> = (0..4)
            .map(|_| schedule.next(&error, Duration::ZERO))
            .collect();
        assert_eq!(
            decisions,
            [
                Decision::RetryAfter(Duration::from_millis(500)),
                Decision::RetryAfter(Duration::from_millis(1000)),
                Decision::RetryAfter(Duration::from_millis(2000)),
                Decision::Stop,
            ]
        );
    }

    #[test]
    fn delay_is_capped_at_max_delay() {
        let policy = no_jitter()
            .max_retries(10)
            .initial_delay(Duration::from_secs(6));
        let mut schedule = policy.schedule();
        let error = server_error(500, None);
        schedule.next(&error, Duration::ZERO);
        assert_eq!(
            schedule.next(&error, Duration::ZERO),
            Decision::RetryAfter(Duration::from_secs(8))
        );
    }

    #[test]
    fn retry_after_replaces_backoff_delay() {
        let policy = no_jitter();
        let error = server_error(503, Some(Duration::from_secs(3)));
        assert_eq!(
            policy.schedule().next(&error, Duration::ZERO),
            Decision::RetryAfter(Duration::from_secs(3))
        );
    }

    #[test]
    fn retry_after_zero_keeps_backoff_delay() {
        let policy = no_jitter();
        let error = server_error(503, Some(Duration::ZERO));
        assert_eq!(
            policy.schedule().next(&error, Duration::ZERO),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn retry_after_above_maximum_stops() {
        let policy = no_jitter();
        let error = server_error(503, Some(Duration::from_secs(3600)));
        assert_eq!(
            policy.schedule().next(&error, Duration::ZERO),
            Decision::RetryAfterTooLong(Duration::from_secs(3600))
        );
    }

    #[test]
    fn elapsed_limit_stops_even_with_retry_after() {
        let policy = no_jitter().max_elapsed_time(Duration::from_secs(10));
        let error = server_error(503, Some(Duration::from_secs(2)));
        assert_eq!(
            policy.schedule().next(&error, Duration::from_secs(9)),
            Decision::Stop
        );
    }

    #[test]
    fn non_retryable_error_stops() {
        let policy = no_jitter();
        let error = APIError::NotFound(Box::default());
        assert_eq!(
            policy.schedule().next(&error, Duration::ZERO),
            Decision::Stop
        );
    }

    #[test]
    fn none_policy_never_retries() {
        let policy = RetryPolicy::none();
        let error = server_error(503, None);
        assert_eq!(
            policy.schedule().next(&error, Duration::ZERO),
            Decision::Stop
        );
    }

    #[test]
    fn jitter_keeps_delay_within_fraction() {
        let policy = RetryPolicy::default().jitter(0.5);
        for _ in 0..50 {
            let decision = policy
                .schedule()
                .next(&server_error(500, None), Duration::ZERO);
            let Decision::RetryAfter(delay) = decision else {
                panic!("expected a retry, got {decision:?}");
            };
            assert!(delay >= Duration::from_millis(250), "{delay:?}");
            assert!(delay <= Duration::from_millis(750), "{delay:?}");
        }
    }
}
