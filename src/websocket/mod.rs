//! The real-time WebSocket channel: typed server events, subscriptions,
//! heartbeat and automatic reconnect.
//!
//! ```no_run
//! # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
//! use toolboxai::websocket::ServerEvent;
//!
//! let socket = client.websocket();
//! socket.on("notification", |event| println!("{event:?}"));
//! let mut events = socket.events();
//! socket.connect().await?;
//! socket.subscribe(["course_updates"])?;
//! while let Some(event) = events.next().await {
//!     if let ServerEvent::QuizResult(result) = event {
//!         println!("scored {}/{}", result.score, result.total);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod config;
mod connection;
mod driver;
mod event;
mod frame;
mod reconnect;
mod state;
mod writer;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::error::{APIError, ErrorDetails, Result};

pub use config::{ReconnectPolicy, WebSocketConfig};
pub use event::{EventStream, ServerEvent};
use state::ConnectAttempt;
pub use state::{ConnectionState, DisconnectReason};

type Handler = Arc<dyn Fn(ServerEvent) + Send + Sync>;

/// A WebSocket connection to the server's event channel, from
/// [`Client::websocket`].
///
/// Cheap to clone: clones share one connection. The connection closes when
/// [`WebSocketClient::disconnect`] is called or the last clone is dropped. A
/// handler registered with [`WebSocketClient::on`] that owns a clone keeps
/// the connection open until `disconnect` is called. Each call of
/// [`Client::websocket`] returns a client with a connection of its own.
#[derive(Clone)]
pub struct WebSocketClient {
    handle: Arc<Handle>,
}

/// Owned by the clones of one `WebSocketClient`, so that dropping the last
/// clone stops the connection task, which holds only `Shared`.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Dropping the session drops its shutdown sender, which stops the task.
        lock(&self.shared.session).take();
    }
}

/// State shared by the client handles and the connection task.
pub(crate) struct Shared {
    client: Client,
    config: WebSocketConfig,
    state: watch::Sender<ConnectionState>,
    /// Number of connection runs that ended. Event streams end when it grows.
    runs_ended: watch::Sender<u64>,
    events: broadcast::Sender<ServerEvent>,
    handlers: Mutex<HashMap<String, Handler>>,
    subscriptions: Mutex<BTreeSet<String>>,
    session: Mutex<Option<Session>>,
    /// Serializes `connect` and `disconnect` calls.
    lifecycle: tokio::sync::Mutex<()>,
    /// Wakes a `connect` that is still opening when `disconnect` is called.
    cancel_connect: tokio::sync::Notify,
    malformed_frames: AtomicU64,
}

/// The running connection task of one run and the ways to reach it.
struct Session {
    outgoing: mpsc::Sender<String>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl fmt::Debug for WebSocketClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketClient")
            .field("url", &self.handle.shared.client.ws_url().as_str())
            .field("state", &*self.handle.shared.state.borrow())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn websocket_error(message: impl Into<String>) -> APIError {
    APIError::WebSocket(Box::new(ErrorDetails::new(message)))
}

fn run_ended() -> APIError {
    websocket_error("WebSocket connection has ended: call connect() to open a new one")
}

impl WebSocketClient {
    pub(crate) fn new(client: Client, config: WebSocketConfig) -> Self {
        let (state, _) = watch::channel(ConnectionState::Disconnected {
            reason: DisconnectReason::NotConnected,
        });
        let (events, _) = broadcast::channel(config.event_capacity);
        let shared = Shared {
            client,
            config,
            state,
            runs_ended: watch::channel(0).0,
            events,
            handlers: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(BTreeSet::new()),
            session: Mutex::new(None),
            lifecycle: tokio::sync::Mutex::new(()),
            cancel_connect: tokio::sync::Notify::new(),
            malformed_frames: AtomicU64::new(0),
        };
        Self {
            handle: Arc::new(Handle {
                shared: Arc::new(shared),
            }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Opens the connection to the client's WebSocket URL and returns once
    /// it is open. The access token of [`AuthManager::tokens`](crate::AuthManager::tokens)
    /// goes in an `Authorization: Bearer` header, or in a `token` query
    /// parameter when [`WebSocketConfig::token_in_query`] is set. A token
    /// known to be expired is refreshed first, and a 401 on the upgrade is
    /// followed by one refresh and one more try. Channels subscribed before
    /// are subscribed again.
    ///
    /// Returns at once when a connection run is already active. A failed
    /// `connect` is not retried; reconnects only follow a connection that
    /// was open. Dropping the future before it completes, for example
    /// through a timeout, sets the state back to what it was before and ends
    /// the event streams, as a failed `connect` does.
    ///
    /// # Errors
    ///
    /// [`APIError::Authentication`] when not logged in, when the server
    /// rejects the token refresh or when it still rejects the token;
    /// [`APIError::Network`], [`APIError::Timeout`] or
    /// [`APIError::WebSocket`] when the server cannot be reached or rejects
    /// the upgrade with another status. A refresh that fails in a way worth
    /// retrying, such as a network error, returns that error.
    pub async fn connect(&self) -> Result<()> {
        let shared = self.shared();
        let _lifecycle = shared.lifecycle.lock().await;
        if lock(&shared.session)
            .as_ref()
            .is_some_and(|session| !session.task.is_finished())
        {
            return Ok(());
        }

        let attempt = ConnectAttempt::start(shared);
        let mut refreshed = false;
        let opened = tokio::select! {
            opened = connection::open_authenticated(shared, &mut refreshed) => opened,
            () = shared.cancel_connect.notified() => {
                attempt.cancel();
                return Err(APIError::WebSocket(Box::new(ErrorDetails::new(
                    "connect was cancelled by disconnect()",
                ))));
            }
        };
        let socket = match opened {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(%error, "WebSocket connect failed");
                attempt.fail(error.clone());
                return Err(error);
            }
        };

        // Nothing below awaits, so a dropped `connect` future cannot leave a
        // half-started run. The saved subscriptions are read here, before
        // `connect` returns, so that a later `subscribe` is not sent twice.
        let subscribe = driver::subscriptions_frame(shared);
        let (outgoing, outgoing_receiver) = mpsc::channel(shared.config.outgoing_queue_capacity);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        attempt.succeed();
        let task = tokio::spawn(driver::run(
            Arc::clone(shared),
            socket,
            subscribe,
            outgoing_receiver,
            shutdown_receiver,
            driver::UnexpectedEnd::arm(Arc::clone(shared)),
        ));
        *lock(&shared.session) = Some(Session {
            outgoing,
            shutdown,
            task,
        });
        Ok(())
    }

    /// Closes the connection with code 1000 and waits until its task has
    /// ended. The client does not reconnect, clears its subscriptions, and
    /// rejects [`WebSocketClient::send`] until the next `connect`. A
    /// `connect` still opening is aborted and returns an error. Does nothing
    /// when no connection run is active.
    pub async fn disconnect(&self) {
        let shared = self.shared();
        // A `connect` still opening holds the lifecycle lock, so it is
        // woken first instead of being waited for.
        shared.cancel_connect.notify_waiters();
        let _lifecycle = shared.lifecycle.lock().await;
        lock(&shared.subscriptions).clear();
        let Some(session) = lock(&shared.session).take() else {
            return;
        };
        session.shutdown.send_replace(true);
        if let Err(error) = session.task.await {
            tracing::error!(%error, "WebSocket task failed");
        }
    }

    /// Returns the current connection state.
    pub fn state(&self) -> ConnectionState {
        self.shared().state.borrow().clone()
    }

    /// Returns a receiver that observes every change of the connection
    /// state.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.shared().state.subscribe()
    }

    /// Queues a message `{"type": message_type, "data": data, "timestamp":
    /// now}` for sending, and returns without waiting for the write. While
    /// the client reconnects, messages wait in the queue and are sent in
    /// order once the connection is open again.
    ///
    /// # Errors
    ///
    /// [`APIError::WebSocket`] before the first `connect`, after
    /// `disconnect`, once the state is [`ConnectionState::Disconnected`], or
    /// when the outgoing queue contains
    /// [`WebSocketConfig::outgoing_queue_capacity`] messages;
    /// [`APIError::InvalidInput`] when `data` does not serialize to JSON.
    pub fn send<T: Serialize>(&self, message_type: &str, data: T) -> Result<()> {
        let text = event::envelope(message_type, data).map_err(|error| {
            APIError::InvalidInput(format!(
                "WebSocket message {message_type:?} does not serialize to JSON: {error}"
            ))
        })?;
        let session = lock(&self.shared().session);
        let Some(session) = session.as_ref() else {
            return Err(websocket_error(
                "WebSocket is not connected: call connect() first",
            ));
        };
        if self.shared().state.borrow().is_disconnected() {
            return Err(run_ended());
        }
        session.outgoing.try_send(text).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => websocket_error(format!(
                "WebSocket outgoing queue is full ({} messages); wait for the connection to catch up",
                self.shared().config.outgoing_queue_capacity
            )),
            mpsc::error::TrySendError::Closed(_) => run_ended(),
        })
    }

    /// Subscribes to `channels`, such as `course_updates` or
    /// `course:course-123`, by queuing `{"type": "subscribe", "data":
    /// {"channels": [...]}}`. The server acknowledges with
    /// [`ServerEvent::Subscribed`]. The channels are sent again after every
    /// reconnect, so a subscription made while reconnecting may be
    /// acknowledged twice.
    ///
    /// # Errors
    ///
    /// The errors of [`WebSocketClient::send`].
    pub fn subscribe<I, S>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        self.send("subscribe", json!({ "channels": channels }))?;
        lock(&self.shared().subscriptions).extend(channels);
        Ok(())
    }

    /// Unsubscribes from `channels` by queuing `{"type": "unsubscribe",
    /// "data": {"channels": [...]}}`, and stops sending them after a
    /// reconnect.
    ///
    /// # Errors
    ///
    /// The errors of [`WebSocketClient::send`]. The channels are removed
    /// locally even then.
    pub fn unsubscribe<I, S>(&self, channels: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        {
            let mut subscriptions = lock(&self.shared().subscriptions);
            for channel in &channels {
                subscriptions.remove(channel);
            }
        }
        self.send("unsubscribe", json!({ "channels": channels }))
    }

    /// Returns the channels subscribed to, in sorted order.
    pub fn subscriptions(&self) -> Vec<String> {
        self.shared().subscription_list()
    }

    /// Registers `handler` for events whose [`ServerEvent::event_type`] is
    /// `event_type`, replacing an earlier handler of that type.
    ///
    /// Handlers run on the connection's task, so a handler that blocks
    /// delays reading and heartbeats; hand slow work to a task of its own. A
    /// handler that panics is logged and the connection continues. A handler
    /// that owns a clone of this client keeps the connection open after the
    /// other clones are dropped, until [`WebSocketClient::disconnect`].
    pub fn on<F>(&self, event_type: &str, handler: F)
    where
        F: Fn(ServerEvent) + Send + Sync + 'static,
    {
        lock(&self.shared().handlers).insert(event_type.to_owned(), Arc::new(handler));
    }

    /// Removes the handler of `event_type`, returning whether one was
    /// registered.
    pub fn off(&self, event_type: &str) -> bool {
        lock(&self.shared().handlers).remove(event_type).is_some()
    }

    /// Returns a stream of the events of the current connection run, or of
    /// the next one when none is active. Create it before `connect` to see
    /// every event. See [`EventStream`] for when it ends and how it bounds
    /// memory.
    pub fn events(&self) -> EventStream {
        let shared = self.shared();
        EventStream::new(shared.events.subscribe(), shared.runs_ended.subscribe())
    }

    /// Returns how many received frames were ignored because they were not
    /// JSON objects with a string `type`.
    pub fn malformed_frames(&self) -> u64 {
        self.shared().malformed_frames.load(Ordering::Relaxed)
    }
}

impl Shared {
    fn subscription_list(&self) -> Vec<String> {
        lock(&self.subscriptions).iter().cloned().collect()
    }

    fn call_handler(&self, event: &ServerEvent) {
        let handler = lock(&self.handlers).get(event.event_type()).cloned();
        let Some(handler) = handler else {
            return;
        };
        let event_type = event.event_type().to_owned();
        let event = event.clone();
        if std::panic::catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
            tracing::error!(%event_type, "WebSocket event handler panicked");
        }
    }
}
