//! Description of one logical API call, built by the managers.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde::Serialize;

use super::RetryPolicy;
use crate::error::{APIError, Result};

/// Whether a call sends the bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// No `Authorization` header (register, login).
    None,
    /// The current access token; the call fails without a login, and a 401
    /// triggers one token refresh and one replay.
    Bearer,
    /// The refresh call itself: the current access token when one is stored
    /// (some servers require it), and never a refresh on 401.
    Refresh,
}

/// One logical call: what the transport sends, on every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path segments below the API prefix, each percent-encoded on joining.
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(&'static str, String)>,
    /// JSON body, serialized once and shared by every attempt.
    pub(crate) body: Option<Bytes>,
    pub(crate) auth: Auth,
    /// Per-attempt timeout overriding the client's.
    pub(crate) timeout: Option<Duration>,
    /// Retry policy overriding the client's.
    pub(crate) retry: Option<RetryPolicy>,
    /// `Idempotency-Key` of a POST that repeats an earlier call, instead of
    /// a new key for this call.
    pub(crate) idempotency_key: Option<HeaderValue>,
}

impl Call {
    fn new(method: Method, segments: &[&str]) -> Self {
        Self {
            method,
            segments: segments
                .iter()
                .map(|segment| (*segment).to_owned())
                .collect(),
            query: Vec::new(),
            body: None,
            auth: Auth::Bearer,
            timeout: None,
            retry: None,
            idempotency_key: None,
        }
    }

    /// Creates a GET call with the bearer token.
    pub(crate) fn get(segments: &[&str]) -> Self {
        Self::new(Method::GET, segments)
    }

    /// Creates a POST call with the bearer token and a JSON body.
    pub(crate) fn post(segments: &[&str], body: &impl Serialize) -> Result<Self> {
        let body = serde_json::to_vec(body).map_err(|error| {
            APIError::InvalidInput(format!("request body could not be serialized: {error}"))
        })?;
        let mut call = Self::new(Method::POST, segments);
        call.body = Some(Bytes::from(body));
        Ok(call)
    }

    /// Sends the call without the bearer token.
    pub(crate) fn anonymous(mut self) -> Self {
        self.auth = Auth::None;
        self
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Overrides the per-attempt timeout.
    pub(crate) fn timeout(mut self, timeout: Option<Duration>) -> Self {
        if timeout.is_some() {
            self.timeout = timeout;
        }
        self
    }
}

/// Rejects an id that would not name one path segment: empty, `.` or `..`
/// (which URL normalization removes), or holding control characters (which
/// URL parsing strips).
pub(crate) fn require_id<'a>(name: &str, id: &'a str) -> Result<&'a str> {
    if id.trim().is_empty() {
        return Err(APIError::InvalidInput(format!("{name} must not be empty")));
    }
    if id == "." || id == ".." {
        return Err(APIError::InvalidInput(format!(
            "{name} {id:?} is not a valid id"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(APIError::InvalidInput(format!(
            "{name} {id:?} contains control characters"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_id_cases() {
        let cases = [
            ("quiz-1", true),
            ("a/b", true),
            ("é", true),
            ("", false),
            ("  ", false),
            (".", false),
            ("..", false),
            ("q\r\nX", false),
            ("q\tX", false),
        ];
        for (id, valid) in cases {
            assert_eq!(require_id("quiz id", id).is_ok(), valid, "{id:?}");
        }
    }
}
