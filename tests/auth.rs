//! Registration, login and tokens, against the mock server.

mod common;

use secrecy::ExposeSecret;
use toolboxai::{APIError, RegisterRequest, Role, Tokens};

fn new_student(email: &str) -> RegisterRequest {
    RegisterRequest::new(email, "SecurePassword123!", "Jane Smith", Role::Student).grade_level(7)
}

#[tokio::test]
async fn register_returns_user() {
    let (_server, client) = common::start().await;
    let user = client
        .auth()
        .register(&new_student("jane@example.com"))
        .await
        .unwrap();
    assert_eq!(user.email, "jane@example.com");
    assert_eq!(user.role, Role::Student);
    assert_eq!(user.grade_level, Some(7));
}

#[tokio::test]
async fn register_taken_email_is_validation_409() {
    let (_server, client) = common::start().await;
    let error = client
        .auth()
        .register(&new_student("student@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(error, APIError::Validation(_)), "{error:?}");
    assert_eq!(error.status(), Some(409));
}

#[tokio::test]
async fn register_invalid_fields_are_422() {
    let cases = [
        ("malformed email", new_student("not-an-email")),
        ("grade 13", new_student("g13@example.com").grade_level(13)),
        ("grade 0", new_student("g0@example.com").grade_level(0)),
        (
            "short password",
            RegisterRequest::new("p@example.com", "short", "Pat", Role::Student),
        ),
    ];
    let (_server, client) = common::start().await;
    for (case, request) in cases {
        let error = client.auth().register(&request).await.unwrap_err();
        assert_eq!(error.status(), Some(422), "{case}");
        assert!(
            !error.details().unwrap().field_errors.is_empty(),
            "{case}: FastAPI field errors"
        );
    }
}

#[tokio::test]
async fn login_stores_tokens() {
    let (_server, client) = common::start().await;
    let response = client
        .auth()
        .login(common::STUDENT.0, common::STUDENT.1)
        .await
        .unwrap();
    assert_eq!(response.user.unwrap().role, Role::Student);
    assert!(client.auth().is_logged_in());
}

#[tokio::test]
async fn login_expiry_comes_from_expires_in() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let remaining = client
        .auth()
        .tokens()
        .unwrap()
        .remaining_lifetime()
        .unwrap();
    assert!(remaining.as_secs() > 25 * 60, "{remaining:?}");
}

#[tokio::test]
async fn login_wrong_password_is_authentication_error() {
    let (_server, client) = common::start().await;
    let error = client
        .auth()
        .login(common::STUDENT.0, "WrongPass123!")
        .await
        .unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    assert!(!client.auth().is_logged_in());
}

#[tokio::test]
async fn refresh_rotates_refresh_token() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let before = client.auth().tokens().unwrap();
    let after = client.auth().refresh().await.unwrap();
    assert_ne!(
        before.refresh_token.unwrap().expose_secret(),
        after.refresh_token.unwrap().expose_secret()
    );
}

#[tokio::test]
async fn refresh_without_refresh_token_fails() {
    let (_server, client) = common::start().await;
    client
        .auth()
        .restore_tokens(Tokens::new("opaque", None))
        .unwrap();
    let error = client.auth().refresh().await.unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
}

#[tokio::test]
async fn restored_tokens_authenticate_a_new_client() {
    let (server, first) = common::start_as(common::TEACHER).await;
    let saved = first.auth().tokens().unwrap();
    let second = toolboxai::Client::new(&server.url()).unwrap();
    second.auth().restore_tokens(saved).unwrap();
    let progress = second.progress().course("course-123").await;
    assert!(progress.is_ok(), "{progress:?}");
}

#[tokio::test]
async fn logout_forgets_tokens() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    client.auth().logout();
    let error = client.progress().course("course-123").await.unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
}

#[tokio::test]
async fn debug_output_hides_secrets() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let tokens = client.auth().tokens().unwrap();
    let access = tokens.access_token.expose_secret().to_owned();
    let printed = format!("{tokens:?} {client:?} {:?}", new_student("x@example.com"));
    assert!(!printed.contains(&access), "access token printed");
    assert!(!printed.contains("SecurePassword123!"), "password printed");
}
