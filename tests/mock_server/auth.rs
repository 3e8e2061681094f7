//! Registration, login, token refresh and bearer checks.

use super::*;

#[tokio::test]
async fn register_new_user_created() {
    let server = MockServer::start().await.expect("mock starts");
    let body = json!({"email": "jane@example.com", "password": "SecurePassword123!",
                      "name": "Jane Smith", "role": "student", "grade_level": 7});
    let response = post(&server, "/api/auth/register", None, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.expect("user is JSON");
    assert_eq!(user["email"], "jane@example.com");
    assert!(user["id"].is_string());
}

#[tokio::test]
async fn register_duplicate_email_conflicts() {
    let server = MockServer::start().await.expect("mock starts");
    let body = json!({"email": "Student@Example.com", "password": "SecurePassword123!",
                      "name": "Jane Smith", "role": "student", "grade_level": 7});
    let response = post(&server, "/api/auth/register", None, body).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn register_invalid_grade_has_fastapi_shape() {
    let server = MockServer::start().await.expect("mock starts");
    let body = json!({"email": "kid@example.com", "password": "SecurePassword123!",
                      "name": "Kid", "role": "student", "grade_level": 13});
    let response = post(&server, "/api/auth/register", None, body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.expect("error is JSON");
    let detail = &error["detail"][0];
    assert_eq!(detail["loc"], json!(["body", "grade_level"]));
    assert_eq!(detail["type"], "value_error");
    assert!(detail["msg"].is_string());
}

#[tokio::test]
async fn register_invalid_fields_table() {
    let server = MockServer::start().await.expect("mock starts");
    let valid = json!({"email": "new@example.com", "password": "SecurePassword123!",
                       "name": "New", "role": "teacher"});
    let cases = [
        ("email", json!("not-an-email")),
        ("email", json!("a@localhost")),
        ("password", json!("short")),
        ("name", json!("  ")),
        ("role", json!("janitor")),
    ];
    for (field, value) in cases {
        let mut body = valid.clone();
        body[field] = value.clone();
        let response = post(&server, "/api/auth/register", None, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} = {value}"
        );
        let error: Value = response.json().await.expect("error is JSON");
        assert_eq!(
            error["detail"][0]["loc"],
            json!(["body", field]),
            "{field} = {value}"
        );
    }
}

#[tokio::test]
async fn malformed_json_unprocessable() {
    let server = MockServer::start().await.expect("mock starts");
    let response = Client::new()
        .post(format!("{}/api/auth/login", server.url()))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("request reaches the mock");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"][0]["type"], "json_invalid");
}

#[tokio::test]
async fn login_demo_teacher_succeeds() {
    let server = MockServer::start().await.expect("mock starts");
    let tokens = login(&server, TEACHER).await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(tokens["user"]["role"], "teacher");
}

#[tokio::test]
async fn login_wrong_password_unauthorized() {
    let server = MockServer::start().await.expect("mock starts");
    let body = json!({"email": "teacher@example.com", "password": "wrong"});
    let response = post(&server, "/api/auth/login", None, body).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"], "Incorrect email or password");
}

#[tokio::test]
async fn refresh_rotates_refresh_token() {
    let server = MockServer::start().await.expect("mock starts");
    let tokens = login(&server, STUDENT).await;
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let first = post(&server, "/api/auth/refresh", None, body.clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let renewed: Value = first.json().await.expect("tokens are JSON");
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"]);
    let reused = post(&server, "/api/auth/refresh", None, body).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.refresh_count(), 1);
}

#[tokio::test]
async fn missing_bearer_not_authenticated() {
    let server = MockServer::start().await.expect("mock starts");
    let response = post(&server, "/api/quiz/create", None, math_quiz()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers().get("www-authenticate").cloned();
    assert_eq!(
        challenge.as_ref().and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"], "Not authenticated");
}

#[tokio::test]
async fn expired_access_tokens_unauthorized() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    server.expire_access_tokens();
    let response = get(&server, "/api/progress/course/course-123", &student).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"], "Token has expired");
}

#[tokio::test]
async fn short_token_lifetime_expires() {
    let server = MockServer::start().await.expect("mock starts");
    server.set_access_token_lifetime(Duration::from_millis(50));
    let student = access_token(&server, STUDENT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = get(&server, "/api/progress/course/course-123", &student).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn max_token_lifetime_is_valid() {
    let server = MockServer::builder()
        .access_token_lifetime(Duration::MAX)
        .start()
        .await
        .expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let response = get(&server, "/api/progress/course/course-123", &student).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn max_lifetime_set_later_is_valid() {
    let server = MockServer::start().await.expect("mock starts");
    server.set_access_token_lifetime(Duration::MAX);
    let student = access_token(&server, STUDENT).await;
    let response = get(&server, "/api/progress/course/course-123", &student).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_retry_expired_bearer_replays() {
    let server = MockServer::start().await.expect("mock starts");
    let tokens = login(&server, STUDENT).await;
    let access = tokens["access_token"].as_str().expect("access_token");
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let url = format!("{}/api/auth/refresh", server.url());
    let refresh = || {
        Client::new()
            .post(&url)
            .bearer_auth(access)
            .header("Idempotency-Key", "refresh-1")
            .json(&body)
            .send()
    };
    let first = refresh().await.expect("request reaches the mock");
    assert_eq!(first.status(), StatusCode::OK);

    server.expire_access_tokens();
    let retried = refresh().await.expect("request reaches the mock");

    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(server.refresh_count(), 1);
}

#[tokio::test]
async fn large_body_reaches_the_handler() {
    let server = MockServer::start().await.expect("mock starts");
    let password = "x".repeat(3 * 1024 * 1024);
    let body = json!({"email": "student@example.com", "password": password});
    let response = post(&server, "/api/auth/login", None, body).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn email_case_folding_is_ascii_only() {
    let server = MockServer::start().await.expect("mock starts");
    let body = json!({"email": "k\u{212a}@example.com", "password": "SecurePassword123!",
                      "name": "Kelvin", "role": "student", "grade_level": 7});
    let kelvin = post(&server, "/api/auth/register", None, body).await;
    assert_eq!(kelvin.status(), StatusCode::CREATED);
    let body = json!({"email": "kk@example.com", "password": "SecurePassword123!",
                      "name": "Plain", "role": "student", "grade_level": 7});
    let plain = post(&server, "/api/auth/register", None, body).await;
    assert_eq!(plain.status(), StatusCode::CREATED);
}
