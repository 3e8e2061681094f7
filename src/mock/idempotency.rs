//! Replay of POST requests that carry an `Idempotency-Key` header.
//!
//! The first successful (2xx) response to a POST with a key is stored per
//! caller (the user id of a valid bearer token, or `anonymous`) and key. A
//! repeat with the same key and an equal body gets the stored status and body
//! without running the handler again. The same key with a different body gets
//! 409. Error responses are not stored, so a repeat runs the handler again,
//! for example after the client refreshed an expired token.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::handlers::bearer_token;
use super::state::{lock, Shared};

/// Maximum number of stored keys. Storing one more drops the oldest.
const MAX_KEYS: usize = 10_000;

/// Header that marks a replayed response.
const REPLAYED_HEADER: &str = "idempotent-replayed";

type Scope = (String, String);

#[derive(Debug, Clone)]
struct StoredResponse {
    request_body: Bytes,
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

/// Stored responses by caller and key, oldest first in `order`.
#[derive(Debug, Default)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<Scope, StoredResponse>,
    order: VecDeque<Scope>,
}

enum Lookup {
    Miss,
    Replay(StoredResponse),
    Conflict,
}

impl IdempotencyStore {
    fn lookup(&self, scope: &Scope, request_body: &[u8]) -> Lookup {
        match self.entries.get(scope) {
            None => Lookup::Miss,
            Some(stored) if same_body(&stored.request_body, request_body) => {
                Lookup::Replay(stored.clone())
            }
            Some(_) => Lookup::Conflict,
        }
    }

    fn insert(&mut self, scope: Scope, response: StoredResponse) {
        if self.entries.insert(scope.clone(), response).is_none() {
            self.order.push_back(scope);
        }
        while self.order.len() > MAX_KEYS {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }
}

/// Compares bodies as JSON values when both parse, so that key order and
/// whitespace do not matter, and byte for byte otherwise.
fn same_body(stored: &[u8], incoming: &[u8]) -> bool {
    let parsed = (
        serde_json::from_slice::<Value>(stored),
        serde_json::from_slice::<Value>(incoming),
    );
    match parsed {
        (Ok(stored), Ok(incoming)) => stored == incoming,
        _ => stored == incoming,
    }
}

/// Returns the caller a key belongs to: the user id of a valid bearer token,
/// or `anonymous`.
fn caller(shared: &Shared, headers: &HeaderMap) -> String {
    let store = lock(&shared.store);
    bearer_token(headers)
        .and_then(|token| store.tokens.validate_access(token, SystemTime::now()).ok())
        .unwrap_or("anonymous")
        .to_owned()
}

/// Middleware that replays stored responses of POST requests with an
/// `Idempotency-Key` header and stores new successful ones.
pub(crate) async fn replay_idempotent(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let Some(key) = key.filter(|_| request.method() == Method::POST) else {
        return next.run(request).await;
    };

    let scope = (caller(&shared, request.headers()), key);
    let (parts, body) = request.into_parts();
    // The front middleware has already buffered the body, so this cannot
    // exceed its limit.
    let request_body = to_bytes(body, usize::MAX).await.unwrap_or_default();

    let lookup = lock(&shared.store)
        .idempotency
        .lookup(&scope, &request_body);
    match lookup {
        Lookup::Replay(stored) => {
            tracing::debug!(key = %scope.1, "replaying stored idempotent response");
            return replayed_response(stored);
        }
        Lookup::Conflict => {
            tracing::debug!(key = %scope.1, "rejecting reused idempotency key");
            return ApiError::conflict("Idempotency-Key reused with a different request body")
                .into_response();
        }
        Lookup::Miss => {}
    }

    let request = Request::from_parts(parts, Body::from(request_body.clone()));
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }

    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(%error, "failed to buffer a response for idempotent replay");
            return (parts.status, "").into_response();
        }
    };
    let stored = StoredResponse {
        request_body,
        status: parts.status,
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: body.clone(),
    };
    lock(&shared.store).idempotency.insert(scope, stored);
    Response::from_parts(parts, Body::from(body))
}

fn replayed_response(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = stored.status;
    if let Some(content_type) = stored.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &'static str) -> StoredResponse {
        StoredResponse {
            request_body: Bytes::from_static(body.as_bytes()),
            status: StatusCode::OK,
            content_type: None,
            body: Bytes::new(),
        }
    }

    fn scope(key: &str) -> Scope {
        ("user-1".to_owned(), key.to_owned())
    }

    #[test]
    fn equal_json_bodies_replay() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored(r#"{"a":1,"b":2}"#));
        let lookup = store.lookup(&scope("k"), br#"{ "b": 2, "a": 1 }"#);
        assert!(matches!(lookup, Lookup::Replay(_)));
    }

    #[test]
    fn different_body_conflicts() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored(r#"{"a":1}"#));
        let lookup = store.lookup(&scope("k"), br#"{"a":2}"#);
        assert!(matches!(lookup, Lookup::Conflict));
    }

    #[test]
    fn keys_are_scoped_per_caller() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored("{}"));
        let other = ("anonymous".to_owned(), "k".to_owned());
        assert!(matches!(store.lookup(&other, b"{}"), Lookup::Miss));
    }

    #[test]
    fn oldest_key_dropped_beyond_limit() {
        let mut store = IdempotencyStore::default();
        for index in 0..=MAX_KEYS {
            store.insert(scope(&index.to_string()), stored("{}"));
        }
        assert!(matches!(store.lookup(&scope("0"), b"{}"), Lookup::Miss));
        assert!(matches!(
            store.lookup(&scope("1"), b"{}"),
            Lookup::Replay(_)
        ));
        assert_eq!(store.entries.len(), MAX_KEYS);
    }
}
