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

/// The queue of injected faults, in injection order.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: VecDeque<Fault>,
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

    /// Takes one use of the first fault matching the request, removing the
    /// fault when that was its last use.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|fault| fault.matches(method, path))?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let applied = fault.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(applied)
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
}
