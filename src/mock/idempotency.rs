//! Replay of POST requests that carry an `Idempotency-Key` header.
//!
//! The first successful (2xx) response to a POST with a key is stored per
//! caller (the user id of the bearer token, even an expired one, or
//! `anonymous`) and key. A
//! repeat with the same key, path and an equal body gets the stored status
//! and body without running the handler again. The same key with another
//! path or body gets 409. Error responses are not stored, so a repeat runs the handler again,
//! for example after the client refreshed an expired token.
//!
//! Requests that share a caller and key are handled one at a time: a repeat
//! that arrives while the first is still running waits for it, then replays
//! its stored response.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::error::ApiError;
use super::handlers::bearer_token;
use super::state::{lock, Shared};

/// Maximum number of stored keys. Storing one more drops the oldest.
const MAX_KEYS: usize = 10_000;

/// Maximum bytes of stored request and response bodies. Storing beyond it
/// drops the oldest keys, and a single response above it is not kept.
const MAX_STORED_BYTES: usize = 64 * 1024 * 1024;

/// Header that marks a replayed response.
const REPLAYED_HEADER: &str = "idempotent-replayed";

type Scope = (String, String);

#[derive(Debug, Clone)]
struct StoredResponse {
    path: String,
    request_body: Bytes,
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl StoredResponse {
    /// Returns the bytes this response keeps alive.
    fn size(&self) -> usize {
        self.path.len() + self.request_body.len() + self.body.len()
    }
}

/// Stored responses by caller and key, oldest first in `order`, and the
/// gates of keys whose requests are being handled.
#[derive(Debug)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<Scope, StoredResponse>,
    order: VecDeque<Scope>,
    /// Gates by key, each with the number of requests holding or awaiting it.
    gates: HashMap<Scope, (Arc<AsyncMutex<()>>, usize)>,
    stored_bytes: usize,
    byte_budget: usize,
}

impl Default for IdempotencyStore {
    fn default() -> Self {
        Self::with_byte_budget(MAX_STORED_BYTES)
    }
}

enum Lookup {
    Miss,
    Replay(StoredResponse),
    Conflict(&'static str),
}

impl IdempotencyStore {
    fn with_byte_budget(byte_budget: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            gates: HashMap::new(),
            stored_bytes: 0,
            byte_budget,
        }
    }

    fn lookup(&self, scope: &Scope, path: &str, request_body: &[u8]) -> Lookup {
        match self.entries.get(scope) {
            None => Lookup::Miss,
            Some(stored) if stored.path != path => {
                Lookup::Conflict("Idempotency-Key reused on a different path")
            }
            Some(stored) if same_body(&stored.request_body, request_body) => {
                Lookup::Replay(stored.clone())
            }
            Some(_) => Lookup::Conflict("Idempotency-Key reused with a different request body"),
        }
    }

    /// Returns the gate of a key, creating it for the first request, and
    /// counts the caller as one of its users.
    fn gate(&mut self, scope: &Scope) -> Arc<AsyncMutex<()>> {
        let (gate, users) = self.gates.entry(scope.clone()).or_default();
        *users += 1;
        Arc::clone(gate)
    }

    /// Stops counting the caller as a user of the gate of a key, and removes
    /// the gate when it was the last one.
    fn release(&mut self, scope: &Scope) {
        let Some((_, users)) = self.gates.get_mut(scope) else {
            return;
        };
        *users -= 1;
        if *users == 0 {
            self.gates.remove(scope);
        }
    }

    fn insert(&mut self, scope: Scope, response: StoredResponse) {
        // Checked first, so that the eviction below cannot drop every other
        // key on its way to this one.
        if response.size() > self.byte_budget {
            return;
        }
        self.stored_bytes += response.size();
        match self.entries.insert(scope.clone(), response) {
            Some(replaced) => self.stored_bytes -= replaced.size(),
            None => self.order.push_back(scope),
        }
        while self.order.len() > MAX_KEYS || self.stored_bytes > self.byte_budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(dropped) = self.entries.remove(&oldest) {
                self.stored_bytes -= dropped.size();
            }
        }
    }
}

/// A request's exclusive turn on its key's gate. Dropping it, also when the
/// request is cancelled, lets the next request with the key run and removes
/// an unused gate.
struct KeyTurn {
    shared: Arc<Shared>,
    scope: Scope,
    gate: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyTurn {
    /// Waits until no other request with the same caller and key is running.
    async fn take(shared: Arc<Shared>, scope: Scope) -> Self {
        let gate = lock(&shared.store).idempotency.gate(&scope);
        let mut turn = Self {
            shared,
            scope,
            gate,
            guard: None,
        };
        turn.guard = Some(Arc::clone(&turn.gate).lock_owned().await);
        turn
    }
}

impl Drop for KeyTurn {
    fn drop(&mut self) {
        self.guard = None;
        lock(&self.shared.store).idempotency.release(&self.scope);
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

/// Returns the caller a key belongs to: the user id of a bearer token this
/// mock issued, or `anonymous`. An expired token still names its user,
/// because a retry can carry a token that expired after the first attempt,
/// as a refresh shortly before expiry does.
fn caller(shared: &Shared, headers: &HeaderMap) -> String {
    let store = lock(&shared.store);
    bearer_token(headers)
        .and_then(|token| store.tokens.access_owner(token))
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
    let turn = KeyTurn::take(Arc::clone(&shared), scope).await;
    let scope = &turn.scope;
    let (parts, body) = request.into_parts();
    // The front middleware has already buffered the body, so this cannot
    // exceed its limit.
    let request_body = to_bytes(body, usize::MAX).await.unwrap_or_default();

    let path = parts.uri.path().to_owned();
    let lookup = lock(&shared.store)
        .idempotency
        .lookup(scope, &path, &request_body);
    match lookup {
        Lookup::Replay(stored) => {
            tracing::debug!(key = %scope.1, "replaying stored idempotent response");
            return replayed_response(stored);
        }
        Lookup::Conflict(message) => {
            tracing::debug!(key = %scope.1, %path, message, "rejecting reused idempotency key");
            return ApiError::conflict(message).into_response();
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
        path,
        request_body,
        status: parts.status,
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: body.clone(),
    };
    lock(&shared.store)
        .idempotency
        .insert(scope.clone(), stored);
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
    use std::time::Duration;

    use futures_util::FutureExt;

    use super::*;
    use crate::mock::state::Store;

    fn shared() -> Arc<Shared> {
        let lifetime = Duration::from_secs(60);
        Arc::new(Shared::new(Store::new(lifetime, lifetime)))
    }

    fn gate_count(shared: &Shared) -> usize {
        lock(&shared.store).idempotency.gates.len()
    }

    const PATH: &str = "/api/quiz/create";

    fn stored(body: &'static str) -> StoredResponse {
        StoredResponse {
            path: PATH.to_owned(),
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
        let lookup = store.lookup(&scope("k"), PATH, br#"{ "b": 2, "a": 1 }"#);
        assert!(matches!(lookup, Lookup::Replay(_)));
    }

    #[test]
    fn different_body_conflicts() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored(r#"{"a":1}"#));
        let lookup = store.lookup(&scope("k"), PATH, br#"{"a":2}"#);
        assert!(matches!(lookup, Lookup::Conflict(_)));
    }

    #[test]
    fn keys_are_scoped_per_caller() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored("{}"));
        let other = ("anonymous".to_owned(), "k".to_owned());
        assert!(matches!(store.lookup(&other, PATH, b"{}"), Lookup::Miss));
    }

    #[test]
    fn oldest_key_dropped_beyond_limit() {
        let mut store = IdempotencyStore::default();
        for index in 0..=MAX_KEYS {
            store.insert(scope(&index.to_string()), stored("{}"));
        }
        assert!(matches!(
            store.lookup(&scope("0"), PATH, b"{}"),
            Lookup::Miss
        ));
        assert!(matches!(
            store.lookup(&scope("1"), PATH, b"{}"),
            Lookup::Replay(_)
        ));
        assert_eq!(store.entries.len(), MAX_KEYS);
    }

    #[test]
    fn other_path_conflicts() {
        let mut store = IdempotencyStore::default();
        store.insert(scope("k"), stored("{}"));
        let lookup = store.lookup(&scope("k"), "/api/content/generate", b"{}");
        assert!(matches!(lookup, Lookup::Conflict(_)));
    }

    #[test]
    fn oldest_key_dropped_beyond_byte_budget() {
        let entry_size = stored("{}").size();
        let mut store = IdempotencyStore::with_byte_budget(2 * entry_size);
        for key in ["a", "b", "c"] {
            store.insert(scope(key), stored("{}"));
        }
        assert!(matches!(
            store.lookup(&scope("a"), PATH, b"{}"),
            Lookup::Miss
        ));
        assert_eq!(store.stored_bytes, 2 * entry_size);
    }

    #[test]
    fn response_above_byte_budget_is_not_kept() {
        let entry_size = stored("{}").size();
        let mut store = IdempotencyStore::with_byte_budget(2 * entry_size);
        store.insert(scope("small"), stored("{}"));
        store.insert(scope("large"), stored("{\"padding\": \"0123456789\"}"));
        assert!(matches!(
            store.lookup(&scope("large"), PATH, b"{}"),
            Lookup::Miss
        ));
        assert!(matches!(
            store.lookup(&scope("small"), PATH, b"{}"),
            Lookup::Replay(_)
        ));
    }

    #[tokio::test]
    async fn second_turn_waits_for_first() {
        let shared = shared();
        let first = KeyTurn::take(Arc::clone(&shared), scope("k")).await;
        let mut second = Box::pin(KeyTurn::take(Arc::clone(&shared), scope("k")));
        assert!((&mut second).now_or_never().is_none());
        drop(first);
        assert!(second.now_or_never().is_some());
    }

    #[tokio::test]
    async fn other_key_does_not_wait() {
        let shared = shared();
        let _first = KeyTurn::take(Arc::clone(&shared), scope("k")).await;
        let other = KeyTurn::take(Arc::clone(&shared), scope("other")).now_or_never();
        assert!(other.is_some());
    }

    #[tokio::test]
    async fn last_turn_removes_gate() {
        let shared = shared();
        drop(KeyTurn::take(Arc::clone(&shared), scope("k")).await);
        assert_eq!(gate_count(&shared), 0);
    }

    #[tokio::test]
    async fn cancelled_waiter_leaves_no_gate() {
        let shared = shared();
        let first = KeyTurn::take(Arc::clone(&shared), scope("k")).await;
        let mut waiter = Box::pin(KeyTurn::take(Arc::clone(&shared), scope("k")));
        assert!((&mut waiter).now_or_never().is_none());
        drop(waiter);
        drop(first);
        assert_eq!(gate_count(&shared), 0);
    }
}
