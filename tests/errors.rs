//! Status-to-error mapping and error body decoding, against wiremock.

use serde_json::json;
use toolboxai::{APIError, Client, ErrorCode, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Logs `client` in with a fixed token, as a saved login would.
fn with_token(client: Client) -> Client {
    client
        .auth()
        .restore_tokens(toolboxai::Tokens::new("token-1", None))
        .unwrap();
    client
}

/// Starts wiremock responding to `GET /api/quiz/quiz-1` with `response`, and
/// returns the error of fetching that quiz while logged in, without retries.
async fn error_for(response: ResponseTemplate) -> APIError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/quiz/quiz-1"))
        .respond_with(response)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    with_token(client)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap_err()
}

fn kind(error: &APIError) -> &'static str {
    match error {
        APIError::Validation(_) => "validation",
        APIError::Authentication(_) => "authentication",
        APIError::Forbidden(_) => "forbidden",
        APIError::NotFound(_) => "not_found",
        APIError::RateLimited { .. } => "rate_limited",
        APIError::Server(_) => "server",
        APIError::UnexpectedStatus(_) => "unexpected_status",
        APIError::Decode(_) => "decode",
        APIError::Network { .. } => "network",
        APIError::Timeout(_) => "timeout",
        _ => "other",
    }
}

#[tokio::test]
async fn status_maps_to_variant_and_code() {
    let cases = [
        (302, "unexpected_status", ErrorCode::ServerError),
        (400, "validation", ErrorCode::ValidationError),
        (401, "authentication", ErrorCode::AuthenticationError),
        (403, "forbidden", ErrorCode::AuthenticationError),
        (404, "not_found", ErrorCode::NotFound),
        (405, "unexpected_status", ErrorCode::ValidationError),
        (409, "validation", ErrorCode::ValidationError),
        (422, "validation", ErrorCode::ValidationError),
        (429, "rate_limited", ErrorCode::RateLimit),
        (500, "server", ErrorCode::ServerError),
        (502, "server", ErrorCode::ServerError),
        (503, "server", ErrorCode::ServerError),
    ];
    for (status, expected_kind, expected_code) in cases {
        let error = error_for(
            ResponseTemplate::new(status).set_body_json(json!({"detail": "failure text"})),
        )
        .await;
        assert_eq!(kind(&error), expected_kind, "status {status}");
        assert_eq!(error.code(), expected_code, "status {status}");
        assert_eq!(error.status(), Some(status), "status {status}");
    }
}

#[tokio::test]
async fn retryable_statuses() {
    let cases = [
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (408, true),
        (409, false),
        (422, false),
        (429, true),
        (500, true),
        (501, false),
        (502, true),
        (503, true),
        (504, true),
    ];
    for (status, expected) in cases {
        let error = error_for(ResponseTemplate::new(status)).await;
        assert_eq!(error.is_retryable(), expected, "status {status}");
    }
}

#[tokio::test]
async fn error_body_shapes_decode() {
    let cases = [
        (json!({"message": "Quiz is closed"}), "Quiz is closed"),
        (json!({"detail": "Quiz not found"}), "Quiz not found"),
        (
            json!({"detail": [{"loc": ["body", "grade_level"], "msg": "must be 1 to 12", "type": "value_error"}]}),
            "the request has invalid fields",
        ),
        (json!({"error": "bad thing"}), "bad thing"),
        (json!({"unrelated": 1}), "Unprocessable Entity"),
    ];
    for (body, expected) in cases {
        let error = error_for(ResponseTemplate::new(422).set_body_json(body.clone())).await;
        assert_eq!(error.message(), expected, "body {body}");
    }
}

#[tokio::test]
async fn fastapi_detail_list_keeps_field_errors() {
    let body = json!({"detail": [
        {"loc": ["body", "grade_level"], "msg": "must be 1 to 12", "type": "value_error"}
    ]});
    let error = error_for(ResponseTemplate::new(422).set_body_json(body)).await;
    let fields = &error.details().unwrap().field_errors;
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].location(), "body.grade_level");
    assert_eq!(fields[0].msg, "must be 1 to 12");
}

#[tokio::test]
async fn message_shape_keeps_details() {
    let body = json!({"message": "Invalid", "details": {"field": "title"}});
    let error = error_for(ResponseTemplate::new(400).set_body_json(body)).await;
    assert_eq!(
        error.details().unwrap().details,
        Some(json!({"field": "title"}))
    );
}

#[tokio::test]
async fn html_502_body_is_server_error_with_snippet() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let error = error_for(
        ResponseTemplate::new(502)
            .insert_header("content-type", "text/html")
            .set_body_string(html),
    )
    .await;
    assert!(matches!(error, APIError::Server(_)), "{error:?}");
    assert_eq!(error.details().unwrap().body_snippet.as_deref(), Some(html));
}

#[tokio::test]
async fn empty_error_body_names_status() {
    let error = error_for(ResponseTemplate::new(503)).await;
    assert_eq!(error.message(), "Service Unavailable, with an empty body");
}

#[tokio::test]
async fn success_with_html_body_is_decode_error() {
    let error = error_for(ResponseTemplate::new(200).set_body_string("<html>ok</html>")).await;
    assert!(matches!(error, APIError::Decode(_)), "{error:?}");
    assert_eq!(
        error.details().unwrap().body_snippet.as_deref(),
        Some("<html>ok</html>")
    );
}

#[tokio::test]
async fn success_with_empty_body_is_decode_error() {
    let error = error_for(ResponseTemplate::new(200)).await;
    assert!(matches!(error, APIError::Decode(_)), "{error:?}");
}

#[tokio::test]
async fn request_id_header_is_kept() {
    let error = error_for(
        ResponseTemplate::new(500)
            .insert_header("x-request-id", "req-42")
            .set_body_json(json!({"detail": "boom"})),
    )
    .await;
    assert_eq!(error.request_id(), Some("req-42"));
}

#[tokio::test]
async fn display_names_request_and_status() {
    let error = error_for(
        ResponseTemplate::new(404)
            .insert_header("x-request-id", "req-7")
            .set_body_json(json!({"detail": "Quiz not found"})),
    )
    .await;
    assert_eq!(
        error.to_string(),
        "not found: GET /api/quiz/quiz-1 returned 404: Quiz not found [request id req-7]"
    );
}

#[tokio::test]
async fn bearer_header_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/progress/course/c1"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer token-1",
        ))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let client = with_token(Client::new(&server.uri()).unwrap());
    let error = client.progress().course("c1").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[tokio::test]
async fn call_without_login_is_not_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri()).unwrap();
    let error = client.quizzes().get("quiz-1").await.unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
}

#[tokio::test]
async fn path_segments_are_percent_encoded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/quiz/a%2Fb%3Fc"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let client = with_token(Client::new(&server.uri()).unwrap());
    let error = client.quizzes().get("a/b?c").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[tokio::test]
async fn api_prefix_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/quiz/quiz-1"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .api_prefix("/api/v1")
        .build()
        .unwrap();
    let client = with_token(client);
    let error = client.quizzes().get("quiz-1").await.unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[tokio::test]
async fn connection_refused_is_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder()
        .base_url(format!("http://{address}"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client
        .auth()
        .login("a@example.com", "password1")
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NetworkError);
}
