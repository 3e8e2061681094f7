//! Injected faults, request ids and server options.

use super::*;

#[tokio::test]
async fn status_fault_applies_twice_then_succeeds() {
    let server = MockServer::start().await.expect("mock starts");
    server.inject(Fault::status("/api/auth/*", 503).retry_after("2").times(2));
    let body = json!({"email": TEACHER.0, "password": TEACHER.1});
    let mut statuses = Vec::new();
    for attempt in 0..3 {
        let response = post(&server, "/api/auth/login", None, body.clone()).await;
        if attempt == 0 {
            let retry_after = response.headers().get("retry-after").cloned();
            assert_eq!(
                retry_after.as_ref().and_then(|v| v.to_str().ok()),
                Some("2")
            );
        }
        statuses.push(response.status());
    }
    let expected = [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::OK,
    ];
    assert_eq!(statuses, expected);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn malformed_body_fault_sends_html() {
    let server = MockServer::start().await.expect("mock starts");
    server.inject(Fault::malformed_body("*", 502));
    let response = post(&server, "/api/auth/login", None, json!({})).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/html")
    );
    let text = response.text().await.expect("body is readable");
    assert_eq!(text, "<html><body>Bad Gateway</body></html>");
}

#[tokio::test]
async fn drop_connection_fault_fails_request() {
    let server = MockServer::start().await.expect("mock starts");
    server.inject(Fault::drop_connection("/api/auth/login").method("POST"));
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds");
    let url = format!("{}/api/auth/login", server.url());
    let body = json!({"email": TEACHER.0, "password": TEACHER.1});
    let dropped = client.post(&url).json(&body).send().await;
    let error = dropped.expect_err("the connection is closed without a response");
    assert!(!error.is_timeout(), "{error:?}");
    let retried = client.post(&url).json(&body).send().await;
    let status = retried.map(|response| response.status()).ok();
    assert_eq!(status, Some(StatusCode::OK));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn responses_carry_request_and_correlation_ids() {
    let server = MockServer::start().await.expect("mock starts");
    let response = Client::new()
        .get(format!("{}/api/quiz/unknown", server.url()))
        .header("X-Correlation-ID", "corr-7")
        .send()
        .await
        .expect("request reaches the mock");
    let header = |name: &str| {
        let value = response.headers().get(name)?;
        value.to_str().ok().map(str::to_owned)
    };
    assert_eq!(header("x-request-id").as_deref(), Some("req-1"));
    assert_eq!(header("x-correlation-id").as_deref(), Some("corr-7"));
}

#[tokio::test]
async fn api_prefix_moves_routes() {
    let server = MockServer::builder()
        .api_prefix("/api/v1")
        .start()
        .await
        .expect("mock starts");
    let body = json!({"email": TEACHER.0, "password": TEACHER.1});
    let moved = post(&server, "/api/v1/auth/login", None, body.clone()).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let old = post(&server, "/api/auth/login", None, body).await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delay_fault_delays_response() {
    let server = MockServer::start().await.expect("mock starts");
    let delay = Duration::from_millis(300);
    server.inject(Fault::delay("/api/auth/login", delay));
    let body = json!({"email": TEACHER.0, "password": TEACHER.1});
    let started = std::time::Instant::now();
    let response = post(&server, "/api/auth/login", None, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
}

#[tokio::test]
async fn empty_body_fault_sends_nothing() {
    let server = MockServer::start().await.expect("mock starts");
    server.inject(Fault::empty_body("*", 500));
    let response = post(&server, "/api/auth/login", None, json!({})).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.bytes().await.expect("body is readable");
    assert!(body.is_empty());
}

#[tokio::test]
async fn invalid_retry_after_left_out() {
    let server = MockServer::start().await.expect("mock starts");
    server.inject(Fault::status("*", 429).retry_after("soon\n"));
    let response = post(&server, "/api/auth/login", None, json!({})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn http_date_retry_after_sent_verbatim() {
    let server = MockServer::start().await.expect("mock starts");
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    server.inject(Fault::status("*", 429).retry_after(date));
    let response = post(&server, "/api/auth/login", None, json!({})).await;
    let retry_after = response.headers().get("retry-after").cloned();
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some(date)
    );
}

#[tokio::test]
async fn ws_listener_serves_same_app() {
    let localhost = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = MockServer::builder()
        .ws_addr(Some(localhost))
        .start()
        .await
        .expect("mock starts");
    let ws_url = server.ws_url();
    let authority = ws_url
        .strip_prefix("ws://")
        .and_then(|rest| rest.strip_suffix("/ws/connect"))
        .expect("ws URL has the expected shape");
    assert_ne!(authority, server.local_addr().to_string());
    let body = json!({"email": TEACHER.0, "password": TEACHER.1});
    let response = Client::new()
        .post(format!("http://{authority}/api/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("request reaches the second listener");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn drop_response_keeps_effects_for_replay() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let path = format!("/api/quiz/{quiz_id}/submit");
    server.inject(Fault::drop_response(path.clone()));
    let client = Client::new();
    let send = || {
        client
            .post(format!("{}{path}", server.url()))
            .bearer_auth(&student)
            .header("Idempotency-Key", "submit-dropped")
            .json(&perfect_answers())
            .send()
    };
    let dropped = send().await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(server.submission_count(&quiz_id), 1);
    let retried = send().await.expect("retry reaches the mock");
    assert_eq!(retried.status(), StatusCode::OK);
    let replayed = retried.headers().get("idempotent-replayed").cloned();
    assert_eq!(
        replayed.as_ref().and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(server.submission_count(&quiz_id), 1);
}
