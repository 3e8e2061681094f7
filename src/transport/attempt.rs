//! Failures of one attempt before a complete response arrived, and reading
//! a response body within a size limit.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::error::{APIError, ErrorDetails};

/// A failure before a complete response arrived.
pub(super) enum AttemptError {
    /// No response within the per-attempt timeout.
    Timeout,
    /// More redirects than the client follows.
    Redirect,
    /// A redirect the client does not follow, with the reason.
    RedirectRefused {
        status: u16,
        request_id: Option<String>,
        message: String,
    },
    /// The request could not be built, such as a URL longer than an HTTP
    /// request line allows. Every attempt would fail the same way.
    Build(reqwest::Error),
    /// The connection could not be opened or broke.
    Network {
        connect: bool,
        source: reqwest::Error,
    },
    /// The body is larger than the client reads.
    TooLarge { status: u16, limit: usize },
}

impl From<reqwest::Error> for AttemptError {
    fn from(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_redirect() {
            Self::Redirect
        } else if error.is_builder() {
            Self::Build(error.without_url())
        } else {
            Self::Network {
                connect: error.is_connect(),
                // The URL is dropped so that a token in a query string never
                // reaches an error message.
                source: error.without_url(),
            }
        }
    }
}

impl AttemptError {
    pub(super) fn into_api_error(self, mut details: ErrorDetails) -> APIError {
        match self {
            Self::Timeout => {
                details.message = "no response within the timeout".to_owned();
                APIError::Timeout(Box::new(details))
            }
            Self::Redirect => {
                // A redirect loop fails the same way on every attempt, so the
                // error is not retryable.
                details.message = "the server redirected too many times".to_owned();
                APIError::UnexpectedStatus(Box::new(details))
            }
            Self::RedirectRefused {
                status,
                request_id,
                message,
            } => {
                details.status = Some(status);
                details.request_id = request_id;
                details.message = message;
                APIError::UnexpectedStatus(Box::new(details))
            }
            Self::Build(source) => {
                let cause = std::error::Error::source(&source)
                    .map(|cause| format!(": {cause}"))
                    .unwrap_or_default();
                APIError::InvalidInput(format!(
                    "the {} request could not be built ({source}{cause}); \
                     check the ids and query values passed to the call",
                    details.method.unwrap_or_default()
                ))
            }
            Self::Network { connect, source } => {
                details.message = if connect {
                    "could not connect to the server"
                } else {
                    "the connection failed before a complete response arrived"
                }
                .to_owned();
                APIError::Network {
                    details: Box::new(details),
                    source: Some(Arc::new(source)),
                }
            }
            Self::TooLarge { status, limit } => {
                details.status = Some(status);
                details.message = format!(
                    "response body exceeds the limit of {limit} bytes; \
                     raise it with ClientBuilder::max_response_bytes"
                );
                APIError::Decode(Box::new(details))
            }
        }
    }
}

/// Maximum buffer reserved for a body before its bytes arrive.
const MAX_INITIAL_RESERVE: usize = 1024 * 1024;

/// Reads a whole body, failing as soon as it exceeds `limit` bytes, so that a
/// hostile server cannot make the client buffer an unbounded response.
pub(super) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, AttemptError> {
    let status = response.status().as_u16();
    let too_large = AttemptError::TooLarge { status, limit };
    let declared = response.content_length().unwrap_or(0);
    if declared > limit as u64 {
        return Err(too_large);
    }
    // Most bodies arrive in one chunk, which is returned without a copy.
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(too_large);
    }
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    // The declared length sizes the buffer only up to a bound, because a
    // server can declare far more than it sends.
    let reserved = usize::try_from(declared)
        .unwrap_or(usize::MAX)
        .min(MAX_INITIAL_RESERVE);
    let mut body = BytesMut::with_capacity(reserved.max(first.len() + second.len()));
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok(body.freeze())
}
