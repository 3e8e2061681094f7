//! The one error type of the crate.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Result alias with [`APIError`] as the error.
pub type Result<T, E = APIError> = std::result::Result<T, E>;

/// Error codes of the protocol, as the reference clients name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The server could not be reached, or it did not respond in time.
    NetworkError,
    /// Credentials or token missing, invalid, expired or not allowed.
    AuthenticationError,
    /// The request was rejected as invalid.
    ValidationError,
    /// The resource does not exist.
    NotFound,
    /// Too many requests.
    RateLimit,
    /// The server failed or sent a response this client cannot read.
    ServerError,
}

impl ErrorCode {
    /// Returns the code as the protocol spells it, such as `RATE_LIMIT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetworkError => "NETWORK_ERROR",
            Self::AuthenticationError => "AUTHENTICATION_ERROR",
            Self::ValidationError => "VALIDATION_ERROR",
            Self::NotFound => "NOT_FOUND",
            Self::RateLimit => "RATE_LIMIT",
            Self::ServerError => "SERVER_ERROR",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a FastAPI validation error (`{"detail": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// Location of the invalid value, such as `["body", "grade_level"]`.
    #[serde(default)]
    pub loc: Vec<serde_json::Value>,
    /// Description of the problem.
    #[serde(default)]
    pub msg: String,
    /// Machine-readable kind, such as `value_error`.
    #[serde(default, rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// Returns the location joined with dots, such as `body.grade_level`.
    pub fn location(&self) -> String {
        let parts: Vec<String> = self
            .loc
            .iter()
            .map(|part| match part {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        parts.join(".")
    }
}

/// What is known about a failed call: the request, the response and the
/// server's explanation. It never contains a token or a password.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorDetails {
    /// HTTP method of the request, when the error came from one.
    pub method: Option<String>,
    /// Path of the request, without the query string.
    pub path: Option<String>,
    /// HTTP status, when the server responded.
    pub status: Option<u16>,
    /// The server's message, or this client's description of the failure.
    pub message: String,
    /// Field errors from a FastAPI validation body.
    pub field_errors: Vec<FieldError>,
    /// The `details` member of a `{"message": ..., "details": ...}` body.
    pub details: Option<serde_json::Value>,
    /// The server's request id (`X-Request-ID`), for support requests.
    pub request_id: Option<String>,
    /// The start of a body that could not be decoded (at most 200 characters).
    pub body_snippet: Option<String>,
    /// The wait the server asked for in `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// Attempts made, counting the first.
    pub attempts: u32,
}

impl ErrorDetails {
    /// Creates details holding only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

impl fmt::Display for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(method), Some(path)) = (&self.method, &self.path) {
            write!(f, "{method} {path}")?;
            if let Some(status) = self.status {
                write!(f, " returned {status}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)?;
        for field in &self.field_errors {
            write!(f, "; {}: {}", field.location(), field.msg)?;
        }
        if let Some(snippet) = &self.body_snippet {
            write!(f, " (body starts with {snippet:?})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id {request_id}]")?;
        }
        Ok(())
    }
}

/// A shareable source error, so that one failure can reach many waiting calls.
pub type ErrorSource = Arc<dyn std::error::Error + Send + Sync>;

/// Every failure of the crate.
///
/// Match on the variant for control flow, or on [`APIError::code`] to follow
/// the protocol's error codes.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum APIError {
    /// 400, 409 or 422: the server rejected the request as invalid. Fix the
    /// input named in the details; retrying the same request fails again.
    #[error("invalid request: {0}")]
    Validation(Box<ErrorDetails>),
    /// 401, a failed token refresh, or a call that needs a login made
    /// without one. Log in again.
    #[error("authentication failed: {0}")]
    Authentication(Box<ErrorDetails>),
    /// 403: the account may not do this.
    #[error("forbidden: {0}")]
    Forbidden(Box<ErrorDetails>),
    /// 404: the resource does not exist.
    #[error("not found: {0}")]
    NotFound(Box<ErrorDetails>),
    /// 429, or a `Retry-After` longer than the retry policy accepts.
    #[error("rate limited: {details}{}", retry_after_text(.retry_after))]
    RateLimited {
        /// What failed.
        details: Box<ErrorDetails>,
        /// Wait the server requested in `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// 5xx: the server failed.
    #[error("server error: {0}")]
    Server(Box<ErrorDetails>),
    /// Another unsuccessful status, such as 405, or a 408 that was still
    /// returned after the retries were used up.
    #[error("unexpected status: {0}")]
    UnexpectedStatus(Box<ErrorDetails>),
    /// A successful status whose body is not what the protocol defines.
    #[error("could not decode the response: {0}")]
    Decode(Box<ErrorDetails>),
    /// The server could not be reached or the connection broke.
    #[error("network error: {details}")]
    Network {
        /// What failed.
        details: Box<ErrorDetails>,
        /// The underlying I/O or HTTP error.
        #[source]
        source: Option<ErrorSource>,
    },
    /// No response arrived within the configured timeout.
    #[error("timed out: {0}")]
    Timeout(Box<ErrorDetails>),
    /// The WebSocket cannot take a message or a connection: it is not
    /// connected, its outgoing queue is full, or its handshake failed.
    #[error("websocket error: {0}")]
    WebSocket(Box<ErrorDetails>),
    /// The caller passed a value the client cannot send, such as an empty id.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client was configured with an unusable value, such as a bad URL.
    #[error("invalid configuration: {0}")]
    Configuration(String),
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!(" (server asked to retry after {} s)", delay.as_secs()),
        None => String::new(),
    }
}

impl APIError {
    /// Returns the HTTP status of the response that caused the error, if any.
    pub fn status(&self) -> Option<u16> {
        self.details().and_then(|details| details.status)
    }

    /// Returns the protocol's error code for this error. The protocol has
    /// six codes, so several variants share one: match on the variant for
    /// the finer cause. A redirect the client did not follow counts as a
    /// server error, because the request itself may be valid.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) | Self::InvalidInput(_) | Self::Configuration(_) => {
                ErrorCode::ValidationError
            }
            Self::Authentication(_) | Self::Forbidden(_) => ErrorCode::AuthenticationError,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::RateLimited { .. } => ErrorCode::RateLimit,
            Self::Server(_) | Self::Decode(_) => ErrorCode::ServerError,
            Self::UnexpectedStatus(details) if details.status == Some(408) => {
                ErrorCode::NetworkError
            }
            Self::UnexpectedStatus(details)
                if details
                    .status
                    .is_some_and(|status| (300..400).contains(&status)) =>
            {
                ErrorCode::ServerError
            }
            Self::UnexpectedStatus(_) => ErrorCode::ValidationError,
            Self::Network { .. } | Self::Timeout(_) | Self::WebSocket(_) => ErrorCode::NetworkError,
        }
    }

    /// Returns whether sending the same request again may succeed: 408, 429,
    /// 500, 502, 503, 504, connection failures and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network { .. } | Self::Timeout(_) => true,
            Self::RateLimited { .. } => true,
            Self::WebSocket(_) => false,
            Self::Server(details) | Self::UnexpectedStatus(details) => {
                matches!(details.status, Some(408 | 500 | 502 | 503 | 504))
            }
            _ => false,
        }
    }

    /// Returns the server's message, or this client's description.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidInput(message) | Self::Configuration(message) => message,
            _ => self
                .details()
                .map(|details| details.message.as_str())
                .unwrap_or_default(),
        }
    }

    /// Returns the request id the server sent with the failed response.
    pub fn request_id(&self) -> Option<&str> {
        self.details()?.request_id.as_deref()
    }

    /// Returns what is known about the failed call, for errors that came
    /// from a request.
    pub fn details(&self) -> Option<&ErrorDetails> {
        match self {
            Self::Validation(details)
            | Self::Authentication(details)
            | Self::Forbidden(details)
            | Self::NotFound(details)
            | Self::Server(details)
            | Self::UnexpectedStatus(details)
            | Self::Decode(details)
            | Self::Timeout(details)
            | Self::WebSocket(details)
            | Self::RateLimited { details, .. }
            | Self::Network { details, .. } => Some(details),
            Self::InvalidInput(_) | Self::Configuration(_) => None,
        }
    }

    /// Creates an authentication error with a message and no request.
    pub(crate) fn authentication(message: impl Into<String>) -> Self {
        Self::Authentication(Box::new(ErrorDetails::new(message)))
    }
}
