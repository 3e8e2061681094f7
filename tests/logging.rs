//! What the client logs: a span per call, a warning per retry and per
//! refresh, and never a token or a password.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use secrecy::ExposeSecret;
use toolboxai::mock::Fault;
use toolboxai::RetryPolicy;

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a login, a retried call and a refreshed call with every log level
/// captured, and returns the log with the tokens that were in use.
async fn captured_flow() -> (String, Vec<String>) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
