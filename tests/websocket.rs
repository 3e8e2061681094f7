//! The WebSocket client against the embedded mock: authentication, typed
//! events, subscriptions, heartbeat, reconnect and bounded buffers.

mod common;

// Reconnect, heartbeat and buffer tests live in `tests/websocket/`. The path
// is explicit because modules of a test crate root otherwise resolve to
// `tests/*.rs`, which are separate test crates.
#[path = "websocket/reconnect.rs"]
mod reconnect;

// Peers the mock cannot imitate, served by a raw tokio-tungstenite server.
#[path = "websocket/raw.rs"]
mod raw;

use std::future::Future;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use toolboxai::mock::{Fault, MockServer};
use toolboxai::websocket::{
    ConnectionState, DisconnectReason, EventStream, ReconnectPolicy, ServerEvent, WebSocketClient,
    WebSocketConfig,
};
use toolboxai::{APIError, Answer, Client, ContentRequest, NewQuestion, NewQuiz, QuestionType};

/// Upper bound of every wait. A passing test waits on signals, not on this.
const WAIT: Duration = Duration::from_secs(5);

/// Settings with reconnect delays of 10 to 50 ms and a heartbeat too slow to
/// fire during a test.
fn fast_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .heartbeat_interval(Duration::from_secs(30))
        .reconnect(
            ReconnectPolicy::default()
                .initial_delay(Duration::from_millis(10))
                .max_delay(Duration::from_millis(50)),
        )
}

/// Starts a mock and a client logged in as the demo student with `config`.
async fn student_with(config: WebSocketConfig) -> (MockServer, Client) {
    let server = MockServer::start().await.expect("mock server starts");
    let client = Client::builder()
        .base_url(server.url())
        .ws_url(server.ws_url())
        .websocket_config(config)
        .build()
        .expect("client builds");
    common::login(&client, common::STUDENT).await;
    (server, client)
}

/// Starts a mock and a connected student socket with its event stream.
async fn connected_student(
    config: WebSocketConfig,
) -> (MockServer, Client, WebSocketClient, EventStream) {
    let (server, client) = student_with(config).await;
    let socket = client.websocket();
    let events = socket.events();
    socket.connect().await.expect("socket connects");
    (server, client, socket, events)
}

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn next_event(events: &mut EventStream) -> ServerEvent {
    within("an event", events.next())
        .await
        .expect("event stream is still open")
}

/// Waits until the socket's state satisfies `predicate` and returns it.
async fn wait_state(
    socket: &WebSocketClient,
    what: &str,
    predicate: impl Fn(&ConnectionState) -> bool,
) -> ConnectionState {
    let mut states = socket.watch_state();
    let changed = within(what, states.wait_for(|state| predicate(state))).await;
    changed
        .map(|state| state.clone())
        .expect("state sender is alive")
}

async fn subscribe_and_wait(socket: &WebSocketClient, events: &mut EventStream, channel: &str) {
    socket.subscribe([channel]).expect("subscribe is queued");
    let event = next_event(events).await;
    let expected = ServerEvent::Subscribed {
        channels: vec![channel.to_owned()],
    };
    assert_eq!(event, expected);
}

/// Creates a one-point quiz as the demo teacher and returns its id.
async fn create_quiz(server: &MockServer) -> String {
    let teacher = Client::new(&server.url()).expect("client builds");
    common::login(&teacher, common::TEACHER).await;
    let question =
        NewQuestion::new(QuestionType::MultipleChoice, "2 + 2?", "4", 1).options(["3", "4"]);
    let quiz = NewQuiz::new("Sums", "Mathematics", vec![question]);
    teacher
        .quizzes()
        .create(&quiz)
        .await
        .expect("quiz is created")
        .id
}

#[tokio::test]
async fn connect_sends_bearer_header_not_query() {
    let (server, client, _socket, _events) = connected_student(fast_config()).await;
    let requests = server.requests();
    let upgrade = requests
        .iter()
        .find(|request| request.path == "/ws/connect")
        .expect("upgrade request recorded");
    let tokens = client.auth().tokens().expect("logged in");
    let expected = format!(
        "Bearer {}",
        secrecy::ExposeSecret::expose_secret(&tokens.access_token)
    );
    assert_eq!(upgrade.header("authorization"), Some(expected.as_str()));
    assert_eq!(upgrade.query, None);
}

#[tokio::test]
async fn query_token_is_opt_in() {
    let (server, _client, _socket, _events) =
        connected_student(fast_config().token_in_query(true)).await;
    let requests = server.requests();
    let upgrade = requests
        .iter()
        .find(|request| request.path == "/ws/connect")
        .expect("upgrade request recorded");
    let query = upgrade.query.as_deref().unwrap_or_default();
    assert!(query.starts_with("token="), "{query}");
    assert_eq!(upgrade.header("authorization"), None);
}

#[tokio::test]
async fn connect_without_login_fails() {
    let (_server, client) = common::start().await;
    let socket = client.websocket();
    let error = socket.connect().await.expect_err("connect needs a login");
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    assert!(error.message().contains("not logged in"), "{error}");
    assert!(socket.state().is_disconnected());
}

#[tokio::test]
async fn upgrade_401_refreshes_and_connects() {
    let (server, client) = student_with(fast_config()).await;
    server.expire_access_tokens();
    let socket = client.websocket();
    socket.connect().await.expect("connects after a refresh");
    assert_eq!(server.refresh_count(), 1);
    assert!(socket.state().is_connected());
}

#[tokio::test]
async fn send_before_connect_fails() {
    let (_server, client) = student_with(fast_config()).await;
    let error = client
        .websocket()
        .send("ping", json!({}))
        .expect_err("not connected");
    assert!(matches!(error, APIError::WebSocket(_)), "{error:?}");
}

#[tokio::test]
async fn subscribe_acknowledged() {
    let (_server, _client, socket, mut events) = connected_student(fast_config()).await;
    subscribe_and_wait(&socket, &mut events, "course_updates").await;
    assert_eq!(socket.subscriptions(), vec!["course_updates".to_owned()]);
}

#[tokio::test]
async fn largest_settings_keep_socket_working() {
    let config = fast_config()
        .heartbeat_interval(Duration::MAX)
        .heartbeat_timeout(Duration::MAX)
        .event_capacity(usize::MAX)
        .outgoing_queue_capacity(usize::MAX);
    let (_server, _client, socket, mut events) = connected_student(config).await;
    subscribe_and_wait(&socket, &mut events, "course_updates").await;
}

#[tokio::test]
async fn single_channel_subscribe_acknowledged() {
    let (_server, _client, socket, mut events) = connected_student(fast_config()).await;
    socket
        .send("subscribe", json!({"channel": "quiz_results"}))
        .expect("message is queued");
    let expected = ServerEvent::Subscribed {
        channels: vec!["quiz_results".to_owned()],
    };
    assert_eq!(next_event(&mut events).await, expected);
}

#[tokio::test]
async fn submission_pushes_quiz_result_and_progress() {
    let (server, client, _socket, mut events) = connected_student(fast_config()).await;
    let quiz_id = create_quiz(&server).await;
    client
        .quizzes()
        .submit(&quiz_id, vec![Answer::new("q1", "4")], 30)
        .await
        .expect("submission is scored");

    let ServerEvent::QuizResult(result) = next_event(&mut events).await else {
        panic!("expected quiz_result first");
    };
    assert_eq!(result.quiz_id, quiz_id);
    assert_eq!(result.score, 1);
    assert_eq!(result.total, 1);
    assert!(result.passed);
    let ServerEvent::ProgressUpdate(progress) = next_event(&mut events).await else {
        panic!("expected progress_update second");
    };
    assert_eq!(progress.course_id, "course-123");
}

#[tokio::test]
async fn content_generation_reaches_course_subscribers() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    subscribe_and_wait(&socket, &mut events, "course:course-123").await;
    let teacher = Client::new(&server.url()).expect("client builds");
    common::login(&teacher, common::TEACHER).await;
    let content = teacher
        .content()
        .generate(&ContentRequest::lesson("Science", 7))
        .await
        .expect("content is generated");

    let event = next_event(&mut events).await;
    let ServerEvent::ContentUpdate(update) = event else {
        panic!("expected content_update, got {event:?}");
    };
    assert_eq!(update.content_id, content.id);
    assert_eq!(update.title, content.title);
}

#[tokio::test]
async fn unknown_event_type_arrives_as_unknown() {
    let (server, _client, _socket, mut events) = connected_student(fast_config()).await;
    let data = json!({"rank": 3});
    server.push_event(Some(common::STUDENT.0), "leaderboard_update", data.clone());
    let expected = ServerEvent::Unknown {
        event_type: "leaderboard_update".to_owned(),
        data,
    };
    assert_eq!(next_event(&mut events).await, expected);
}

#[tokio::test]
async fn malformed_frame_keeps_connection() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    assert_eq!(server.send_malformed_frame(), 1);
    server.notify(None, "still here");

    let ServerEvent::Notification(notification) = next_event(&mut events).await else {
        panic!("expected the notification");
    };
    assert_eq!(notification.message, "still here");
    assert_eq!(socket.malformed_frames(), 1);
    assert!(socket.state().is_connected());
    assert_eq!(server.socket_connections(), 1);
}

#[tokio::test]
async fn oversized_message_reconnects_without_buffering() {
    let config = fast_config().max_message_bytes(1024);
    let (server, _client, _socket, mut events) = connected_student(config).await;
    server.push_event(
        Some(common::STUDENT.0),
        "notification",
        json!({"message": "x".repeat(4096)}),
    );
    within("a reconnect", server.wait_for_socket_connections(2)).await;
    server.push_event(
        Some(common::STUDENT.0),
        "notification",
        json!({"message": "small"}),
    );
    let event = next_event(&mut events).await;
    assert_eq!(event.event_type(), "notification", "{event:?}");
}

#[test]
fn dropped_runtime_ends_the_run() {
    let main = tokio::runtime::Runtime::new().expect("runtime starts");
    let (_server, client) = main.block_on(student_with(fast_config()));
    let socket = client.websocket();
    let short_lived = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime starts");

    // The connection task is spawned but never polled before the runtime goes.
    short_lived
        .block_on(socket.connect())
        .expect("socket connects");
    drop(short_lived);

    let state = socket.state();
    assert!(
        matches!(state, ConnectionState::Disconnected { .. }),
        "{state:?}"
    );
}
