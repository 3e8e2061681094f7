//! [`ClientBuilder`]: settings, URL checks and construction of a [`Client`].

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::{
    CallOverrides, Client, ClientInner, DEFAULT_API_PREFIX, DEFAULT_BASE_URL, DEFAULT_WS_URL,
};
use crate::auth::TokenStore;
use crate::error::{APIError, Result};
use crate::transport::{RetryPolicy, Transport, TransportConfig, DEFAULT_RETRY_BUDGET};
use crate::websocket::WebSocketConfig;

/// Default limit of a response body: 16 MiB.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Configures and builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    ws_url: String,
    api_prefix: String,
    user_agent: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    content_timeout: Duration,
    http_client: Option<reqwest::Client>,
    retry_policy: RetryPolicy,
    retry_budget: u32,
    max_response_bytes: usize,
    allow_insecure_http: bool,
    auto_refresh: bool,
    refresh_margin: Duration,
    websocket: WebSocketConfig,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            ws_url: DEFAULT_WS_URL.to_owned(),
            api_prefix: DEFAULT_API_PREFIX.to_owned(),
            user_agent: concat!("toolboxai-rust/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            content_timeout: Duration::from_secs(300),
            http_client: None,
            retry_policy: RetryPolicy::default(),
            retry_budget: DEFAULT_RETRY_BUDGET,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            auto_refresh: true,
            refresh_margin: Duration::from_secs(30),
            websocket: WebSocketConfig::default(),
        }
    }
}

impl ClientBuilder {
    /// Sets the HTTP base URL, such as `https://api.example.com`.
    ///
    /// Default is `http://localhost:8008`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the WebSocket URL.
    ///
    /// Default is `ws://localhost:9876/ws/connect`.
    pub fn ws_url(mut self, ws_url: impl Into<String>) -> Self {
        self.ws_url = ws_url.into();
        self
    }

    /// Sets the path prefix of every API call, such as `/api/v1`.
    ///
    /// Default is `/api`.
    pub fn api_prefix(mut self, api_prefix: impl Into<String>) -> Self {
        self.api_prefix = api_prefix.into();
        self
    }

    /// Sets the `User-Agent` header.
    ///
    /// Default is `toolboxai-rust/` followed by the crate version.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets how long opening a connection may take.
    ///
    /// Default is 10 seconds. Ignored when [`ClientBuilder::http_client`] is set.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how long one attempt may take, from sending to the end of the body.
    ///
    /// Default is 60 seconds.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how long one attempt of content generation may take, because
    /// generation waits on an AI model.
    ///
    /// Default is 300 seconds.
    pub fn content_timeout(mut self, timeout: Duration) -> Self {
        self.content_timeout = timeout;
        self
    }

    /// Sets how failed calls are retried.
    ///
    /// Default is [`RetryPolicy::default`]: 3 retries, 500 ms initial delay
    /// doubling up to 8 s, with jitter, within 60 s in total.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Sets the capacity of the client's retry budget, a token bucket shared
    /// by all its calls: a retry costs 5 tokens (10 after a timeout) and each
    /// successful call returns 1. An empty bucket ends calls with their last
    /// error instead of retrying, so a server that fails for everyone does not
    /// receive a retry storm.
    ///
    /// Default is 500, which is 100 retries in a row.
    pub fn retry_budget(mut self, capacity: u32) -> Self {
        self.retry_budget = capacity;
        self
    }

    /// Sets the largest response body the client reads, in bytes. A larger
    /// body ends the call with [`APIError::Decode`] without being read whole.
    ///
    /// Default is 16 MiB.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Allows plain `http://` and `ws://` URLs to hosts that are not loopback.
    /// Tokens and passwords then cross the network unencrypted, so use it
    /// only on a network you trust.
    ///
    /// Default is off: such URLs make [`ClientBuilder::build`] fail. `https`,
    /// `wss` and loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) always work.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sets whether the client refreshes the access token by itself: shortly
    /// before its known expiry, and once after a 401 (then replaying the call).
    ///
    /// Default is on.
    pub fn auto_refresh(mut self, enabled: bool) -> Self {
        self.auto_refresh = enabled;
        self
    }

    /// Sets how long before the access token's known expiry it is refreshed.
    ///
    /// Default is 30 seconds.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets the heartbeat, reconnect, buffer and authentication settings of
    /// the clients returned by [`Client::websocket`].
    ///
    /// Default is [`WebSocketConfig::default`]: a ping every 20 s, 10 s for the
    /// reply, 5 reconnect attempts from 500 ms up to 30 s, 256 queued
    /// messages, 1024 buffered events, and the token in a header.
    pub fn websocket_config(mut self, config: WebSocketConfig) -> Self {
        self.websocket = config;
        self
    }

    /// Uses a caller-built `reqwest::Client`, for proxies or custom TLS roots.
    ///
    /// Default is a client built from this builder's settings. The user
    /// agent and the connect timeout of this builder do not apply to a
    /// supplied client. Give it `reqwest::redirect::Policy::none()`, so that
    /// redirects are followed only by the rules of this crate.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`APIError::Configuration`] when a URL is not absolute, has the wrong
    /// scheme, the WebSocket heartbeat timeout is zero, or the HTTP client
    /// cannot be created.
    pub fn build(self) -> Result<Client> {
        // NOTE: only zero is rejected. A timeout shorter than a round trip,
        // such as 1 µs, still passes and drops every connection at a ping.
        if self.websocket.heartbeat_timeout.is_zero() {
            return Err(APIError::Configuration(
                "WebSocket heartbeat timeout is zero, so every connection would be \
                 dropped at its first ping: pass a positive duration such as 10 s to \
                 WebSocketConfig::heartbeat_timeout"
                    .into(),
            ));
        }
        let base_url = parse_url("base URL", &self.base_url, &["http", "https"])?;
        let ws_url = parse_url("WebSocket URL", &self.ws_url, &["ws", "wss"])?;
        if !self.allow_insecure_http {
            require_secure("base URL", &base_url, "https")?;
            require_secure("WebSocket URL", &ws_url, "wss")?;
        }
        let api_base = join_prefix(base_url, &self.api_prefix)?;

        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .user_agent(&self.user_agent)
                .connect_timeout(self.connect_timeout)
                // The transport follows redirects itself, because the
                // redirect policy cannot see the method of the request.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| {
                    APIError::Configuration(format!("HTTP client could not be built: {error}"))
                })?,
        };
        let config = TransportConfig {
            request_timeout: self.request_timeout,
            retry: self.retry_policy,
            auto_refresh: self.auto_refresh,
            refresh_margin: self.refresh_margin,
            retry_budget: self.retry_budget,
            max_response_bytes: self.max_response_bytes,
        };
        let transport = Transport::new(http, api_base, Arc::new(TokenStore::default()), config);
        Ok(Client {
            inner: Arc::new(ClientInner {
                transport,
                ws_url,
                content_timeout: self.content_timeout,
                websocket: self.websocket,
            }),
            overrides: CallOverrides::default(),
        })
    }
}

fn parse_url(name: &str, value: &str, schemes: &[&str]) -> Result<Url> {
    let url = Url::parse(value).map_err(|error| {
        APIError::Configuration(format!(
            "{name} {value:?} is not a valid absolute URL ({error}); \
             use a form such as {:?}",
            if schemes[0] == "ws" {
                DEFAULT_WS_URL
            } else {
                DEFAULT_BASE_URL
            }
        ))
    })?;
    if !schemes.contains(&url.scheme()) {
        return Err(APIError::Configuration(format!(
            "{name} {value:?} has scheme {:?}; expected one of {schemes:?}",
            url.scheme()
        )));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(APIError::Configuration(format!(
            "{name} {value:?} has no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(APIError::Configuration(format!(
            "{name} contains credentials, which would replace the bearer token: \
             remove them and log in with auth().login()"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(APIError::Configuration(format!(
            "{name} {value:?} has a query or fragment, which API calls would drop: remove it"
        )));
    }
    Ok(url)
}

/// Rejects an unencrypted URL to a host that is not loopback.
fn require_secure(name: &str, url: &Url, secure_scheme: &str) -> Result<()> {
    if url.scheme() == secure_scheme || is_loopback(url) {
        return Ok(());
    }
    Err(APIError::Configuration(format!(
        "{name} {url} is unencrypted and not loopback, so tokens and passwords would \
         cross the network in clear text: use {secure_scheme}://, or call \
         ClientBuilder::allow_insecure_http(true) on a network you trust"
    )))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost")
                || domain.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// Appends the API prefix to the base URL's path.
fn join_prefix(mut url: Url, prefix: &str) -> Result<Url> {
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| APIError::Configuration("base URL cannot have a path".into()))?
        .pop_if_empty()
        .extend(prefix.split('/').filter(|segment| !segment.is_empty()));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_heartbeat_timeout_is_rejected() {
        let config = WebSocketConfig::default().heartbeat_timeout(Duration::ZERO);
        let built = ClientBuilder::default().websocket_config(config).build();
        assert!(
            matches!(built, Err(APIError::Configuration(_))),
            "{built:?}"
        );
    }

    #[test]
    fn join_prefix_cases() {
        let cases = [
            ("http://localhost:8008", "/api", "http://localhost:8008/api"),
            (
                "http://localhost:8008/",
                "/api/v1",
                "http://localhost:8008/api/v1",
            ),
            ("https://host/base/", "api", "https://host/base/api"),
            ("https://host/base", "/api/", "https://host/base/api"),
            ("https://host", "", "https://host/"),
        ];
        for (base, prefix, expected) in cases {
            let url = join_prefix(Url::parse(base).unwrap(), prefix).unwrap();
            assert_eq!(url.as_str(), expected, "{base} + {prefix}");
        }
    }

    #[test]
    fn secure_scheme_rules() {
        // (base URL, WebSocket URL, allow insecure, builds)
        let cases = [
            (
                "https://api.example.com",
                "wss://api.example.com/ws",
                false,
                true,
            ),
            (
                "http://localhost:8008",
                "ws://localhost:9876/ws",
                false,
                true,
            ),
            (
                "http://127.0.0.1:8008",
                "ws://127.0.0.1:9876/ws",
                false,
                true,
            ),
            ("http://[::1]:8008", "ws://[::1]:9876/ws", false, true),
            (
                "http://api.example.com",
                "wss://api.example.com/ws",
                false,
                false,
            ),
            (
                "https://api.example.com",
                "ws://api.example.com/ws",
                false,
                false,
            ),
            (
                "http://10.0.0.5:8008",
                "ws://10.0.0.5:9876/ws",
                false,
                false,
            ),
            (
                "http://api.example.com",
                "ws://api.example.com/ws",
                true,
                true,
            ),
        ];
        for (base, ws, allow, builds) in cases {
            let result = Client::builder()
                .base_url(base)
                .ws_url(ws)
                .allow_insecure_http(allow)
                .build();
            assert_eq!(result.is_ok(), builds, "{base} {ws} allow={allow}");
        }
    }

    #[test]
    fn build_rejects_bad_urls() {
        let cases = [
            ("relative", "localhost:8008"),
            ("wrong scheme", "ftp://localhost"),
            ("not a url", "::::"),
            ("credentials", "http://user:pw@localhost:8008"),
            ("plain http to a remote host", "http://api.example.com"),
            ("query", "http://localhost:8008/?token=secret"),
        ];
        for (case, base) in cases {
            let result = Client::builder().base_url(base).build();
            assert!(matches!(result, Err(APIError::Configuration(_))), "{case}");
        }
    }
}
