//! Settings of the WebSocket connection: heartbeat, reconnect and buffers.

use std::time::Duration;

use crate::transport::BackoffDelays;

/// Maximum heartbeat interval or timeout. Timers further out would overflow
/// the clock's `Instant`, and a year between pings in effect turns the
/// heartbeat off.
const MAX_HEARTBEAT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Maximum event buffer capacity. The buffer's slots are allocated up front, about
/// 100 bytes each (an estimate from the size of `ServerEvent`), so this one
/// takes about 100 MiB before any event arrives.
const MAX_EVENT_CAPACITY: usize = 1 << 20;

/// Maximum outgoing queue capacity: the maximum permits of a `tokio` semaphore.
const MAX_OUTGOING_QUEUE: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// Settings of a [`WebSocketClient`](super::WebSocketClient), set with
/// [`ClientBuilder::websocket_config`](crate::ClientBuilder::websocket_config).
///
/// ```
/// use std::time::Duration;
/// use toolboxai::websocket::{ReconnectPolicy, WebSocketConfig};
///
/// let config = WebSocketConfig::default()
///     .heartbeat_interval(Duration::from_secs(15))
///     .reconnect(ReconnectPolicy::default().unlimited());
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketConfig {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) outgoing_queue_capacity: usize,
    pub(crate) event_capacity: usize,
    pub(crate) token_in_query: bool,
    pub(crate) max_message_bytes: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(20),
            heartbeat_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            reconnect: ReconnectPolicy::default(),
            outgoing_queue_capacity: 256,
            event_capacity: 1024,
            token_in_query: false,
            max_message_bytes: 1024 * 1024,
        }
    }
}

impl WebSocketConfig {
    /// Sets how often a ping is sent, whatever other traffic flows.
    ///
    /// Default is 20 seconds. Zero is raised to 1 ms, and values above one
    /// year are lowered to one year.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval.clamp(Duration::from_millis(1), MAX_HEARTBEAT);
        self
    }

    /// Sets how long after a ping the connection may stay without any
    /// incoming frame before it counts as dead and is reconnected. The same
    /// limit applies to a write that makes no progress.
    ///
    /// Default is 10 seconds. Values above one year are lowered to one year.
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) rejects zero,
    /// which would end every connection at its first ping.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = timeout.min(MAX_HEARTBEAT);
        self
    }

    /// Sets how long opening a connection, TCP and TLS and the HTTP upgrade
    /// together, may take.
    ///
    /// Default is 10 seconds.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets how a lost connection is reconnected.
    ///
    /// Default is [`ReconnectPolicy::default`]: 5 attempts, 500 ms initial
    /// delay doubling up to 30 s, with jitter.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// Sets how many outgoing messages may wait to be written, including the
    /// messages queued while the connection is being reopened. A message
    /// beyond this is rejected with [`APIError::WebSocket`](crate::APIError::WebSocket).
    ///
    /// Default is 256. Zero is raised to 1, and values above
    /// `tokio::sync::Semaphore::MAX_PERMITS` are lowered to it.
    pub fn outgoing_queue_capacity(mut self, capacity: usize) -> Self {
        self.outgoing_queue_capacity = capacity.clamp(1, MAX_OUTGOING_QUEUE);
        self
    }

    /// Sets how many received events are buffered for the
    /// [`EventStream`](super::EventStream)s of one client, which share one
    /// buffer. A stream that falls further behind skips the oldest events
    /// and then yields [`ServerEvent::Lagged`](super::ServerEvent::Lagged)
    /// with the number skipped.
    ///
    /// The buffer is bounded by event count, not bytes. Each buffered event
    /// is decoded from one message of at most [`Self::max_message_bytes`],
    /// so the worst case is on the order of `event_capacity ×
    /// max_message_bytes`, 1 GiB with the defaults, and a decoded
    /// [`ServerEvent::Unknown`](super::ServerEvent::Unknown) can take
    /// several times the size of its text. Typical events of a few hundred
    /// bytes need a few hundred KiB. Lower either setting when the worst
    /// case matters.
    ///
    /// The buffer's slots are allocated when
    /// [`Client::websocket`](crate::Client::websocket) is called, whether or
    /// not events arrive: about 100 bytes each, with the count rounded up to
    /// a power of two.
    ///
    /// Default is 1024. Zero is raised to 1, and values above 1 048 576 are
    /// lowered to it.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.clamp(1, MAX_EVENT_CAPACITY);
        self
    }

    /// Sets the largest message or frame the socket accepts, in bytes. A
    /// larger one fails the connection, which then reconnects like any other
    /// broken connection. Together with [`Self::event_capacity`] this bounds
    /// the memory of buffered events: at most about `event_capacity ×
    /// max_message_bytes`.
    ///
    /// Default is 1 MiB, far above the size of the server's JSON events.
    pub fn max_message_bytes(mut self, limit: usize) -> Self {
        self.max_message_bytes = limit;
        self
    }

    /// Sets whether the access token is sent as a `token` query parameter
    /// instead of an `Authorization: Bearer` header, for servers that cannot
    /// read headers on the upgrade request.
    ///
    /// This is less safe: URLs end up in proxy and server access logs, so
    /// the token may leak there. Default is off.
    pub fn token_in_query(mut self, enabled: bool) -> Self {
        self.token_in_query = enabled;
        self
    }
}

/// Reconnect settings of a WebSocket: exponential backoff with jitter and
/// a limit on consecutive attempts.
#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) multiplier: f64,
    pub(crate) jitter: f64,
    pub(crate) max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: Some(5),
        }
    }
}

impl ReconnectPolicy {
    /// Returns a policy that never reconnects: a lost connection ends in
    /// [`ConnectionState::Disconnected`](super::ConnectionState::Disconnected).
    pub fn none() -> Self {
        Self::default().max_attempts(0)
    }

    /// Sets the delay before the first attempt.
    ///
    /// Default is 500 ms.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the maximum delay between two attempts.
    ///
    /// Default is 30 seconds.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the factor by which the delay grows after each attempt.
    ///
    /// Default is 2. Values below 1 are raised to 1.
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            2.0
        };
        self
    }

    /// Sets the jitter: each delay is drawn at random within this fraction
    /// of its nominal value, so that many clients do not reconnect at once.
    ///
    /// Default is 0.5. Values are clamped to 0 through 1.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        self
    }

    /// Sets how many reconnect attempts in a row are made before giving up
    /// with [`DisconnectReason::AttemptsExhausted`](super::DisconnectReason::AttemptsExhausted).
    ///
    /// An attempt counts as failed also when it opens a connection that is
    /// not established. A connection is established once it stayed open
    /// for at least one heartbeat interval and received at least one frame
    /// from the server other than a close frame, a pong included. Only an
    /// established connection starts the count and the delays over, so a
    /// server that accepts the upgrade and then closes the connection at
    /// once, or never answers pings, uses up the attempts with growing
    /// delays.
    ///
    /// Default is 5.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Removes the limit on attempts: the client reconnects until
    /// [`WebSocketClient::disconnect`](super::WebSocketClient::disconnect)
    /// is called or authentication fails.
    pub fn unlimited(mut self) -> Self {
        self.max_attempts = None;
        self
    }

    /// Returns the delays of one series of attempts, which lasts until a
    /// connection is established.
    pub(crate) fn delays(&self) -> BackoffDelays {
        BackoffDelays::new(
            self.initial_delay,
            self.max_delay,
            self.multiplier,
            self.jitter,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_without_jitter() {
        let policy = ReconnectPolicy::default().jitter(0.0);
        let mut delays = policy.delays();
        let observed: Vec<Duration> = (0..3).map(|_| delays.next_delay()).collect();
        let expected = [500, 1000, 2000].map(Duration::from_millis);
        assert_eq!(observed, expected);
    }

    #[test]
    fn delays_stop_growing_at_max_delay() {
        let policy = ReconnectPolicy::default()
            .jitter(0.0)
            .max_delay(Duration::from_secs(1));
        let mut delays = policy.delays();
        let last = (0..5).map(|_| delays.next_delay()).last();
        assert_eq!(last, Some(Duration::from_secs(1)));
    }

    #[test]
    fn max_message_bytes_defaults_to_one_mebibyte() {
        let config = WebSocketConfig::default();
        assert_eq!(config.max_message_bytes, 1024 * 1024);
    }

    #[test]
    fn jitter_keeps_delay_within_fraction() {
        let policy = ReconnectPolicy::default().jitter(0.5);
        for _ in 0..50 {
            let delay = policy.delays().next_delay();
            assert!(delay >= Duration::from_millis(250), "{delay:?}");
            assert!(delay <= Duration::from_millis(750), "{delay:?}");
        }
    }

    #[test]
    fn extreme_settings_are_clamped() {
        let config = WebSocketConfig::default()
            .heartbeat_interval(Duration::MAX)
            .heartbeat_timeout(Duration::MAX)
            .event_capacity(usize::MAX)
            .outgoing_queue_capacity(usize::MAX);
        assert_eq!(config.heartbeat_interval, MAX_HEARTBEAT);
        assert_eq!(config.heartbeat_timeout, MAX_HEARTBEAT);
        assert_eq!(config.event_capacity, MAX_EVENT_CAPACITY);
        assert_eq!(config.outgoing_queue_capacity, MAX_OUTGOING_QUEUE);
    }
}
