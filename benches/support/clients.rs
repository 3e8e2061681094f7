//! The SDK clients under test and the hand-written baselines they are
//! compared with: reqwest plus serde_json for HTTP, and a tokio-tungstenite
//! read loop for the WebSocket.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use toolboxai::websocket::ServerEvent;
use toolboxai::{
    Client, Quiz, QuizResult, QuizResultEvent, QuizSubmission, Tokens, WebSocketConfig,
};

use super::fixtures::{submission_answers, ACCESS_TOKEN, BEARER, SUBMISSION_TIME_TAKEN};

/// User agent of both clients: the SDK's default.
const USER_AGENT: &str = concat!("toolboxai-rust/", env!("CARGO_PKG_VERSION"));
/// Connect timeout of both clients: the SDK's default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-attempt timeout of both clients: the SDK's default.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed by both clients: the SDK's default.
const MAX_REDIRECTS: usize = 5;

/// Returns the single-threaded runtime that the request and WebSocket
/// benchmarks run their clients on. With the server on one thread of its
/// own, client and server each get one core of a 2-core machine, and a
/// request does not hop between client threads. On a 2-worker client
/// runtime, repeated runs of one benchmark on the 2-core machine of
/// BENCHMARKS.md gave medians up to 50 % apart.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client runtime starts")
}

/// Returns an SDK client with default settings for `base_url` and
/// `ws_url`, holding the benchmark access token.
pub fn sdk_client(base_url: &str, ws_url: &str) -> Client {
    sdk_client_with_websocket(base_url, ws_url, WebSocketConfig::default())
}

/// Returns the client of [`sdk_client`] with `websocket` as its WebSocket
/// settings.
pub fn sdk_client_with_websocket(
    base_url: &str,
    ws_url: &str,
    websocket: WebSocketConfig,
) -> Client {
    let client = Client::builder()
        .base_url(base_url)
        .ws_url(ws_url)
        .websocket_config(websocket)
        .build()
        .expect("the benchmark URLs are valid");
    client
        .auth()
        .restore_tokens(Tokens::new(ACCESS_TOKEN, None))
        .expect("the benchmark token is a valid header value");
    client
}

/// A reqwest client with the settings the SDK gives its own, plus the
/// bearer header, so that the baseline does the same work on the wire.
#[derive(Clone)]
pub struct RawClient {
    http: reqwest::Client,
    bearer: HeaderValue,
    base_url: String,
}

impl RawClient {
    /// Builds the client for `base_url`, such as `http://127.0.0.1:41234`.
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .expect("the reqwest client builds");
        let mut bearer = HeaderValue::from_static(BEARER);
        bearer.set_sensitive(true);
        Self {
            http,
            bearer,
            base_url: base_url.to_owned(),
        }
    }

    /// Fetches `GET /api/quiz/{id}` and decodes it.
    pub async fn get_quiz(&self, id: &str) -> reqwest::Result<Quiz> {
        let url = format!("{}/api/quiz/{id}", self.base_url);
        self.http
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .header(AUTHORIZATION, self.bearer.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Sends `POST /api/quiz/{id}/submit` with the benchmark answers and an
    /// `Idempotency-Key`, as the SDK does, and decodes the result.
    pub async fn submit_quiz(&self, id: &str) -> reqwest::Result<QuizResult> {
        let url = format!("{}/api/quiz/{id}/submit", self.base_url);
        let submission = QuizSubmission {
            answers: submission_answers(),
            time_taken: SUBMISSION_TIME_TAKEN,
        };
        let body = serde_json::to_vec(&submission).expect("a submission serializes");
        let key = uuid::Uuid::new_v4().hyphenated().to_string();
        self.http
            .post(url)
            .timeout(REQUEST_TIMEOUT)
            .header(AUTHORIZATION, self.bearer.clone())
            .header("idempotency-key", key)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// Runs `total` calls of `call`, at most `concurrency` at a time, from
/// `concurrency` spawned tasks that take the next call until `total` have
/// started.
///
/// # Panics
///
/// Panics when a worker task panics, which a failed call does.
pub async fn run_concurrently<F, Fut>(total: usize, concurrency: usize, call: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let started = Arc::clone(&started);
            let call = call.clone();
            tokio::spawn(async move {
                while started.fetch_add(1, Ordering::Relaxed) < total {
                    call().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a benchmark worker panicked");
    }
}

/// Tally of one consumed event stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventTally {
    /// `quiz_result` events received.
    pub quiz_results: u64,
    /// Events the stream skipped because the reader fell behind.
    pub skipped: u64,
}

/// Opens a WebSocket through the SDK on `client`'s WebSocket URL and
/// consumes [`WebSocketClient::events`](toolboxai::WebSocketClient::events)
/// until the server closes the connection.
pub async fn sdk_consume_events(client: &Client) -> EventTally {
    let socket = client.websocket();
    let mut events = socket.events();
    socket.connect().await.expect("the SDK WebSocket connects");
    let mut tally = EventTally::default();
    while let Some(event) = events.next().await {
        match event {
            ServerEvent::QuizResult(result) => {
                std::hint::black_box(result);
                tally.quiz_results += 1;
            }
            ServerEvent::Lagged { skipped } => tally.skipped += skipped,
            other => panic!("unexpected event {other:?}"),
        }
    }
    tally
}

/// The envelope of a `quiz_result` frame, decoded directly into its type.
#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(rename = "type")]
    event_type: String,
    data: QuizResultEvent,
}

/// Opens a WebSocket to `url` with tokio-tungstenite and the benchmark
/// bearer header, and decodes every text frame until the server closes it.
pub async fn raw_consume_events(url: &str) -> EventTally {
    let mut request = url.into_client_request().expect("the URL is valid");
    let mut bearer = HeaderValue::from_static(BEARER);
    bearer.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, bearer);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the raw WebSocket connects");
    let mut tally = EventTally::default();
    while let Some(message) = socket.next().await {
        match message.expect("the raw WebSocket reads") {
            Message::Text(text) => {
                let envelope: RawEnvelope =
                    serde_json::from_str(text.as_str()).expect("the frame is a quiz_result");
                assert_eq!(envelope.event_type, "quiz_result");
                std::hint::black_box(envelope.data);
                tally.quiz_results += 1;
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    tally
}
