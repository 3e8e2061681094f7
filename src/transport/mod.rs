//! The one function through which every HTTP call goes.
//!
//! Managers describe a call as a [`Call`]. [`Transport::send`] joins the URL
//! and attaches the bearer token and an idempotency key. It sends the body
//! serialized once, retries what may succeed on a second try, and refreshes
//! an expired token once. Then it maps the status to an [`APIError`] and
//! decodes the response, all inside one tracing span per logical call.

mod attempt;
mod budget;
mod call;
mod redirect;
mod refresh;
mod response;
mod retry;

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::auth::{Session, TokenStore};
use crate::error::{APIError, ErrorDetails, Result};

pub(crate) use budget::DEFAULT_CAPACITY as DEFAULT_RETRY_BUDGET;
pub(crate) use call::{require_id, Auth, Call};
pub(crate) use retry::BackoffDelays;
pub use retry::RetryPolicy;

use attempt::AttemptError;
use budget::{RetryBudget, RETRY_COST, TIMEOUT_RETRY_COST};
pub(crate) use refresh::server_sent_bad_token;
use refresh::RefreshGate;
use retry::Decision;

/// Header that makes a retried POST safe: the server returns the stored
/// response for a repeated key instead of acting twice.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Settings the transport reads on every call.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    /// Per-attempt timeout when the call sets none.
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    /// Whether a 401 or a nearly expired token triggers a refresh.
    pub(crate) auto_refresh: bool,
    /// How long before its known expiry a token is refreshed.
    pub(crate) refresh_margin: Duration,
    /// Capacity of the retry budget, in tokens.
    pub(crate) retry_budget: u32,
    /// Largest response body read, in bytes.
    pub(crate) max_response_bytes: usize,
}

/// Shared HTTP state of one client.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    /// Base URL with the API prefix, such as `http://localhost:8008/api`.
    api_base: Url,
    pub(crate) tokens: Arc<TokenStore>,
    config: TransportConfig,
    refresh: RefreshGate,
    budget: RetryBudget,
    /// This transport, for token refreshes that run in a task of their own.
    this: Weak<Transport>,
}

/// A response with its status, headers and whole body.
type RawResponse = (StatusCode, HeaderMap, Bytes);

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        api_base: Url,
        tokens: Arc<TokenStore>,
        config: TransportConfig,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            http,
            api_base,
            tokens,
            budget: RetryBudget::new(config.retry_budget),
            config,
            refresh: RefreshGate::default(),
            this: Weak::clone(this),
        })
    }

    /// Sends a call and decodes its JSON response into `T`.
    ///
    /// # Errors
    ///
    /// The status variants of [`APIError`] for unsuccessful responses, after
    /// retries and with the attempt count. Also [`APIError::Decode`] for a body that
    /// does not match `T`, [`APIError::Network`] and [`APIError::Timeout`] for
    /// failed connections, and [`APIError::Authentication`] for a call that
    /// needs a login made without one or whose token could not be refreshed.
    pub(crate) async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let url = self.url_for(&call)?;
        let span = tracing::info_span!(
            "toolboxai.request",
            method = %call.method,
            path = %url.path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.send_in_span(call, url).instrument(span).await
    }

    async fn send_in_span<T: DeserializeOwned>(&self, call: Call, url: Url) -> Result<T> {
        let policy = call.retry.as_ref().unwrap_or(&self.config.retry);
        let mut schedule = policy.schedule();
        let idempotency_key = call
            .idempotency_key
            .clone()
            .or_else(|| (call.method == Method::POST).then(new_idempotency_key));
        let started = Instant::now();
        let mut replayed_after_refresh = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let span = tracing::Span::current();
            span.record("attempt", attempt);
            // Built only on failure, so that a successful call allocates none.
            let details = || ErrorDetails {
                method: Some(call.method.to_string()),
                path: Some(url.path().to_owned()),
                attempts: attempt,
                ..ErrorDetails::default()
            };
            let session = self.session_for(&call).await?;
            let bearer = session.as_ref().map(|session| session.bearer.clone());
            let outcome = self
                .attempt(&call, &url, bearer, idempotency_key.clone())
                .await;
            let error = match outcome {
                Ok((status, headers, body)) => {
                    span.record("status", status.as_u16());
                    tracing::debug!(status = status.as_u16(), attempt, "response received");
                    if status.is_success() {
                        self.budget.record_success();
                        return response::decode(&body, details);
                    }
                    response::error_for_status(status, &headers, &body, details())
                }
                Err(error) => error.into_api_error(details()),
            };

            let refreshable = call.auth == Auth::Bearer
                && self.config.auto_refresh
                && !replayed_after_refresh
                && matches!(error, APIError::Authentication(_));
            if let (true, Some(session)) = (refreshable, &session) {
                if session.tokens.refresh_token.is_some() {
                    tracing::warn!(attempt, "access token rejected, refreshing it");
                    self.refresh_session(session.generation, false).await?;
                    replayed_after_refresh = true;
                    continue;
                }
            }

            let delay = match schedule.next(&error, started.elapsed()) {
                Decision::RetryAfter(delay) => delay,
                Decision::Stop => return Err(error),
                Decision::RetryAfterTooLong(requested) => {
                    tracing::warn!(
                        attempt,
                        retry_after_secs = requested.as_secs(),
                        "server asked for a longer wait than the retry policy allows"
                    );
                    return Err(rate_limited(error, requested));
                }
            };
            let cost = match error {
                APIError::Timeout(_) => TIMEOUT_RETRY_COST,
                _ => RETRY_COST,
            };
            if !self.budget.try_spend(cost) {
                tracing::warn!(attempt, error = %error, "retry budget exhausted, not retrying");
                return Err(error);
            }
            tracing::warn!(
                attempt,
                status = error.status(),
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Returns the session whose token the call sends, refreshing a token
    /// that is about to expire first.
    async fn session_for(&self, call: &Call) -> Result<Option<Arc<Session>>> {
        match call.auth {
            Auth::None => Ok(None),
            Auth::Refresh => Ok(self.tokens.session()),
            Auth::Bearer => {
                let session = self.tokens.session().ok_or_else(|| {
                    APIError::authentication(
                        "not logged in: call auth().login() or auth().restore_tokens() first",
                    )
                })?;
                let margin = session
                    .half_lifetime
                    .map_or(self.config.refresh_margin, |half| {
                        half.min(self.config.refresh_margin)
                    });
                let expiring = session
                    .tokens
                    .remaining_lifetime()
                    .is_some_and(|remaining| remaining <= margin);
                if !(expiring && self.config.auto_refresh && session.tokens.refresh_token.is_some())
                {
                    return Ok(Some(session));
                }
                tracing::debug!("access token expires soon, refreshing it first");
                match self.refresh_session(session.generation, false).await {
                    Ok(fresh) => Ok(Some(fresh)),
                    // The old token may still be accepted; a 401 then reports
                    // the recorded refresh failure without a second refresh.
                    Err(_) => Ok(Some(session)),
                }
            }
        }
    }

    /// Sends one attempt, following the redirects that [`redirect`] allows
    /// within the attempt's timeout, and reads the whole body.
    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
        bearer: Option<HeaderValue>,
        idempotency_key: Option<HeaderValue>,
    ) -> Result<RawResponse, AttemptError> {
        let timeout = call.timeout.unwrap_or(self.config.request_timeout);
        // A timeout beyond the clock's range, such as `Duration::MAX`, has no
        // deadline, and each hop gets it whole.
        let deadline = Instant::now().checked_add(timeout);
        let mut target = url.clone();
        let mut redirects = 0;
        // Status and request id of the redirect that led to `target`.
        let mut last_redirect: Option<(u16, Option<String>)> = None;
        loop {
            let remaining = deadline.map_or(timeout, |deadline| {
                deadline.saturating_duration_since(Instant::now())
            });
            let mut request = self
                .http
                .request(call.method.clone(), target.clone())
                .timeout(remaining);
            if let Some(bearer) = &bearer {
                request = request.header(AUTHORIZATION, bearer.clone());
            }
            if let Some(key) = &idempotency_key {
                request = request.header(IDEMPOTENCY_KEY, key.clone());
            }
            if let Some(body) = &call.body {
                request = request
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body.clone());
            }
            let mut response = match (request.send().await, last_redirect.take()) {
                (Ok(response), _) => response,
                // The server's Location, not the caller, made this request
                // impossible to build.
                (Err(error), Some((status, request_id))) if error.is_builder() => {
                    return Err(AttemptError::RedirectRefused {
                        status,
                        request_id,
                        message: format!(
                            "redirect to {} could not be requested",
                            redirect::display_url(&target)
                        ),
                    });
                }
                (Err(error), _) => return Err(AttemptError::from(error)),
            };
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            if status.is_redirection() {
                match redirect::next_hop(&call.method, status, &headers, &target) {
                    Ok(_) if redirects == redirect::MAX_REDIRECTS => {
                        return Err(AttemptError::RedirectRefused {
                            status: status.as_u16(),
                            request_id: response::request_id(&headers),
                            message: format!(
                                "the server redirected more than {} times",
                                redirect::MAX_REDIRECTS
                            ),
                        })
                    }
                    Ok(next) => {
                        tracing::debug!(status = status.as_u16(), "following a redirect");
                        redirects += 1;
                        last_redirect = Some((status.as_u16(), response::request_id(&headers)));
                        target = next;
                        continue;
                    }
                    Err(message) => {
                        return Err(AttemptError::RedirectRefused {
                            status: status.as_u16(),
                            request_id: response::request_id(&headers),
                            message,
                        })
                    }
                }
            }
            let body = attempt::read_body(response, self.config.max_response_bytes).await?;
            return Ok((status, headers, body));
        }
    }

    /// Joins the API base, the call's path segments and its query.
    fn url_for(&self, call: &Call) -> Result<Url> {
        let mut url = self.api_base.clone();
        url.path_segments_mut()
            .map_err(|()| APIError::Configuration("base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(&call.segments);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        Ok(url)
    }
}

/// Returns a new random `Idempotency-Key` value.
pub(crate) fn new_idempotency_key() -> HeaderValue {
    let key = uuid::Uuid::new_v4().hyphenated().to_string();
    HeaderValue::from_str(&key).expect("a UUID is a valid header value")
}

/// Converts the last error into a rate-limit error carrying the wait the
/// server requested, which its `Display` names.
fn rate_limited(error: APIError, requested: Duration) -> APIError {
    let details = error.details().cloned().unwrap_or_default();
    APIError::RateLimited {
        details: Box::new(details),
        retry_after: Some(requested),
    }
}
