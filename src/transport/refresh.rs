//! Single-flight token refresh.
//!
//! All calls that failed with the same access token wait for one
//! `POST /auth/refresh`, and the outcome is keyed by the token's generation.
//! A caller whose token was already replaced gets the new session at once.
//! A caller that waited while the refresh of its token failed gets that
//! failure instead of a second refresh request.
//!
//! A rejected refresh token stays rejected, so that failure is returned to
//! every later caller of the same generation too. A transient failure (the
//! network, a timeout, a 5xx) is returned only to the calls that were waiting
//! for it, and the next call tries again, so a long-running client recovers
//! once the server is reachable.
//!
//! The refresh runs in a task of its own. A server that rotates refresh
//! tokens accepts each one once, so a refresh abandoned after the server
//! responded would lose the only valid refresh token. Cancelling a caller
//! therefore only stops its wait. The new tokens are stored only while the
//! refreshed session is still the current one, or the current session still
//! contains the refresh token just spent, so a logout or a new login during the
//! refresh is not undone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

use super::{Call, Transport};
use crate::auth::{Session, Tokens};
use crate::error::{APIError, ErrorDetails, Result};
use crate::models::{RefreshRequest, TokenResponse};

/// The future of [`Transport::refresh_session`]. It is boxed because `send`
/// and `refresh_session` call each other, and marked `Send` because the
/// compiler cannot infer that through the cycle.
pub(crate) type RefreshFuture<'a> = Pin<Box<dyn Future<Output = Result<Arc<Session>>> + Send + 'a>>;

#[derive(Debug, Default)]
pub(crate) struct RefreshGate {
    /// Held for the whole refresh, so that one runs at a time. Holds the
    /// last failed refresh.
    last_failure: Mutex<Option<Failure>>,
}

#[derive(Debug)]
struct Failure {
    generation: u64,
    error: APIError,
    /// Whether the server rejected the refresh token itself.
    rejected: bool,
    at: Instant,
}

impl Failure {
    /// Returns whether a caller that started waiting at `waiting_since`
    /// shares this failure instead of refreshing again.
    fn applies_to(&self, generation: u64, waiting_since: Instant) -> bool {
        self.generation == generation && (self.rejected || self.at >= waiting_since)
    }
}

impl Transport {
    /// Replaces the session of `generation` with a refreshed one, unless
    /// another call already did so or already failed to.
    ///
    /// With `force`, a failure recorded for `generation` is ignored and the
    /// refresh is attempted again (an explicit refresh by the caller).
    pub(crate) fn refresh_session(&self, generation: u64, force: bool) -> RefreshFuture<'_> {
        let waiting_since = Instant::now();
        let this = self.this.upgrade();
        Box::pin(async move {
            let this = this.ok_or_else(|| {
                APIError::authentication("the client was dropped during a token refresh")
            })?;
            let turn = async move { this.refresh_in_turn(generation, force, waiting_since).await };
            tokio::spawn(turn.instrument(tracing::Span::current()))
                .await
                .map_err(|error| {
                    APIError::authentication(format!("token refresh task failed: {error}"))
                })?
        })
    }

    /// Waits for the refresh gate, then refreshes session `generation`
    /// unless that has already succeeded or failed for this caller.
    async fn refresh_in_turn(
        &self,
        generation: u64,
        force: bool,
        waiting_since: Instant,
    ) -> Result<Arc<Session>> {
        let mut last_failure = self.refresh.last_failure.lock().await;
        let current = self.tokens.session().ok_or_else(|| {
            APIError::authentication("logged out while waiting for a token refresh")
        })?;
        if current.generation != generation {
            return Ok(current);
        }
        if let Some(failure) = last_failure.as_ref() {
            if !force && failure.applies_to(generation, waiting_since) {
                return Err(failure.error.clone());
            }
        }
        match self.request_refresh(&current).await {
            Ok(session) => {
                *last_failure = None;
                tracing::info!(generation = session.generation, "access token refreshed");
                Ok(session)
            }
            Err(error) => {
                tracing::warn!(error = %error, "token refresh failed");
                let rejected = !error.is_retryable();
                let error = into_authentication(error);
                *last_failure = Some(Failure {
                    generation,
                    error: error.clone(),
                    rejected,
                    at: Instant::now(),
                });
                Err(error)
            }
        }
    }

    async fn request_refresh(&self, current: &Session) -> Result<Arc<Session>> {
        let refresh_token = current.tokens.refresh_token.clone().ok_or_else(|| {
            APIError::authentication(
                "the access token was rejected and no refresh token is stored: log in again",
            )
        })?;
        let request = RefreshRequest {
            refresh_token: refresh_token.clone(),
        };
        let mut call = Call::post(&["auth", "refresh"], &request)?;
        call.auth = super::Auth::Refresh;
        let response: TokenResponse = self.send(call).await?;
        let tokens = Tokens::from_response(&response, Some(refresh_token.clone()));
        let replaced = self
            .tokens
            .replace_refreshed(current.generation, &refresh_token, tokens)
            .map_err(server_sent_bad_token)?;
        if let Some(session) = replaced {
            return Ok(session);
        }
        tracing::info!("session changed during the token refresh, discarding the new tokens");
        // The call started under the old session, so it is not sent again
        // with another login's token.
        Err(match self.tokens.session() {
            Some(_) => APIError::authentication(
                "another login replaced the session while its token was being refreshed, \
                 so the call was not sent again",
            ),
            None => {
                APIError::authentication("logged out while the access token was being refreshed")
            }
        })
    }
}

/// Turns any refresh failure into an authentication error that keeps the
/// details of the refresh request.
fn into_authentication(error: APIError) -> APIError {
    match error {
        APIError::Authentication(details) => APIError::Authentication(details),
        other => {
            let mut details = other.details().cloned().unwrap_or_default();
            details.message = format!("token refresh failed: {}", other.message());
            APIError::Authentication(Box::new(details))
        }
    }
}

/// Reports a token the server sent that cannot go into a header as a
/// decoding error, because the server is at fault, not the caller.
pub(crate) fn server_sent_bad_token(error: APIError) -> APIError {
    APIError::Decode(Box::new(ErrorDetails::new(format!(
        "the server sent an unusable token: {}",
        error.message()
    ))))
}
