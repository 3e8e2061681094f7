//! The WebSocket route `/ws/connect` and the registry of open sockets.
//!
//! A socket authenticates with an `Authorization: Bearer` header or a
//! `token` query parameter (with or without a `Bearer ` prefix) and gets 401
//! without a valid access token. It receives `quiz_result` and
//! `progress_update` events of its own user, `content_update` events when
//! subscribed to `course_updates` or `course:<course_id>`, and whatever the
//! test pushes through the `MockServer` handle.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, watch};

use super::error::ApiError;
use super::handlers::{bearer_token, user_for_token};
use super::state::{lock, MockEvent, Shared};
use crate::models::User;

/// Frame sent by `MockServer::send_malformed_frame`.
pub(crate) const MALFORMED_FRAME: &str = "{this is not JSON";

/// Channel that receives every `content_update`.
const ALL_COURSES_CHANNEL: &str = "course_updates";

/// A request to one open socket from the `MockServer` handle.
#[derive(Debug, Clone)]
enum Command {
    /// Closes the TCP connection without a close frame.
    Drop,
    /// Sends a close frame with this code and ends the socket.
    Close(u16),
    /// Sends this text frame as is.
    Text(String),
}

#[derive(Debug)]
struct Entry {
    user: User,
    commands: mpsc::UnboundedSender<Command>,
}

/// Open sockets, the fault switches that apply to them, and counters that
/// tests wait on.
#[derive(Debug)]
pub(crate) struct SocketHub {
    sockets: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
    silent: watch::Sender<bool>,
    shutdown: watch::Sender<bool>,
    /// Connections accepted since the start.
    accepted: watch::Sender<usize>,
    /// Sockets open now.
    open: watch::Sender<usize>,
    /// Messages received from clients, in arrival order.
    received: Mutex<Vec<Value>>,
    received_count: watch::Sender<usize>,
}

impl Default for SocketHub {
    fn default() -> Self {
        Self {
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            silent: watch::channel(false).0,
            shutdown: watch::channel(false).0,
            accepted: watch::channel(0).0,
            open: watch::channel(0).0,
            received: Mutex::new(Vec::new()),
            received_count: watch::channel(0).0,
        }
    }
}

impl SocketHub {
    /// Sends `command` to every open socket whose user matches `email`
    /// (compared without regard to case), or to every socket for `None`,
    /// and returns how many sockets it reached.
    fn command(&self, email: Option<&str>, command: &Command) -> usize {
        let sockets = lock(&self.sockets);
        sockets
            .values()
            .filter(|entry| email.is_none_or(|email| entry.user.email.eq_ignore_ascii_case(email)))
            .filter(|entry| entry.commands.send(command.clone()).is_ok())
            .count()
    }

    pub(crate) fn drop_all(&self) -> usize {
        self.command(None, &Command::Drop)
    }

    pub(crate) fn close_all(&self, code: u16) -> usize {
        self.command(None, &Command::Close(code))
    }

    pub(crate) fn send_text(&self, email: Option<&str>, text: String) -> usize {
        self.command(email, &Command::Text(text))
    }

    pub(crate) fn set_silent(&self, silent: bool) {
        self.silent.send_replace(silent);
    }

    /// Closes every socket with 1001 and every socket opened later.
    pub(crate) fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) fn open_count(&self) -> usize {
        *self.open.borrow()
    }

    pub(crate) async fn wait_for_open(&self, count: usize) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open == count).await;
    }

    pub(crate) fn accepted_count(&self) -> usize {
        *self.accepted.borrow()
    }

    pub(crate) async fn wait_for_accepted(&self, count: usize) {
        let mut accepted = self.accepted.subscribe();
        // The sender lives as long as the hub, so waiting cannot fail.
        let _ = accepted.wait_for(|accepted| *accepted >= count).await;
    }

    pub(crate) fn received(&self) -> Vec<Value> {
        lock(&self.received).clone()
    }

    pub(crate) async fn wait_for_received(&self, count: usize) {
        let mut received = self.received_count.subscribe();
        let _ = received.wait_for(|received| *received >= count).await;
    }

    fn record(&self, message: Value) {
        let mut received = lock(&self.received);
        received.push(message);
        self.received_count.send_replace(received.len());
    }
}

/// Serializes a server envelope `{type, data, timestamp}`.
pub(crate) fn envelope(event_type: &str, data: Value) -> String {
    json!({
        "type": event_type,
        "data": data,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    })
    .to_string()
}

/// Serializes an event payload for `Shared::publish`.
pub(crate) fn event_data<T: serde::Serialize>(event: &T) -> Value {
    // The payload structs hold only strings, numbers and booleans.
    serde_json::to_value(event).expect("event payloads serialize to JSON")
}

/// Removes a socket from the hub when its task ends, or when the upgrade
/// failed and the task never ran.
struct Registration {
    hub: Arc<SocketHub>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sockets = lock(&self.hub.sockets);
        sockets.remove(&self.id);
        self.hub.open.send_replace(sockets.len());
    }
}

/// `GET /ws/connect`: authenticates and upgrades to a WebSocket.
pub(crate) async fn connect(
    State(shared): State<Arc<Shared>>,
    Extension(hub): Extension<Arc<SocketHub>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let token = bearer_token(&headers).or_else(|| {
        query.get("token").map(|token| {
            let token = token.trim();
            token.strip_prefix("Bearer ").unwrap_or(token).trim()
        })
    });
    let user = match token.map(|token| user_for_token(&shared, token)) {
        Some(Ok(user)) => user,
        Some(Err(error)) => return error.into_response(),
        None => return ApiError::unauthorized("Not authenticated").into_response(),
    };

    // Registered and subscribed before the upgrade response is sent, so an
    // event published right after the client's `connect` returns is kept.
    let events = shared.events.subscribe();
    let (commands, command_receiver) = mpsc::unbounded_channel();
    let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
    {
        let mut sockets = lock(&hub.sockets);
        let entry = Entry {
            user: user.clone(),
            commands,
        };
        sockets.insert(id, entry);
        hub.open.send_replace(sockets.len());
    }
    let registration = Registration {
        hub: Arc::clone(&hub),
        id,
    };
    hub.accepted.send_modify(|accepted| *accepted += 1);
    tracing::info!(user_id = %user.id, socket = id, "mock WebSocket accepted");
    upgrade.on_upgrade(move |socket| {
        let session = SocketSession {
            shared,
            registration,
            user,
            subscriptions: BTreeSet::new(),
        };
        session.serve(socket, command_receiver, events)
    })
}

struct SocketSession {
    shared: Arc<Shared>,
    registration: Registration,
    user: User,
    subscriptions: BTreeSet<String>,
}

impl SocketSession {
    async fn serve(
        mut self,
        mut socket: WebSocket,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: broadcast::Receiver<MockEvent>,
    ) {
        let hub = Arc::clone(&self.registration.hub);
        let mut silent = hub.silent.subscribe();
        let mut shutdown = hub.shutdown.subscribe();
        loop {
            // While silent the socket neither reads (so pings go unanswered)
            // nor writes.
            let quiet = *silent.borrow_and_update();
            tokio::select! {
                biased;
                () = async {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                } => {
                    close(&mut socket, 1001, "server shutting down").await;
                    break;
                }
                command = commands.recv() => match command {
                    Some(Command::Drop) | None => break,
                    Some(Command::Close(code)) => {
                        close(&mut socket, code, "closed by the mock server").await;
                        break;
                    }
                    Some(Command::Text(text)) if !quiet => {
                        if socket.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Text(_)) => {}
                },
                _ = silent.changed() => {}
                message = socket.recv(), if !quiet => match message {
                    Some(Ok(Message::Text(text))) => {
                        let reply = self.handle_message(text.as_str());
                        if socket.send(Message::text(reply)).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                event = events.recv(), if !quiet => match event {
                    Ok(event) => {
                        if let Some(text) = self.route(&event) {
                            if socket.send(Message::text(text)).await.is_err() {
                                break;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "mock WebSocket skipped events");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        tracing::info!(user_id = %self.user.id, socket = self.registration.id, "mock WebSocket ended");
    }

    /// Returns the frame to send for a published event, or `None` when the
    /// event is not for this socket.
    fn route(&self, event: &MockEvent) -> Option<String> {
        let deliver = match event.event_type.as_str() {
            "content_update" => {
                self.subscriptions.contains(ALL_COURSES_CHANNEL)
                    || self.content_course(&event.data).is_some_and(|course_id| {
                        self.subscriptions.contains(&format!("course:{course_id}"))
                    })
            }
            _ => event.user_id == self.user.id,
        };
        deliver.then(|| envelope(&event.event_type, event.data.clone()))
    }

    /// Returns the course of the content named in a `content_update`.
    fn content_course(&self, data: &Value) -> Option<String> {
        let content_id = data.get("content_id")?.as_str()?;
        let store = lock(&self.shared.store);
        let content = store
            .contents
            .iter()
            .find(|content| content.id == content_id)?;
        content.course_id.clone()
    }

    /// Handles a client message and returns the reply frame.
    fn handle_message(&mut self, text: &str) -> String {
        let message: Value = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(error) => {
                return envelope(
                    "error",
                    json!({ "message": format!("message is not JSON: {error}") }),
                );
            }
        };
        self.registration.hub.record(message.clone());
        let message_type = message.get("type").and_then(Value::as_str).unwrap_or("");
        let data = message.get("data").unwrap_or(&Value::Null);
        match message_type {
            "subscribe" | "unsubscribe" => {
                let Some(channels) = channels(data) else {
                    let text = "subscribe and unsubscribe need data.channel or data.channels";
                    return envelope("error", json!({ "message": text }));
                };
                if message_type == "subscribe" {
                    self.subscriptions.extend(channels.iter().cloned());
                    envelope("subscribed", json!({ "channels": channels }))
                } else {
                    for channel in &channels {
                        self.subscriptions.remove(channel);
                    }
                    envelope("unsubscribed", json!({ "channels": channels }))
                }
            }
            "ping" => envelope("pong", json!({})),
            other => envelope(
                "error",
                json!({ "message": format!("unknown message type {other:?}") }),
            ),
        }
    }
}

/// Returns the channels of `{"channel": "x"}` or `{"channels": ["a", "b"]}`.
fn channels(data: &Value) -> Option<Vec<String>> {
    if let Some(channel) = data.get("channel").and_then(Value::as_str) {
        return Some(vec![channel.to_owned()]);
    }
    let list = data.get("channels")?.as_array()?;
    let channels: Vec<String> = list
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    (!channels.is_empty() && channels.len() == list.len()).then_some(channels)
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    // The client may already be gone, which is fine for a close.
    let _ = socket.send(Message::Close(Some(frame))).await;
}
