//! Routes of the mock API and the bearer authentication they share.

mod auth;
mod content;
mod progress;
mod quiz;

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware;
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::error::ApiError;
use super::idempotency::replay_idempotent;
use super::middleware::apply_front;
use super::state::{lock, Shared};
use super::tokens::TokenError;
use super::ws::{self, SocketHub};
use crate::models::{Role, User};

/// Builds the application: every API route under `api_prefix`, the
/// idempotency layer inside, and the front layer (request ids, recording,
/// faults) outermost, so that it also processes unrouted requests. The
/// WebSocket route `/ws/connect` sits outside the prefix.
pub(crate) fn router(shared: Arc<Shared>, api_prefix: &str, sockets: Arc<SocketHub>) -> Router {
    let path = |route: &str| format!("{api_prefix}{route}");
    let app = Router::new()
        .route(&path("/auth/register"), post(auth::register))
        .route(&path("/auth/login"), post(auth::login))
        .route(&path("/auth/refresh"), post(auth::refresh))
        .route(&path("/content/generate"), post(content::generate))
        .route(&path("/quiz/create"), post(quiz::create))
        .route(&path("/quiz/{quiz_id}"), get(quiz::get_quiz))
        .route(&path("/quiz/{quiz_id}/submit"), post(quiz::submit))
        .route(
            &path("/progress/course/{course_id}"),
            get(progress::course_progress),
        )
        .route(
            &path("/analytics/dashboard"),
            get(progress::analytics_dashboard),
        )
        .route("/ws/connect", get(ws::connect));

    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The front layer enforces the mock's own body limit, so axum's
        // smaller default must not apply inside it.
        .layer(DefaultBodyLimit::disable())
        .layer(Extension(sockets))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            replay_idempotent,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            apply_front,
        ))
        .with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// Returns the token of an `Authorization: Bearer <token>` header. The scheme
/// is compared without regard to case.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Returns the user of a valid bearer token.
///
/// # Errors
///
/// Returns 401 `Not authenticated` without a bearer header, `Token has
/// expired` for an expired access token and `Could not validate credentials`
/// for any other token.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = bearer_token(headers).ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
    user_for_token(shared, token)
}

/// Returns the user of a valid access token, for HTTP calls and sockets.
///
/// # Errors
///
/// Returns 401 `Token has expired` for an expired access token and `Could
/// not validate credentials` for any other token.
pub(crate) fn user_for_token(shared: &Shared, token: &str) -> Result<User, ApiError> {
    let store = lock(&shared.store);
    let user_id = store
        .tokens
        .validate_access(token, SystemTime::now())
        .map_err(|error| match error {
            TokenError::Expired => ApiError::unauthorized("Token has expired"),
            TokenError::Invalid => ApiError::unauthorized("Could not validate credentials"),
        })?;
    store
        .accounts
        .get(user_id)
        .map(|account| account.user.clone())
        .ok_or_else(|| ApiError::unauthorized("Could not validate credentials"))
}

/// Returns a 403 with `message` unless the user is a teacher or an admin.
pub(crate) fn require_teacher(user: &User, message: &str) -> Result<(), ApiError> {
    match user.role {
        Role::Teacher | Role::Admin => Ok(()),
        _ => Err(ApiError::forbidden(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(authorization).expect("valid header value");
        headers.insert(header::AUTHORIZATION, value);
        headers
    }

    #[test]
    fn bearer_token_table() {
        let cases = [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("Bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
        ];
        for (authorization, expected) in cases {
            let headers = headers(authorization);
            assert_eq!(bearer_token(&headers), expected, "{authorization:?}");
        }
    }
}
