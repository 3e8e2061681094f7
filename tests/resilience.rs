//! Retries, Retry-After, idempotency keys, token refresh, timeouts and the
//! retry budget, as tables of fault cases against wiremock and the mock.

mod common;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::json;
use toolboxai::mock::Fault;
use toolboxai::{
    APIError, Answer, Client, NewQuestion, NewQuiz, QuestionType, RetryPolicy, Tokens,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Returns a policy with millisecond delays so that retry tests stay fast.
fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .jitter(0.0)
}

fn client_for(uri: &str, policy: RetryPolicy) -> Client {
    let client = Client::builder()
        .base_url(uri)
        .retry_policy(policy)
        .build()
        .unwrap();
    client
        .auth()
        .restore_tokens(Tokens::new("token-1", None))
        .unwrap();
    client
}

/// Responds with the given responses in order, then repeats the last one.
struct Sequence(Mutex<VecDeque<ResponseTemplate>>);

impl Sequence {
    fn of(responses: Vec<ResponseTemplate>) -> Self {
        Self(Mutex::new(responses.into()))
    }
}

impl Respond for Sequence {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let mut responses = self.0.lock().unwrap();
        if responses.len() > 1 {
            responses.pop_front().unwrap()
        } else {
            responses.front().cloned().unwrap()
        }
    }
}

fn quiz_body() -> serde_json::Value {
    json!({"id": "quiz-1", "title": "T", "subject": "Math", "total_points": 1, "questions": []})
}

/// Mounts the responses on `GET /api/quiz/quiz-1` and fetches that quiz.
async fn get_quiz_through(
    responses: Vec<ResponseTemplate>,
    policy: RetryPolicy,
) -> (MockServer, toolboxai::Result<toolboxai::Quiz>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/quiz/quiz-1"))
        .respond_with(Sequence::of(responses))
        .mount(&server)
        .await;
    let result = client_for(&server.uri(), policy)
        .quizzes()
        .get("quiz-1")
        .await;
    (server, result)
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({"detail": "scripted"}))
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(quiz_body())
}

#[tokio::test]
async fn status_sequences_are_retried_or_not() {
    // (case, responses, expected requests, expected final status or None for success)
    let cases = [
        (
            "503 503 200 succeeds",
            vec![status(503), status(503), ok()],
            3,
            None,
        ),
        ("408 then 200 succeeds", vec![status(408), ok()], 2, None),
        (
            "502 504 200 succeeds",
            vec![status(502), status(504), ok()],
            3,
            None,
        ),
        ("429 then 200 succeeds", vec![status(429), ok()], 2, None),
        ("five 500s fail", vec![status(500); 5], 4, Some(500)),
        ("400 sent once", vec![status(400), ok()], 1, Some(400)),
        ("403 sent once", vec![status(403), ok()], 1, Some(403)),
        ("404 sent once", vec![status(404), ok()], 1, Some(404)),
        ("409 sent once", vec![status(409), ok()], 1, Some(409)),
        ("422 sent once", vec![status(422), ok()], 1, Some(422)),
        ("501 sent once", vec![status(501), ok()], 1, Some(501)),
    ];
    for (case, responses, expected_requests, expected_status) in cases {
        let (server, result) = get_quiz_through(responses, fast_policy()).await;
        let received = server.received_requests().await.unwrap().len();
        assert_eq!(received, expected_requests, "{case}: requests");
        assert_eq!(
            result.as_ref().err().and_then(APIError::status),
            expected_status,
            "{case}: outcome"
        );
    }
}

#[tokio::test]
async fn exhausted_retries_report_attempts() {
    let (_server, result) = get_quiz_through(vec![status(500); 5], fast_policy()).await;
    let error = result.unwrap_err();
    assert_eq!(error.details().unwrap().attempts, 4);
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
}

#[tokio::test]
async fn retry_after_seconds_is_waited() {
    let started = Instant::now();
    let limited = status(429).insert_header("retry-after", "1");
    let (_server, result) = get_quiz_through(vec![limited, ok()], fast_policy()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_http_date_is_waited() {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let started = Instant::now();
    let limited = status(429).insert_header("retry-after", date.as_str());
    let (_server, result) = get_quiz_through(vec![limited, ok()], fast_policy()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_above_maximum_fails_at_once() {
    let limited = status(429).insert_header("retry-after", "3600");
    let (server, result) = get_quiz_through(vec![limited, ok()], fast_policy()).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, APIError::RateLimited { retry_after: Some(delay), .. } if delay == Duration::from_secs(3600)),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_after_garbage_falls_back_to_backoff() {
    let started = Instant::now();
    let limited = status(429).insert_header("retry-after", "whenever you like");
    let (server, result) = get_quiz_through(vec![limited, ok()], fast_policy()).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn timeout_is_retried_then_reported() {
    let slow = ok().set_delay(Duration::from_millis(500));
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(slow)
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), fast_policy().max_retries(2))
        .with_request_timeout(Duration::from_millis(50));
    let error = client.quizzes().get("quiz-1").await.unwrap_err();
    assert!(matches!(error, APIError::Timeout(_)), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn per_call_policy_overrides_client_policy() {
    let (server, _client_result) = get_quiz_through(vec![status(503)], RetryPolicy::none()).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn idempotency_keys(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|request| {
            request
                .headers
                .get("idempotency-key")
                .expect("POST carries an Idempotency-Key")
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn submit_server(responses: Vec<ResponseTemplate>) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/quiz/quiz-1/submit"))
        .respond_with(Sequence::of(responses))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), fast_policy());
    (server, client)
}

fn result_body() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"score": 1, "total_points": 1, "percentage": 100.0, "passed": true}))
}

#[tokio::test]
async fn retried_post_repeats_its_key() {
    let (server, client) = submit_server(vec![status(503), status(503), result_body()]).await;
    client.quizzes().submit("quiz-1", vec![], 1).await.unwrap();
    let keys = idempotency_keys(&server.received_requests().await.unwrap());
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|key| key == &keys[0]), "{keys:?}");
}

#[tokio::test]
async fn separate_posts_send_separate_keys() {
    let (server, client) = submit_server(vec![result_body()]).await;
    client.quizzes().submit("quiz-1", vec![], 1).await.unwrap();
    client.quizzes().submit("quiz-1", vec![], 1).await.unwrap();
    let keys = idempotency_keys(&server.received_requests().await.unwrap());
    assert_ne!(keys[0], keys[1]);
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let (server, client) = common::start_as(common::STUDENT).await;
    server.inject(Fault::drop_connection("/api/progress/course/*"));
    let progress = client.progress().course("course-123").await;
    assert!(progress.is_ok(), "{progress:?}");
}

#[tokio::test]
async fn rejected_token_is_refreshed_and_call_replayed() {
    let (server, client) = common::start_as(common::STUDENT).await;
    let old = client.auth().tokens().unwrap();
    server.expire_access_tokens();

    let progress = client.progress().course("course-123").await;

    assert!(progress.is_ok(), "{progress:?}");
    assert_eq!(server.refresh_count(), 1);
    let new = client.auth().tokens().unwrap();
    assert_ne!(
        old.access_token.expose_secret(),
        new.access_token.expose_secret()
    );
    let bearers: Vec<String> = server
        .requests()
        .iter()
        .filter(|request| request.path == "/api/progress/course/course-123")
        .map(|request| request.header("authorization").unwrap().to_owned())
        .collect();
    let expected = vec![
        format!("Bearer {}", old.access_token.expose_secret()),
        format!("Bearer {}", new.access_token.expose_secret()),
    ];
    assert_eq!(bearers, expected, "one replay, with the new token");
}

#[tokio::test]
async fn concurrent_rejected_calls_share_one_refresh() {
    let (server, client) = common::start_as(common::STUDENT).await;
    server.expire_access_tokens();
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.progress().course("course-123").await })
    });
    let results = futures_util::future::join_all(calls).await;
    let succeeded = results
        .into_iter()
        .filter(|joined| matches!(joined, Ok(Ok(_))))
        .count();
    assert_eq!(succeeded, 50);
    assert_eq!(server.refresh_count(), 1);
}

#[tokio::test]
async fn failed_refresh_ends_all_waiting_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(status(401))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/auth/refresh"))
        .respond_with(status(401))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    client
        .auth()
        .restore_tokens(Tokens::new("expired", Some("refresh-1".into())))
        .unwrap();

    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.quizzes().get("quiz-1").await })
    });
    let results = futures_util::future::join_all(calls).await;

    let authentication_errors = results
        .iter()
        .filter(|joined| matches!(joined, Ok(Err(APIError::Authentication(_)))))
        .count();
    assert_eq!(authentication_errors, 20);
    let requests = server.received_requests().await.unwrap();
    let refreshes = requests
        .iter()
        .filter(|r| r.url.path() == "/api/auth/refresh")
        .count();
    assert_eq!(refreshes, 1, "one refresh request");
    assert_eq!(requests.len() - refreshes, 20, "one attempt per call");
    assert!(client.auth().is_logged_in(), "tokens are kept");
}

#[tokio::test]
async fn login_without_refresh_token_does_not_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(status(401))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), fast_policy());
    let error = client.quizzes().get("quiz-1").await.unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn auto_refresh_off_returns_401() {
    let (server, _) = common::start().await;
    let client = Client::builder()
        .base_url(server.url())
        .auto_refresh(false)
        .build()
        .unwrap();
    common::login(&client, common::STUDENT).await;
    server.expire_access_tokens();
    let error = client.progress().course("course-123").await.unwrap_err();
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    assert_eq!(server.refresh_count(), 0);
}

/// Starts a mock whose access tokens live `lifetime`, and a logged-in client.
async fn start_with_token_lifetime(lifetime: Duration) -> (toolboxai::mock::MockServer, Client) {
    let server = toolboxai::mock::MockServer::builder()
        .access_token_lifetime(lifetime)
        .start()
        .await
        .unwrap();
    let client = Client::new(&server.url()).unwrap();
    common::login(&client, common::STUDENT).await;
    (server, client)
}

#[tokio::test]
async fn expiring_token_is_refreshed_before_the_call() {
    // A token is refreshed once less than half its lifetime (at most the
    // 30 s margin) remains.
    let (server, client) = start_with_token_lifetime(Duration::from_millis(1000)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;

    client.progress().course("course-123").await.unwrap();

    assert_eq!(server.refresh_count(), 1);
    let sent = server
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/api/progress"))
        .count();
    assert_eq!(sent, 1, "the call was sent once, with the new token");
}

#[tokio::test]
async fn short_lived_token_is_not_refreshed_every_call() {
    let (server, client) = start_with_token_lifetime(Duration::from_secs(10)).await;
    for _ in 0..3 {
        client.progress().course("course-123").await.unwrap();
    }
    assert_eq!(server.refresh_count(), 0);
}

#[tokio::test]
async fn dot_segment_ids_are_rejected() {
    let (server, client) = common::start_as(common::STUDENT).await;
    let before = server.requests().len();
    for id in [".", "..", "q\r\nX-Injected: 1"] {
        let error = client.quizzes().get(id).await.unwrap_err();
        assert!(
            matches!(error, APIError::InvalidInput(_)),
            "{id:?}: {error:?}"
        );
    }
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

#[tokio::test]
async fn retried_submission_is_scored_once() {
    let (server, client) = common::start_as(common::TEACHER).await;
    let question = NewQuestion::new(QuestionType::ShortAnswer, "2+2?", "4", 1);
    let quiz = client
        .quizzes()
        .create(&NewQuiz::new("Once", "Math", vec![question]))
        .await
        .unwrap();
    server.inject(Fault::drop_response(format!(
        "/api/quiz/{}/submit",
        quiz.id
    )));
    let client = client.with_retry_policy(fast_policy());

    let result = client
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q1", "4")], 5)
        .await
        .unwrap();

    assert_eq!(result.score, 1);
    assert_eq!(server.submission_count(&quiz.id), 1);
}

#[tokio::test]
async fn retried_quiz_creation_makes_one_quiz() {
    let (server, client) = common::start_as(common::TEACHER).await;
    let before = server.quiz_count();
    server.inject(Fault::drop_response("/api/quiz/create"));
    let question = NewQuestion::new(QuestionType::ShortAnswer, "2+2?", "4", 1);
    client
        .with_retry_policy(fast_policy())
        .quizzes()
        .create(&NewQuiz::new("Once", "Math", vec![question]))
        .await
        .unwrap();
    assert_eq!(server.quiz_count(), before + 1);
}

#[tokio::test]
async fn retry_budget_limits_a_retry_storm() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(status(503))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), fast_policy());
    let calls = (0..200).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.quizzes().get("quiz-1").await })
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|joined| matches!(joined, Ok(Err(_)))));
    // The default budget of 500 tokens pays for 100 retries at 5 tokens each.
    let received = server.received_requests().await.unwrap().len();
    assert!(received <= 300, "{received} requests");
}

/// Starts a server whose GETs succeed with the token `fresh` and get 401
/// with any other.
async fn server_accepting_fresh() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header("authorization", "Bearer fresh"))
        .respond_with(ok())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(status(401))
        .mount(&server)
        .await;
    server
}

/// Returns a client without retries holding the token `expired` and the
/// refresh token `refresh-1`.
fn expired_client(server: &MockServer) -> Client {
    let client = Client::builder()
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client
        .auth()
        .restore_tokens(Tokens::new("expired", Some("refresh-1".into())))
        .unwrap();
    client
}

#[tokio::test]
async fn transient_refresh_failure_is_retried_by_later_calls() {
    let server = server_accepting_fresh().await;
    let refreshed = ResponseTemplate::new(200)
        .set_body_json(json!({"access_token": "fresh", "token_type": "bearer"}));
    Mock::given(method("POST"))
        .and(path("/api/auth/refresh"))
        .respond_with(Sequence::of(vec![status(503), refreshed]))
        .mount(&server)
        .await;
    let client = expired_client(&server);

    let first = client.quizzes().get("quiz-1").await;
    let second = client.quizzes().get("quiz-1").await;

    assert!(
        matches!(first, Err(APIError::Authentication(_))),
        "{first:?}"
    );
    assert!(second.is_ok(), "{second:?}");
}

#[tokio::test]
async fn rejected_refresh_token_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(status(401))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/auth/refresh"))
        .respond_with(status(401))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), fast_policy());
    client
        .auth()
        .restore_tokens(Tokens::new("expired", Some("refresh-1".into())))
        .unwrap();
    for _ in 0..3 {
        let error = client.quizzes().get("quiz-1").await.unwrap_err();
        assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    }
}

const REFRESH_PATH: &str = "/api/auth/refresh";

/// Starts a server that accepts only the token `fresh`. Its first refresh
/// responds after `delay` with `fresh` and the rotated `refresh-2`, and any
/// later refresh gets 401, as the old refresh token is then used up.
async fn rotating_refresh_server(delay: Duration) -> (MockServer, Client) {
    let server = server_accepting_fresh().await;
    let rotated = ResponseTemplate::new(200)
        .set_body_json(json!({
            "access_token": "fresh",
            "refresh_token": "refresh-2",
            "token_type": "bearer"
        }))
        .set_delay(delay);
    Mock::given(method("POST"))
        .and(path(REFRESH_PATH))
        .respond_with(rotated)
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(REFRESH_PATH))
        .respond_with(status(401))
        .mount(&server)
        .await;
    let client = expired_client(&server);
    (server, client)
}

async fn refresh_requests(server: &MockServer) -> usize {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|request| request.url.path() == REFRESH_PATH)
        .count()
}

/// Returns once the server has received a refresh request.
async fn refresh_arrived(server: &MockServer) {
    while refresh_requests(server).await == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn cancelled_caller_keeps_refreshed_tokens() {
    let (server, client) = rotating_refresh_server(Duration::from_millis(200)).await;
    let quizzes = client.quizzes();
    tokio::select! {
        result = quizzes.get("quiz-1") => panic!("finished before the refresh: {result:?}"),
        () = refresh_arrived(&server) => {}
    }

    let after = client.quizzes().get("quiz-1").await;

    assert!(after.is_ok(), "{after:?}");
    assert_eq!(refresh_requests(&server).await, 1);
}

/// Starts a GET that meets an expired token, runs `change` while the server
/// holds the refresh response back, and returns the GET's result.
async fn call_with_change_during_refresh(
    change: impl FnOnce(&Client),
) -> (MockServer, Client, toolboxai::Result<toolboxai::Quiz>) {
    let (server, client) = rotating_refresh_server(Duration::from_millis(200)).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.quizzes().get("quiz-1").await }
    });
    refresh_arrived(&server).await;

    change(&client);
    let result = call.await.unwrap();
    (server, client, result)
}

fn restore_other_login(client: &Client) {
    client
        .auth()
        .restore_tokens(Tokens::new("other", Some("refresh-other".into())))
        .unwrap();
}

#[tokio::test]
async fn logout_during_refresh_stays_logged_out() {
    let (_server, client, result) =
        call_with_change_during_refresh(|client| client.auth().logout()).await;

    assert!(
        matches!(result, Err(APIError::Authentication(_))),
        "{result:?}"
    );
    assert!(!client.auth().is_logged_in());
}

#[tokio::test]
async fn login_during_refresh_is_kept() {
    let (_server, client, _) = call_with_change_during_refresh(restore_other_login).await;

    let stored = client.auth().tokens().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "other");
}

#[tokio::test]
async fn same_tokens_restored_keep_login() {
    let (_server, client, result) = call_with_change_during_refresh(|client| {
        let saved = client.auth().tokens().unwrap();
        client.auth().restore_tokens(saved).unwrap();
    })
    .await;

    assert!(result.is_ok(), "{result:?}");
    let stored = client.auth().tokens().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "fresh");
}

#[tokio::test]
async fn login_during_refresh_ends_the_call() {
    let (server, _client, result) = call_with_change_during_refresh(restore_other_login).await;

    assert!(
        matches!(result, Err(APIError::Authentication(_))),
        "{result:?}"
    );
    let requests = server.received_requests().await.unwrap();
    let sent_as_other = requests.iter().any(|request| {
        request
            .headers
            .get("authorization")
            .is_some_and(|value| value == "Bearer other")
    });
    assert!(!sent_as_other, "the call was replayed with the other login");
}
