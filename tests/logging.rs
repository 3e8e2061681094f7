//! What the client logs: a span per call, a warning per retry and per
//! refresh, and never a token or a password.

mod common;

use secrecy::ExposeSecret;
use toolboxai::mock::Fault;
use toolboxai::RetryPolicy;

/// Runs a login, a retried call and a refreshed call with every log level
/// captured, and returns the log with the tokens that were in use.
async fn captured_flow() -> (String, Vec<String>) {
    let captured = common::CapturedLog::default();
    let _guard = captured.install();

    let (server, client) = common::start().await;
    let client = client.with_retry_policy(
        RetryPolicy::default().initial_delay(std::time::Duration::from_millis(1)),
    );
    common::login(&client, common::STUDENT).await;
    let mut tokens = Vec::new();
    let first = client.auth().tokens().unwrap();
    tokens.push(first.access_token.expose_secret().to_owned());
    tokens.push(first.refresh_token.unwrap().expose_secret().to_owned());

    server.inject(Fault::status("/api/progress/*", 503));
    client.progress().course("course-123").await.unwrap();
    server.expire_access_tokens();
    client.progress().course("course-123").await.unwrap();

    let second = client.auth().tokens().unwrap();
    tokens.push(second.access_token.expose_secret().to_owned());
    tokens.push(second.refresh_token.unwrap().expose_secret().to_owned());
    (captured.text(), tokens)
}

#[tokio::test]
async fn log_never_contains_secrets() {
    let (log, tokens) = captured_flow().await;
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "token in log");
    }
    assert!(!log.contains(common::STUDENT.1), "password in log");
}

#[tokio::test]
async fn retry_is_logged_as_warning() {
    let (log, _) = captured_flow().await;
    let line = log
        .lines()
        .find(|line| line.contains("retrying request"))
        .expect("a retry line");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("status=503"), "{line}");
    assert!(line.contains("delay_ms="), "{line}");
}

#[tokio::test]
async fn refresh_is_logged_as_warning() {
    let (log, _) = captured_flow().await;
    let line = log
        .lines()
        .find(|line| line.contains("refreshing it"))
        .expect("a refresh line");
    assert!(line.contains("WARN"), "{line}");
}

#[tokio::test]
async fn request_span_names_method_and_path() {
    let (log, _) = captured_flow().await;
    assert!(
        log.contains("toolboxai.request{method=GET path=/api/progress/course/course-123"),
        "span fields missing"
    );
}
