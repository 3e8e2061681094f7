//! The tokens of a client and the store that shares them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use super::jwt;
use crate::models::TokenResponse;

/// The tokens of a logged-in session, for saving and restoring a login.
///
/// `Debug` prints `[REDACTED]` in place of each token.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Bearer token for API calls.
    pub access_token: SecretString,
    /// Token that obtains a new access token, when the server issued one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires: from `expires_in`, else from the JWT
    /// `exp` claim, else unknown.
    pub expires_at: Option<SystemTime>,
}

impl Tokens {
    /// Creates tokens from saved values. The expiry is read from the access
    /// token's JWT `exp` claim when it has one.
    pub fn new(access_token: impl Into<String>, refresh_token: Option<String>) -> Self {
        let access_token = SecretString::from(access_token.into());
        let expires_at = jwt::expiry(access_token.expose_secret());
        Self {
            access_token,
            refresh_token: refresh_token.map(SecretString::from),
            expires_at,
        }
    }

    /// Builds tokens from a login or refresh response. A refresh response without
    /// a refresh token keeps `previous_refresh`.
    pub(crate) fn from_response(
        response: &TokenResponse,
        previous_refresh: Option<SecretString>,
    ) -> Self {
        let now = SystemTime::now();
        let expires_at = response
            .expires_in
            // A lifetime too large for the clock counts as unknown.
            .and_then(|seconds| now.checked_add(Duration::from_secs(seconds)))
            .or_else(|| jwt::expiry(response.access_token.expose_secret()));
        Self {
            access_token: response.access_token.clone(),
            refresh_token: response.refresh_token.clone().or(previous_refresh),
            expires_at,
        }
    }

    /// Returns how long the access token stays valid, or `None` when its
    /// expiry is unknown. An expired token gives `Some(Duration::ZERO)`.
    pub fn remaining_lifetime(&self) -> Option<Duration> {
        let expires_at = self.expires_at?;
        Some(
            expires_at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// Tokens plus the `Authorization` header built from them once.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) tokens: Tokens,
    pub(crate) bearer: HeaderValue,
    /// Half the token's lifetime when it was stored, so that a token living
    /// shorter than the refresh margin is not refreshed before every call.
    pub(crate) half_lifetime: Option<Duration>,
    /// Increases with every new access token, so that callers can tell
    /// whether the token they used is still the current one.
    pub(crate) generation: u64,
}

/// Shared, replaceable token state of one client.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    current: RwLock<Option<Arc<Session>>>,
    /// Last generation handed out; never reused, even after a logout.
    generations: AtomicU64,
}

impl TokenStore {
    /// Returns the current session, if logged in.
    pub(crate) fn session(&self) -> Option<Arc<Session>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the tokens. Fails only when the access token contains bytes
    /// that are not allowed in an HTTP header.
    pub(crate) fn set(&self, tokens: Tokens) -> Result<Arc<Session>, crate::APIError> {
        let stored = self.store_if(tokens, |_| true)?;
        Ok(stored.expect("an unconditional store always stores"))
    }

    /// Stores the result of refreshing session `generation` with the refresh
    /// token `used`. Returns `None`, and stores nothing, when a login,
    /// restore, refresh or logout has replaced or cleared that session in
    /// the meantime, unless the current session still contains `used`: that
    /// token may be spent now, so the refreshed tokens replace it.
    pub(crate) fn replace_refreshed(
        &self,
        generation: u64,
        used: &SecretString,
        tokens: Tokens,
    ) -> Result<Option<Arc<Session>>, crate::APIError> {
        self.store_if(tokens, |current| {
            current.is_some_and(|session| {
                let contains_used = session
                    .tokens
                    .refresh_token
                    .as_ref()
                    .is_some_and(|token| token.expose_secret() == used.expose_secret());
                session.generation == generation || contains_used
            })
        })
    }

    /// Stores the tokens as a new session when `accept` approves the
    /// current one, checked under the same write lock as the store.
    fn store_if(
        &self,
        tokens: Tokens,
        accept: impl FnOnce(Option<&Session>) -> bool,
    ) -> Result<Option<Arc<Session>>, crate::APIError> {
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", tokens.access_token.expose_secret()))
                .map_err(|_| {
                    crate::APIError::InvalidInput(
                        "access token contains characters not allowed in an HTTP header".into(),
                    )
                })?;
        bearer.set_sensitive(true);
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !accept(current.as_deref()) {
            return Ok(None);
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let half_lifetime = tokens.remaining_lifetime().map(|lifetime| lifetime / 2);
        let session = Arc::new(Session {
            tokens,
            bearer,
            half_lifetime,
            generation,
        });
        *current = Some(Arc::clone(&session));
        Ok(Some(session))
    }

    /// Forgets the tokens.
    pub(crate) fn clear(&self) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}
