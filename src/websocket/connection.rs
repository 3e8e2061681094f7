//! Opening a connection: the authenticated upgrade request and the token
//! refresh around it.

use std::sync::Arc;

use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Shared;
use crate::error::{APIError, ErrorDetails, Result};

/// An open client connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a connection, refreshing the access token first when it is known to
/// be expired or when `force_refresh` is set, and once more after a 401 on
/// the upgrade. Clears `force_refresh` once a refresh succeeded, so that a
/// retry after a failed upgrade does not refresh again.
///
/// # Errors
///
/// [`APIError::Authentication`] when no token is stored, the server rejects
/// the refresh, or the upgrade is rejected with 401 after a refresh.
/// [`APIError::Network`] or [`APIError::Server`] when the refresh got no
/// response or a response worth retrying. Any other failure of the upgrade
/// keeps its own variant, such as [`APIError::Network`] or
/// [`APIError::Timeout`].
pub(crate) async fn open_authenticated(
    shared: &Arc<Shared>,
    force_refresh: &mut bool,
) -> Result<Socket> {
    let auth = shared.client.auth();
    let Some(tokens) = auth.tokens() else {
        return Err(not_logged_in());
    };
    let expired = tokens
        .remaining_lifetime()
        .is_some_and(|remaining| remaining.is_zero());
    let mut refreshed = false;
    if *force_refresh || expired {
        tracing::info!(
            expired,
            "refreshing the access token before opening the WebSocket"
        );
        refresh(shared).await?;
        *force_refresh = false;
        refreshed = true;
    }
    match open(shared).await {
        Err(APIError::Authentication(details)) if !refreshed => {
            tracing::info!(message = %details.message, "WebSocket upgrade rejected, refreshing the access token");
            refresh(shared).await?;
            open(shared).await
        }
        result => result,
    }
}

fn not_logged_in() -> APIError {
    APIError::authentication("not logged in: log in before opening the WebSocket")
}

/// Refreshes the access token. A refresh that got no response, or a
/// response worth retrying (408, 429, 500, 502, 503, 504), fails with
/// [`APIError::Network`] or [`APIError::Server`], so that a reconnect
/// counts it as a failed attempt. Every other failure is an authentication
/// error, because the socket cannot open without a token the server
/// accepts.
async fn refresh(shared: &Arc<Shared>) -> Result<()> {
    let error = match shared.client.auth().refresh().await {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    // NOTE: the transport reports every refresh failure as
    // `Authentication`. A failure of the refresh request itself keeps the
    // request's path in its details, and has no status when no response
    // arrived, which distinguishes it from a local failure such as a missing
    // refresh token.
    let transient = match &error {
        APIError::Authentication(details) => {
            details.path.is_some() && details.status.is_none_or(is_retryable_status)
        }
        other => other.is_retryable(),
    };
    if !transient {
        return Err(match error {
            APIError::Authentication(_) => error,
            other => {
                let mut details = ErrorDetails::new(format!(
                    "token refresh before opening the WebSocket failed: {other}"
                ));
                details.status = other.status();
                APIError::Authentication(Box::new(details))
            }
        });
    }
    // The message is the transport's, "token refresh failed: ...".
    let details = error.details().cloned().unwrap_or_default();
    Err(match details.status {
        None => APIError::Network {
            details: Box::new(details),
            source: None,
        },
        Some(_) => APIError::Server(Box::new(details)),
    })
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Opens one connection with the current access token.
async fn open(shared: &Arc<Shared>) -> Result<Socket> {
    let tokens = shared.client.auth().tokens().ok_or_else(not_logged_in)?;
    let token = tokens.access_token.expose_secret();
    let mut url = shared.client.ws_url().clone();
    // The URL is logged before the token is added to it.
    let url_text = url.to_string();
    if shared.config.token_in_query {
        url.query_pairs_mut().append_pair("token", token);
    }
    let mut request = url.as_str().into_client_request().map_err(|error| {
        APIError::Configuration(format!("WebSocket URL {url_text:?} is invalid: {error}"))
    })?;
    if !shared.config.token_in_query {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            APIError::InvalidInput(
                "access token contains characters not allowed in an HTTP header".into(),
            )
        })?;
        bearer.set_sensitive(true);
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
    }

    tracing::debug!(url = %url_text, "opening WebSocket");
    let timeout = shared.config.handshake_timeout;
    let limits = WebSocketConfig::default()
        .max_message_size(Some(shared.config.max_message_bytes))
        .max_frame_size(Some(shared.config.max_message_bytes));
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(limits), false);
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok((socket, _response))) => {
            tracing::info!(url = %url_text, "WebSocket connected");
            Ok(socket)
        }
        Ok(Err(error)) => Err(handshake_error(&url_text, error)),
        Err(_) => {
            let message = format!(
                "WebSocket handshake with {url_text} timed out after {} ms",
                timeout.as_millis()
            );
            Err(APIError::Timeout(Box::new(details(&url_text, message))))
        }
    }
}

fn details(url: &str, message: String) -> ErrorDetails {
    ErrorDetails {
        method: Some("GET".to_owned()),
        path: Some(url.to_owned()),
        ..ErrorDetails::new(message)
    }
}

/// Maps a failed handshake: 401 to [`APIError::Authentication`], another
/// HTTP status to [`APIError::WebSocket`], anything else to
/// [`APIError::Network`].
fn handshake_error(url: &str, error: WsError) -> APIError {
    match error {
        WsError::Http(response) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(|body| String::from_utf8_lossy(body).chars().take(200).collect());
            let mut details = details(url, format!("WebSocket upgrade was rejected with {status}"));
            details.status = Some(status.as_u16());
            details.body_snippet = body;
            if status == StatusCode::UNAUTHORIZED {
                APIError::Authentication(Box::new(details))
            } else {
                APIError::WebSocket(Box::new(details))
            }
        }
        other => {
            let message = format!("WebSocket connection failed: {other}");
            APIError::Network {
                details: Box::new(details(url, message)),
                source: Some(Arc::new(other)),
            }
        }
    }
}
