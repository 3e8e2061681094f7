//! Scripted faults that the mock applies before routing a request.

use std::collections::VecDeque;
use std::time::Duration;

/// A scripted misbehaviour for requests whose path matches a pattern.
///
/// A fault applies to the next matching request and is then used up, unless
/// [`Fault::times`] raises the count. Faults are checked in the order they
/// were injected, and only the first matching fault applies to a request.
///
/// A pattern is an exact path (`/api/quiz/create`), a prefix ending in `*`
/// (`/api/quiz/*`), or `*` alone for every path. Patterns match the path
/// without its query string.
///
/// ```
/// use std::time::Duration;
/// use toolboxai::mock::Fault;
///
/// let rate_limited = Fault::status("/api/quiz/*", 429).retry_after("2").times(2);
/// let slow = Fault::delay("*", Duration::from_millis(200)).method("GET");
/// # let _ = (rate_limited, slow);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) pattern: String,
    pub(crate) method: Option<String>,
    pub(crate) kind: FaultKind,
    pub(crate) retry_after: Option<String>,
    pub(crate) remaining: u32,
}

/// The action a fault takes on a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Responds with this status and a `{"detail": ...}` JSON body.
    Status(u16),
    /// Sleeps, then handles the request normally.
    Delay(Duration),
    /// Closes the connection without sending a response.
    DropConnection,
    /// Handles the request, then closes the connection instead of sending
    /// the response.
    DropResponse,
    /// Responds with this status and an HTML body.
    MalformedBody(u16),
    /// Responds with this status and no body.
    EmptyBody(u16),
}

impl Fault {
    fn new(pattern: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            pattern: pattern.into(),
            method: None,
            kind,
            retry_after: None,
            remaining: 1,
        }
    }

    /// Creates a fault that responds with `status` and a JSON body
    /// `{"detail": "..."}` naming the injected status.
    pub fn status(pattern: impl Into<String>, status: u16) -> Self {
        Self::new(pattern, FaultKind::Status(status))
    }

    /// Creates a fault that waits for `delay` and then handles the request
    /// normally.
    pub fn delay(pattern: impl Into<String>, delay: Duration) -> Self {
        Self::new(pattern, FaultKind::Delay(delay))
    }

    /// Creates a fault that closes the TCP connection before any response is
    /// sent, so the client sees a connection error.
    pub fn drop_connection(pattern: impl Into<String>) -> Self {
        Self::new(pattern, FaultKind::DropConnection)
    }

    /// Creates a fault that handles the request normally, so that its effects
    /// (a stored quiz, a scored submission, a stored idempotent response)
    /// happen, and then closes the TCP connection instead of sending the
    /// response. A client sees a connection error for a request the server
    /// did process, which is what idempotent retries protect against.
    pub fn drop_response(pattern: impl Into<String>) -> Self {
        Self::new(pattern, FaultKind::DropResponse)
    }

    /// Creates a fault that responds with `status`, the content type
    /// `text/html` and the body `<html><body>Bad Gateway</body></html>`.
    pub fn malformed_body(pattern: impl Into<String>, status: u16) -> Self {
        Self::new(pattern, FaultKind::MalformedBody(status))
    }

    /// Creates a fault that responds with `status` and an empty body.
    pub fn empty_body(pattern: impl Into<String>, status: u16) -> Self {
        Self::new(pattern, FaultKind::EmptyBody(status))
    }

    /// Adds a `Retry-After` header with `value` sent verbatim, so a test can
    /// send delta seconds, an HTTP-date or an invalid value.
    ///
    /// The header is sent with status, malformed-body and empty-body faults.
    /// A value that is not a valid header value (for example one containing a
    /// line break) is left out and logged at `warn`.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// Sets how many matching requests the fault applies to. Default is 1.
    pub fn times(mut self, count: u32) -> Self {
        self.remaining = count;
        self
    }

    /// Restricts the fault to requests with this method, compared without
    /// regard to case. By default every method matches.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Returns whether the fault applies to a request with this method and
    /// path.
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(expected) = &self.method {
            if !expected.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        pattern_matches(&self.pattern, path)
    }
}

/// Returns whether `path` matches `pattern`: `*` matches every path, a
/// trailing `*` matches by prefix, and anything else must be equal.
pub(crate) fn pattern_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

/// The queue of injected faults, in injection order, and the random faults
/// that apply to requests no queued fault matches.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: VecDeque<Fault>,
    random: Option<RandomFaultState>,
    /// Random faults applied per kind, in [`RandomFaultKind::ALL`] order.
    /// Kept when random faults are replaced or turned off.
    random_counts: [u64; RandomFaultKind::ALL.len()],
}

impl FaultQueue {
    /// Appends a fault. A fault with a count of zero is ignored.
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.remaining > 0 {
            self.faults.push_back(fault);
        }
    }

    /// Removes every fault.
    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// Replaces the random faults, or turns them off with `None`.
    pub(crate) fn set_random(&mut self, random: Option<RandomFaults>) {
        self.random = random.map(RandomFaultState::new);
    }

    /// Returns how many random faults of `kind` were applied.
    pub(crate) fn random_count(&self, kind: RandomFaultKind) -> u64 {
        self.random_counts[kind.index()]
    }

    /// Takes one use of the first fault matching the request, removing the
    /// fault when that was its last use. When no queued fault matches, draws
    /// a random fault if random faults are on.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let Some(index) = self
            .faults
            .iter()
            .position(|fault| fault.matches(method, path))
        else {
            let (kind, fault) = self.random.as_mut()?.draw(path)?;
            self.random_counts[kind.index()] += 1;
            return Some(fault);
        };
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let applied = fault.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(applied)
    }
}

/// A kind of fault that [`RandomFaults`] injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RandomFaultKind {
    /// 429 with a `Retry-After` of whole seconds, drawn from zero to
    /// [`RandomFaults::max_retry_after`].
    RateLimited,
    /// 503.
    Unavailable,
    /// The connection is closed before the request is handled, as with
    /// [`Fault::drop_connection`].
    DropConnection,
    /// The request is handled and the connection is closed instead of
    /// sending the response, as with [`Fault::drop_response`].
    DropResponse,
    /// The request waits for a time drawn from zero to
    /// [`RandomFaults::max_delay`] and is then handled normally.
    Delay,
}

impl RandomFaultKind {
    /// Every kind, in the order the weights are kept.
    pub const ALL: [Self; 5] = [
        Self::RateLimited,
        Self::Unavailable,
        Self::DropConnection,
        Self::DropResponse,
        Self::Delay,
    ];

    fn index(self) -> usize {
        match self {
            Self::RateLimited => 0,
            Self::Unavailable => 1,
            Self::DropConnection => 2,
            Self::DropResponse => 3,
            Self::Delay => 4,
        }
    }
}

/// Faults applied at random to a share of requests, for soak tests.
///
/// Each request whose path matches [`RandomFaults::pattern`] and that no
/// queued [`Fault`] matches gets a fault with probability
/// [`RandomFaults::new`]'s `probability`. The kind is then drawn in
/// proportion to the kinds' weights, which are all 1 by default, so each of
/// the five kinds takes a fifth of the faults.
///
/// With [`RandomFaults::seed`], the sequence of draws is the same on every
/// run. Which request receives which draw still depends on the order in which
/// concurrent requests arrive.
///
/// ```
/// use std::time::Duration;
/// use toolboxai::mock::{RandomFaultKind, RandomFaults};
///
/// // 10 % of requests fail, never with a delay, reproducibly.
/// let faults = RandomFaults::new(0.10)
///     .weight(RandomFaultKind::Delay, 0)
///     .max_retry_after(1)
///     .seed(7);
/// # let _ = faults;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFaults {
    probability: f64,
    weights: [u32; RandomFaultKind::ALL.len()],
    max_retry_after: u64,
    max_delay: Duration,
    seed: Option<u64>,
    pattern: String,
}

impl RandomFaults {
    /// Creates random faults that hit each request with `probability`, such
    /// as 0.10 for 10 %. The value is clamped to 0 to 1, and NaN counts as 0.
    pub fn new(probability: f64) -> Self {
        let probability = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        Self {
            probability,
            weights: [1; RandomFaultKind::ALL.len()],
            max_retry_after: 1,
            max_delay: Duration::from_millis(20),
            seed: None,
            pattern: "*".to_owned(),
        }
    }

    /// Sets the relative weight of `kind`. Weight 0 turns the kind off, and
    /// when every weight is 0 no fault is applied. Default is 1 for every
    /// kind.
    pub fn weight(mut self, kind: RandomFaultKind, weight: u32) -> Self {
        self.weights[kind.index()] = weight;
        self
    }

    /// Sets the largest `Retry-After` of a 429, in seconds. Each 429 sends a
    /// whole number drawn uniformly from zero to this value. Default is 1.
    pub fn max_retry_after(mut self, seconds: u64) -> Self {
        self.max_retry_after = seconds;
        self
    }

    /// Sets the longest delay, drawn uniformly from zero to this value with
    /// millisecond resolution. Default is 20 ms.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the seed of the random number generator, so that a run can be
    /// repeated. By default the seed is random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Restricts the faults to paths matching `pattern`, written as for
    /// [`Fault`]. Default is `*`, every path.
    pub fn pattern(mut self, pattern: impl Into<String>) -> Self {
        self.pattern = pattern.into();
        self
    }
}

/// Random faults with the state of their random number generator.
#[derive(Debug)]
struct RandomFaultState {
    config: RandomFaults,
    rng: SplitMix64,
}

impl RandomFaultState {
    fn new(config: RandomFaults) -> Self {
        let seed = config
            .seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
        Self {
            config,
            rng: SplitMix64(seed),
        }
    }

    /// Decides whether a request to `path` gets a fault, and which.
    fn draw(&mut self, path: &str) -> Option<(RandomFaultKind, Fault)> {
        if !pattern_matches(&self.config.pattern, path) {
            return None;
        }
        let kind = self.draw_kind()?;
        let fault_kind = match kind {
            RandomFaultKind::RateLimited => FaultKind::Status(429),
            RandomFaultKind::Unavailable => FaultKind::Status(503),
            RandomFaultKind::DropConnection => FaultKind::DropConnection,
            RandomFaultKind::DropResponse => FaultKind::DropResponse,
            RandomFaultKind::Delay => {
                let max_millis =
                    u64::try_from(self.config.max_delay.as_millis()).unwrap_or(u64::MAX);
                FaultKind::Delay(Duration::from_millis(self.rng.below_inclusive(max_millis)))
            }
        };
        let mut fault = Fault::new(path, fault_kind);
        if kind == RandomFaultKind::RateLimited {
            let seconds = self.rng.below_inclusive(self.config.max_retry_after);
            fault = fault.retry_after(seconds.to_string());
        }
        Some((kind, fault))
    }

    /// Returns the kind of fault for one request, or `None` for no fault.
    fn draw_kind(&mut self) -> Option<RandomFaultKind> {
        if self.rng.next_f64() >= self.config.probability {
            return None;
        }
        let total: u64 = self
            .config
            .weights
            .iter()
            .map(|&weight| u64::from(weight))
            .sum();
        if total == 0 {
            return None;
        }
        let mut point = self.rng.below_inclusive(total - 1);
        for kind in RandomFaultKind::ALL {
            let weight = u64::from(self.config.weights[kind.index()]);
            if point < weight {
                return Some(kind);
            }
            point -= weight;
        }
        None
    }
}

/// The SplitMix64 generator: small, fast and good enough for choosing
/// faults, but not for anything secret.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `[0, 1)` from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns a number from 0 to `max`, both included. The modulo bias is
    /// below `max / 2^64`, which is negligible for the small ranges used here.
    fn below_inclusive(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(range) => self.next_u64() % range,
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matching_table() {
        let cases = [
            ("*", "/api/quiz/create", true),
            ("*", "/", true),
            ("/api/quiz/create", "/api/quiz/create", true),
            ("/api/quiz/create", "/api/quiz/create/", false),
            ("/api/quiz/create", "/api/quiz", false),
            ("/api/quiz/*", "/api/quiz/abc/submit", true),
            ("/api/quiz/*", "/api/quiz/", true),
            ("/api/quiz/*", "/api/quiz", false),
            ("/api/quiz*", "/api/quiz", true),
            ("/api/auth/login", "/api/auth/refresh", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(
                pattern_matches(pattern, path),
                expected,
                "pattern {pattern:?} on path {path:?}"
            );
        }
    }

    #[test]
    fn method_filter_ignores_case() {
        let fault = Fault::status("*", 500).method("post");
        assert!(fault.matches("POST", "/api/x"));
        assert!(!fault.matches("GET", "/api/x"));
    }

    #[test]
    fn queue_uses_up_fault_after_count() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("/a", 503).times(2));
        assert!(queue.take("GET", "/a").is_some());
        assert!(queue.take("GET", "/a").is_some());
        assert!(queue.take("GET", "/a").is_none());
    }

    #[test]
    fn queue_applies_faults_in_injection_order() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("*", 500));
        queue.push(Fault::status("/a", 503));
        let first = queue.take("GET", "/a").map(|fault| fault.kind);
        let second = queue.take("GET", "/a").map(|fault| fault.kind);
        assert_eq!(first, Some(FaultKind::Status(500)));
        assert_eq!(second, Some(FaultKind::Status(503)));
    }

    #[test]
    fn queue_skips_non_matching_faults() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("/b", 500));
        assert!(queue.take("GET", "/a").is_none());
        assert!(queue.take("GET", "/b").is_some());
    }

    #[test]
    fn queue_ignores_zero_count() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("*", 500).times(0));
        assert!(queue.take("GET", "/a").is_none());
    }
    /// Draws the kind of `draws` requests and returns the count per kind,
    /// in `RandomFaultKind::ALL` order, and the count without a fault.
    fn sample(config: RandomFaults, draws: u32) -> ([u32; 5], u32) {
        let mut state = RandomFaultState::new(config);
        let mut counts = [0; 5];
        let mut none = 0;
        for _ in 0..draws {
            match state.draw_kind() {
                Some(kind) => counts[kind.index()] += 1,
                None => none += 1,
            }
        }
        (counts, none)
    }

    #[test]
    fn random_fault_rate_table() {
        const DRAWS: u32 = 100_000;
        let cases = [(1, 0.10), (2, 0.10), (3, 0.01), (4, 0.5), (5, 0.25)];
        for (seed, probability) in cases {
            let (counts, _) = sample(RandomFaults::new(probability).seed(seed), DRAWS);
            let faults: u32 = counts.iter().sum();
            let rate = f64::from(faults) / f64::from(DRAWS);
            // The rate's standard deviation is at most 0.0016 for 100 000
            // draws, so the tolerance is more than six standard deviations.
            let tolerance = 0.01 + probability * 0.1;
            assert!(
                (rate - probability).abs() < tolerance,
                "seed {seed}, probability {probability}: rate {rate}"
            );
        }
    }

    #[test]
    fn random_fault_kinds_split_by_weight() {
        const DRAWS: u32 = 200_000;
        let cases: [(u64, [u32; 5]); 4] = [
            (11, [1, 1, 1, 1, 1]),
            (12, [2, 1, 1, 0, 0]),
            (13, [0, 0, 0, 0, 1]),
            (14, [1, 3, 0, 5, 1]),
        ];
        for (seed, weights) in cases {
            let mut config = RandomFaults::new(1.0).seed(seed);
            for kind in RandomFaultKind::ALL {
                config = config.weight(kind, weights[kind.index()]);
            }
            let (counts, none) = sample(config, DRAWS);
            assert_eq!(none, 0, "seed {seed}: probability 1 skipped a request");
            let total: u32 = weights.iter().sum();
            for kind in RandomFaultKind::ALL {
                let expected = f64::from(weights[kind.index()]) / f64::from(total);
                let share = f64::from(counts[kind.index()]) / f64::from(DRAWS);
                assert!(
                    (share - expected).abs() < 0.01,
                    "seed {seed}, {kind:?}: share {share}, expected {expected}"
                );
            }
        }
    }

    #[test]
    fn random_fault_edge_cases() {
        let cases = [
            ("probability 0", RandomFaults::new(0.0), 0),
            ("negative probability", RandomFaults::new(-1.0), 0),
            ("NaN probability", RandomFaults::new(f64::NAN), 0),
            ("probability above 1", RandomFaults::new(7.0), 1000),
            (
                "every weight 0",
                RandomFaultKind::ALL
                    .into_iter()
                    .fold(RandomFaults::new(1.0), |config, kind| {
                        config.weight(kind, 0)
                    }),
                0,
            ),
        ];
        for (case, config, expected) in cases {
            let (counts, _) = sample(config.seed(1), 1000);
            assert_eq!(counts.iter().sum::<u32>(), expected, "{case}");
        }
    }

    #[test]
    fn random_faults_repeat_with_seed() {
        let draw_all = |seed| {
            let mut state = RandomFaultState::new(RandomFaults::new(0.5).seed(seed));
            (0..1000)
                .map(|_| state.draw("/api/x").map(|(_, fault)| fault))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw_all(42), draw_all(42));
        assert_ne!(draw_all(42), draw_all(43));
    }

    #[test]
    fn random_retry_after_and_delay_stay_in_range() {
        let config = RandomFaults::new(1.0)
            .weight(RandomFaultKind::Unavailable, 0)
            .weight(RandomFaultKind::DropConnection, 0)
            .weight(RandomFaultKind::DropResponse, 0)
            .max_retry_after(2)
            .max_delay(Duration::from_millis(5))
            .seed(9);
        let mut state = RandomFaultState::new(config);
        let mut retry_after_seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let (kind, fault) = state.draw("/api/x").expect("probability 1 always faults");
            match (kind, fault.kind) {
                (RandomFaultKind::RateLimited, FaultKind::Status(429)) => {
                    let value = fault.retry_after.expect("a 429 has Retry-After");
                    retry_after_seen.insert(value);
                }
                (RandomFaultKind::Delay, FaultKind::Delay(delay)) => {
                    assert!(delay <= Duration::from_millis(5), "delay {delay:?}");
                }
                other => panic!("unexpected fault {other:?}"),
            }
        }
        let expected: std::collections::BTreeSet<String> = ["0", "1", "2"].map(String::from).into();
        assert_eq!(retry_after_seen, expected);
    }

    #[test]
    fn random_faults_respect_pattern() {
        let config = RandomFaults::new(1.0).pattern("/api/quiz/*").seed(3);
        let mut state = RandomFaultState::new(config);
        assert!(state.draw("/api/auth/refresh").is_none());
        assert!(state.draw("/api/quiz/q-1/submit").is_some());
    }

    #[test]
    fn queued_fault_wins_over_random_fault() {
        let mut queue = FaultQueue::default();
        let only_drops = RandomFaultKind::ALL
            .into_iter()
            .fold(RandomFaults::new(1.0), |config, kind| {
                config.weight(kind, 0)
            })
            .weight(RandomFaultKind::DropConnection, 1);
        queue.set_random(Some(only_drops));
        queue.push(Fault::status("/a", 500));
        let first = queue.take("GET", "/a").map(|fault| fault.kind);
        let second = queue.take("GET", "/a").map(|fault| fault.kind);
        assert_eq!(first, Some(FaultKind::Status(500)));
        assert_eq!(second, Some(FaultKind::DropConnection));
        assert_eq!(queue.random_count(RandomFaultKind::DropConnection), 1);
    }

    #[test]
    fn random_faults_turn_off() {
        let mut queue = FaultQueue::default();
        queue.set_random(Some(RandomFaults::new(1.0)));
        assert!(queue.take("GET", "/a").is_some());
        queue.set_random(None);
        assert!(queue.take("GET", "/a").is_none());
    }
}
