//! Registration, login and token refresh.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use secrecy::{ExposeSecret, SecretString};

use crate::mock::error::{check_grade, decode, parse_json, ApiError, ValidationIssue};
use crate::mock::state::{lock, ActivityKind, Shared, Store};
use crate::mock::tokens::{TokenError, TokenKind};
use crate::models::{LoginRequest, RefreshRequest, RegisterRequest, Role, TokenResponse, User};

/// Minimum password length, in characters.
const MIN_PASSWORD_CHARS: usize = 8;

/// `POST /auth/register`: creates an account and returns it with 201.
pub(super) async fn register(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let mut value = parse_json(&body)?;
    let mut issues = Vec::new();
    if let Some(issue) = check_grade(&value, "grade_level") {
        issues.push(issue);
        // Removed so that decoding reports the other fields, not this one.
        if let Some(object) = value.as_object_mut() {
            object.remove("grade_level");
        }
    }
    let request: RegisterRequest = decode(value)?;

    if !is_valid_email(&request.email) {
        let msg = format!("value is not a valid email address: {:?}", request.email);
        issues.push(ValidationIssue::body_field("email", msg));
    }
    let password_chars = request.password.expose_secret().chars().count();
    if password_chars < MIN_PASSWORD_CHARS {
        let msg = format!("password must have at least {MIN_PASSWORD_CHARS} characters");
        issues.push(ValidationIssue::body_field("password", msg));
    }
    if request.name.trim().is_empty() {
        issues.push(ValidationIssue::body_field(
            "name",
            "name must not be empty",
        ));
    }
    // NOTE: any caller may register with any known role, `admin` included,
    // because the protocol defines no rule for it. A real server may reject
    // roles that are not `student`.
    if let Role::Other(role) = &request.role {
        let msg = format!("role must be student, teacher, parent or admin, got {role:?}");
        issues.push(ValidationIssue::body_field("role", msg));
    }
    ApiError::check(issues)?;

    let mut store = lock(&shared.store);
    if store.account_by_email(&request.email).is_some() {
        return Err(ApiError::conflict("Email already registered"));
    }
    let user = store.add_account(
        request.email.trim(),
        request.password.expose_secret(),
        request.name.trim(),
        request.role,
        request.grade_level,
    );
    tracing::info!(user_id = %user.id, role = %user.role, "mock registered a user");
    Ok((StatusCode::CREATED, Json(user)))
}

/// Returns whether `email` has exactly one `@` with text on both sides and
/// a dot inside the domain.
fn is_valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let domain_has_dot = domain
        .split_once('.')
        .is_some_and(|(name, rest)| !name.is_empty() && !rest.is_empty() && !rest.ends_with('.'));
    !local.trim().is_empty() && !email.contains(char::is_whitespace) && domain_has_dot
}

/// `POST /auth/login`: returns an access and a refresh token with the user.
pub(super) async fn login(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    let request: LoginRequest = decode(parse_json(&body)?)?;
    let mut store = lock(&shared.store);
    let user = store
        .account_by_email(&request.email)
        .filter(|account| account.password == request.password.expose_secret())
        .map(|account| account.user.clone())
        .ok_or_else(|| ApiError::unauthorized("Incorrect email or password"))?;
    store.record_activity(&user.id, ActivityKind::Login, None);
    let mut response = issue_tokens(&mut store, &user.id);
    response.user = Some(user);
    Ok(Json(response))
}

/// `POST /auth/refresh`: redeems a refresh token for a new access token and
/// a new refresh token. The old refresh token stops working.
pub(super) async fn refresh(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    let request: RefreshRequest = decode(parse_json(&body)?)?;
    let mut store = lock(&shared.store);
    let user_id = store
        .tokens
        .redeem_refresh(request.refresh_token.expose_secret(), SystemTime::now())
        .map_err(|error| match error {
            TokenError::Expired => ApiError::unauthorized("Refresh token has expired"),
            TokenError::Invalid => ApiError::unauthorized("Invalid refresh token"),
        })?;
    store.refresh_count += 1;
    tracing::debug!(%user_id, "mock refreshed tokens");
    Ok(Json(issue_tokens(&mut store, &user_id)))
}

fn issue_tokens(store: &mut Store, user_id: &str) -> TokenResponse {
    let now = SystemTime::now();
    let access_lifetime = store.access_token_lifetime;
    let refresh_lifetime = store.refresh_token_lifetime;
    let access = store
        .tokens
        .issue(user_id, TokenKind::Access, access_lifetime, now);
    let refresh = store
        .tokens
        .issue(user_id, TokenKind::Refresh, refresh_lifetime, now);
    TokenResponse {
        access_token: SecretString::from(access),
        refresh_token: Some(SecretString::from(refresh)),
        token_type: Some("bearer".to_owned()),
        expires_in: Some(access_lifetime.as_secs()),
        user: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_validation_table() {
        let cases = [
            ("student@example.com", true),
            ("a@b.co", true),
            ("first.last@school.example.org", true),
            ("no-at-sign.com", false),
            ("two@@example.com", false),
            ("a@b@example.com", false),
            ("@example.com", false),
            ("user@", false),
            ("user@localhost", false),
            ("user@.com", false),
            ("user@example.", false),
            ("us er@example.com", false),
        ];
        for (email, valid) in cases {
            assert_eq!(is_valid_email(email), valid, "{email}");
        }
    }
}
