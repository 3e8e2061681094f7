//! The one function through which every HTTP call goes.
//!
//! Managers describe a call as a [`Call`]; [`Transport::send`] joins the URL,
//! attaches the bearer token, sends the body serialized once, maps the status
//! to an [`APIError`] and decodes the answer, inside one tracing span.

mod call;
mod response;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::auth::TokenStore;
use crate::error::{APIError, ErrorDetails, Result};

pub(crate) use call::{require_id, Auth, Call};

/// Settings the transport reads on every call.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    /// Per-attempt timeout when the call sets none.
    pub(crate) request_timeout: Duration,
}

/// Shared HTTP state of one client.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    /// Base URL with the API prefix, such as `http://localhost:8008/api`.
    api_base: Url,
    pub(crate) tokens: Arc<TokenStore>,
    config: TransportConfig,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        api_base: Url,
        tokens: Arc<TokenStore>,
        config: TransportConfig,
    ) -> Self {
        Self {
            http,
            api_base,
            tokens,
            config,
        }
    }

    /// Sends a call and decodes its JSON answer into `T`.
    ///
    /// # Errors
    ///
    /// Every [`APIError`] variant that describes a request: the status
    /// variants for unsuccessful answers, [`APIError::Decode`] for a body that
    /// does not match `T`, [`APIError::Network`] and [`APIError::Timeout`] for
    /// failed connections, and [`APIError::Authentication`] for a call that
    /// needs a login made without one.
    pub(crate) async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let url = self.url_for(&call)?;
        let span = tracing::info_span!(
            "toolboxai.request",
            method = %call.method,
            path = url.path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.send_in_span(call, url).instrument(span).await
    }

    async fn send_in_span<T: DeserializeOwned>(&self, call: Call, url: Url) -> Result<T> {
        let details = ErrorDetails {
            method: Some(call.method.to_string()),
            path: Some(url.path().to_owned()),
            attempts: 1,
            ..ErrorDetails::default()
        };
        let bearer = match call.auth {
            Auth::None => None,
            Auth::Bearer => Some(self.bearer()?),
        };
        tracing::Span::current().record("attempt", 1);
        let (status, headers, body) = self.attempt(&call, &url, bearer, &details).await?;
        tracing::Span::current().record("status", status.as_u16());
        if status.is_success() {
            tracing::debug!(status = status.as_u16(), "request succeeded");
            response::decode(&body, details)
        } else {
            let error = response::error_for_status(status, &headers, &body, details);
            tracing::debug!(status = status.as_u16(), error = %error, "request failed");
            Err(error)
        }
    }

    /// Returns the current `Authorization` header value.
    fn bearer(&self) -> Result<HeaderValue> {
        self.tokens
            .session()
            .map(|session| session.bearer.clone())
            .ok_or_else(|| {
                APIError::authentication(
                    "not logged in: call auth().login() or auth().restore_tokens() first",
                )
            })
    }

    /// Sends one attempt and reads the whole body.
    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
        bearer: Option<HeaderValue>,
        details: &ErrorDetails,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, bytes::Bytes)> {
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .timeout(call.timeout.unwrap_or(self.config.request_timeout));
        if let Some(bearer) = bearer {
            request = request.header(AUTHORIZATION, bearer);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport_error(error, details))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(error, details))?;
        Ok((status, headers, body))
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

/// Maps a reqwest failure to a network or timeout error.
fn transport_error(error: reqwest::Error, details: &ErrorDetails) -> APIError {
    let mut details = details.clone();
    if error.is_timeout() {
        details.message = "no response within the timeout".to_owned();
        return APIError::Timeout(Box::new(details));
    }
    details.message = if error.is_connect() {
        "could not connect to the server".to_owned()
    } else {
        "the connection failed before a complete response arrived".to_owned()
    };
    APIError::Network {
        details: Box::new(details),
        source: Some(Arc::new(error.without_url())),
    }
}
