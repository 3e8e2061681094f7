//! Transport guards: response size limit and redirects.

use serde_json::json;
use toolboxai::{APIError, Client, RetryPolicy, Tokens};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client_for(uri: &str, max_response_bytes: usize) -> Client {
    let client = Client::builder()
        .base_url(uri)
        .retry_policy(RetryPolicy::default().initial_delay(std::time::Duration::from_millis(1)))
        .max_response_bytes(max_response_bytes)
        .build()
        .unwrap();
    client
        .auth()
        .restore_tokens(Tokens::new("token-1", None))
        .unwrap();
    client
}

fn quiz_with_title(title: &str) -> serde_json::Value {
    json!({"id": "quiz-1", "title": title, "subject": "Math", "total_points": 1, "questions": []})
}

#[tokio::test]
async fn body_over_limit_is_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(quiz_with_title(&"x".repeat(4096))))
        .mount(&server)
        .await;
    let error = client_for(&server.uri(), 1024)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap_err();
    assert!(matches!(error, APIError::Decode(_)), "{error:?}");
    assert!(error.message().contains("1024 bytes"), "{error}");
}

#[tokio::test]
async fn body_over_limit_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(quiz_with_title(&"x".repeat(4096))))
        .mount(&server)
        .await;
    let _ = client_for(&server.uri(), 1024)
        .quizzes()
        .get("quiz-1")
        .await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn body_within_limit_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(quiz_with_title("small")))
        .mount(&server)
        .await;
    let quiz = client_for(&server.uri(), 1024)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap();
    assert_eq!(quiz.title, "small");
}

/// Starts a server that redirects every request with `status` to `target`.
async fn redirecting_to(target: &MockServer, status: u16) -> MockServer {
    let origin = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("location", format!("{}/elsewhere", target.uri()).as_str()),
        )
        .mount(&origin)
        .await;
    origin
}

#[tokio::test]
async fn redirect_to_other_origin_is_not_followed() {
    for status in [301, 302, 303, 307, 308] {
        let target = MockServer::start().await;
        let origin = redirecting_to(&target, status).await;
        let client = Client::builder()
            .base_url(origin.uri())
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();

        let login = client
            .auth()
            .login("student@example.com", "StudentPass123!")
            .await;

        let received = target.received_requests().await.unwrap();
        assert!(received.is_empty(), "{status}: the other origin was called");
        let error = login.unwrap_err();
        assert!(
            matches!(error, APIError::UnexpectedStatus(_)),
            "{status}: {error:?}"
        );
        assert_eq!(error.status(), Some(status), "{status}");
    }
}

#[tokio::test]
async fn redirect_error_names_the_location() {
    let target = MockServer::start().await;
    let origin = redirecting_to(&target, 302).await;
    let error = client_for(&origin.uri(), 1 << 20)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap_err();
    assert!(error.message().contains("/elsewhere"), "{error}");
}

#[tokio::test]
async fn redirect_within_origin_is_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/quiz/quiz-1"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/moved", server.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved"))
        .respond_with(ResponseTemplate::new(200).set_body_json(quiz_with_title("moved")))
        .mount(&server)
        .await;

    let quiz = client_for(&server.uri(), 1 << 20)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap();

    assert_eq!(quiz.title, "moved");
}

#[tokio::test]
async fn redirect_loop_fails_without_retry() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/api/quiz/quiz-1", server.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    let error = client_for(&server.uri(), 1 << 20)
        .quizzes()
        .get("quiz-1")
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error:?}");
    assert_eq!(error.code(), toolboxai::ErrorCode::ServerError);
    assert_eq!(error.status(), Some(302));
    let requests = server.received_requests().await.unwrap().len();
    assert!(requests <= 6, "{requests} requests for one call");
}

#[tokio::test]
async fn overstated_length_is_not_reserved() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    content-length: 4611686018427387904\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(b"{\"id\":").await.unwrap();
        stream.flush().await.unwrap();
        // A pause so that the client reads the body in two chunks.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        stream.write_all(b"\"quiz-1\"").await.unwrap();
    });
    let client = client_for(&format!("http://{address}"), usize::MAX);

    let error = client.quizzes().get("quiz-1").await.unwrap_err();

    assert!(matches!(error, APIError::Network { .. }), "{error:?}");
}

#[tokio::test]
async fn unbuildable_request_is_invalid_input() {
    let server = MockServer::start().await;
    let error = client_for(&server.uri(), 1 << 20)
        .quizzes()
        .get(&"a".repeat(70_000))
        .await
        .unwrap_err();
    assert!(matches!(error, APIError::InvalidInput(_)), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Starts a server whose submit path redirects with `status` to `/moved`,
/// which scores any submission.
async fn submit_redirected_with(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/quiz/quiz-1/submit"))
        .respond_with(ResponseTemplate::new(status).insert_header("location", "/moved"))
        .mount(&server)
        .await;
    let result = json!({"score": 1, "total_points": 1, "percentage": 100.0, "passed": true,
                        "xp_earned": 80});
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(200).set_body_json(result))
        .mount(&server)
        .await;
    server
}

async fn submit_one_answer(server: &MockServer) -> toolboxai::Result<toolboxai::QuizResult> {
    client_for(&server.uri(), 1 << 20)
        .quizzes()
        .submit("quiz-1", vec![toolboxai::Answer::new("q1", "4")], 5)
        .await
}

#[tokio::test]
async fn post_redirect_that_drops_body_is_refused() {
    for status in [301, 302, 303] {
        let server = submit_redirected_with(status).await;

        let error = submit_one_answer(&server).await.unwrap_err();

        assert_eq!(error.status(), Some(status), "{status}: {error}");
        let received = server.received_requests().await.unwrap();
        assert_eq!(received.len(), 1, "{status}: the redirect was followed");
    }
}

#[tokio::test]
async fn post_307_resends_body_and_key() {
    let server = submit_redirected_with(307).await;

    submit_one_answer(&server).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].url.path(), "/moved");
    assert_eq!(received[1].body, received[0].body);
    assert_eq!(
        received[1].headers.get("idempotency-key"),
        received[0].headers.get("idempotency-key")
    );
}

#[tokio::test]
async fn max_request_timeout_means_no_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(quiz_with_title("slow")))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), 1 << 20).with_request_timeout(std::time::Duration::MAX);

    let quiz = client.quizzes().get("quiz-1").await.unwrap();

    assert_eq!(quiz.title, "slow");
}
