//! The outermost layer: request ids, request recording and faults.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::Instrument;

use super::error::ApiError;
use super::fault::{Fault, FaultKind};
use super::record::RecordedRequest;
use super::serve::ConnectionCloser;
use super::state::{lock, Shared};

/// Maximum request body the mock reads, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// Body of a malformed-body fault.
const MALFORMED_BODY: &str = "<html><body>Bad Gateway</body></html>";

/// Middleware that numbers, records and possibly faults every request, and
/// adds `X-Request-ID: req-<n>` (and the request's `X-Correlation-ID`, when
/// it has one) to every response.
pub(crate) async fn apply_front(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let number = shared.request_counter.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("req-{number}");
    let correlation_id = request.headers().get(&CORRELATION_ID).cloned();
    let span = tracing::debug_span!(
        "mock_request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = record_and_dispatch(&shared, request, next)
        .instrument(span)
        .await;
    tracing::debug!(
        request_id = %request_id,
        status = response.status().as_u16(),
        "mock response"
    );

    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Some(value) = correlation_id {
        headers.insert(CORRELATION_ID, value);
    }
    response
}

async fn record_and_dispatch(shared: &Shared, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        record(shared, &parts, &Bytes::new());
        let text = format!("Request body exceeds the mock's limit of {MAX_BODY_BYTES} bytes");
        return ApiError::detail(StatusCode::PAYLOAD_TOO_LARGE, text).into_response();
    }
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(%error, path = %parts.uri.path(), "failed to read a request body");
            record(shared, &parts, &Bytes::new());
            let text = format!("Failed to read the request body: {error}");
            return ApiError::detail(StatusCode::BAD_REQUEST, text).into_response();
        }
    };
    record(shared, &parts, &body);
    // A body that arrived in one piece can be a slice of the connection's
    // read buffer, which then stays allocated as long as the slice does. The
    // idempotency layer keeps request bodies, so a copy stops each stored
    // body from holding a whole buffer (about 5 KiB each in the soak test).
    let body = Bytes::copy_from_slice(&body);

    let fault = lock(&shared.faults).take(parts.method.as_str(), parts.uri.path());
    if let Some(fault) = fault {
        tracing::info!(
            method = %parts.method,
            path = %parts.uri.path(),
            fault = ?fault.kind,
            "applying injected fault"
        );
        match fault.kind {
            FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
            FaultKind::DropConnection => return drop_connection(&parts).await,
            FaultKind::DropResponse => {
                let closer = parts.extensions.get::<ConnectionCloser>().cloned();
                let response = next.run(Request::from_parts(parts, Body::from(body))).await;
                return drop_response(closer, response).await;
            }
            FaultKind::Status(_) | FaultKind::MalformedBody(_) | FaultKind::EmptyBody(_) => {
                return fault_response(&fault);
            }
        }
    }

    next.run(Request::from_parts(parts, Body::from(body))).await
}

fn record(shared: &Shared, parts: &Parts, body: &Bytes) {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: body.to_vec(),
    };
    lock(&shared.requests).push(recorded);
}

/// Asks the connection task to close the connection, then waits until it
/// drops this future together with the connection.
async fn drop_connection(parts: &Parts) -> Response {
    match parts.extensions.get::<ConnectionCloser>() {
        Some(closer) => close_and_wait(closer).await,
        None => missing_closer(),
    }
}

/// Discards a response that was already produced and closes the connection.
async fn drop_response(closer: Option<ConnectionCloser>, response: Response) -> Response {
    tracing::debug!(
        status = response.status().as_u16(),
        "discarding a handled response"
    );
    drop(response);
    match closer {
        Some(closer) => close_and_wait(&closer).await,
        None => missing_closer(),
    }
}

async fn close_and_wait(closer: &ConnectionCloser) -> Response {
    closer.close();
    std::future::pending::<Response>().await
}

/// Returns a 500 for a connection fault on a request without a closer, which
/// happens only when the router is served outside `serve`.
fn missing_closer() -> Response {
    tracing::error!("connection fault on a request without a connection closer");
    ApiError::detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Connection drop unavailable",
    )
    .into_response()
}

fn fault_status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or_else(|_| {
        tracing::warn!(code, "invalid injected status code, sending 500 instead");
        StatusCode::INTERNAL_SERVER_ERROR
    })
}

fn fault_response(fault: &Fault) -> Response {
    let mut response = match fault.kind {
        FaultKind::Status(code) => {
            let status = fault_status(code);
            let reason = status.canonical_reason().unwrap_or("Unknown status");
            let detail = format!("Injected fault: {} {reason}", status.as_u16());
            (status, axum::Json(json!({ "detail": detail }))).into_response()
        }
        FaultKind::MalformedBody(code) => (
            fault_status(code),
            [(header::CONTENT_TYPE, "text/html")],
            MALFORMED_BODY,
        )
            .into_response(),
        FaultKind::EmptyBody(code) => (fault_status(code), Body::empty()).into_response(),
        FaultKind::Delay(_) | FaultKind::DropConnection | FaultKind::DropResponse => {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    if let Some(value) = &fault.retry_after {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Err(_) => tracing::warn!(
                value = %value.escape_debug(),
                "Retry-After value is not a valid header value, leaving it out"
            ),
        }
    }
    response
}
