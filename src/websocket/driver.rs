//! The task that owns one connection run: reading, writing, heartbeat and
//! reconnecting.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::connection::{open_authenticated, Socket};
use super::event::envelope;
use super::{ConnectionState, DisconnectReason, ServerEvent, Shared};
use crate::error::{APIError, ErrorDetails};

/// How long `disconnect` waits for the close frame to be written.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The cause that ended serving one connection.
enum End {
    /// `disconnect` was called or every client handle was dropped.
    Shutdown,
    /// The server sent a close frame.
    Closed { code: u16, reason: String },
    /// The connection broke or the heartbeat timed out.
    Lost(APIError),
}

/// The client's response to a server close code.
enum CloseAction {
    Stop,
    Reconnect,
    Reauthenticate,
}

// NOTE: close-code policy. 1001 (going away), 1006 (abnormal), 1011
// (server error), 1012 (service restart) and 1013 (try again later) are
// reconnected. 1008 (policy violation) and 4001 (the backend's
// authentication failure) refresh the token once and reconnect, and stop
// with an authentication error when that fails. Every other code, 1000
// included, ends the run, because reconnecting cannot change the server's
// decision.
fn close_action(code: u16) -> CloseAction {
    match code {
        1001 | 1006 | 1011 | 1012 | 1013 => CloseAction::Reconnect,
        1008 | 4001 => CloseAction::Reauthenticate,
        _ => CloseAction::Stop,
    }
}

/// Runs one connection run until it ends, then reports the end through the
/// state and ends the event streams of the run.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut socket: Socket,
    mut outgoing: mpsc::Receiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pending = None;
    let reason = loop {
        let end = serve(
            &shared,
            &mut socket,
            &mut outgoing,
            &mut pending,
            &mut shutdown,
        )
        .await;
        let (force_refresh, cause) = match end {
            End::Shutdown => {
                close(socket).await;
                break DisconnectReason::Requested;
            }
            End::Closed { code, reason } => {
                tracing::info!(code, %reason, "WebSocket closed by the server");
                let cause = websocket_error(format!(
                    "server closed the connection with code {code} {reason}"
                ));
                match close_action(code) {
                    CloseAction::Stop => break DisconnectReason::ServerClosed { code, reason },
                    CloseAction::Reconnect => (false, cause),
                    CloseAction::Reauthenticate => (true, cause),
                }
            }
            End::Lost(error) => {
                tracing::warn!(%error, "WebSocket connection lost");
                (false, error)
            }
        };
        match reconnect(&shared, force_refresh, cause, &mut shutdown).await {
            Ok(reopened) => socket = reopened,
            Err(reason) => break reason,
        }
        // Subscriptions go before queued messages, so those meet them in place.
        if let Err(error) = send_subscriptions(&shared, &mut socket).await {
            tracing::warn!(%error, "resubscribing failed");
        }
    };
    tracing::info!(%reason, "WebSocket run ended");
    shared
        .state
        .send_replace(ConnectionState::Disconnected { reason });
    shared.runs_ended.send_modify(|ended| *ended += 1);
}

/// Serves one open connection until it ends.
async fn serve(
    shared: &Shared,
    socket: &mut Socket,
    outgoing: &mut mpsc::Receiver<String>,
    pending: &mut Option<String>,
    shutdown: &mut watch::Receiver<bool>,
) -> End {
    // The message whose write failed on the previous connection goes first.
    if let Some(text) = pending.take() {
        if let Err(error) = socket.send(Message::text(text.clone())).await {
            *pending = Some(text);
            return End::Lost(network_error("sending a queued message failed", error));
        }
    }

    let interval = shared.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + interval, interval);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            () = shutdown_requested(shutdown) => return End::Shutdown,
            frame = socket.next() => {
                deadline = None;
                match frame {
                    Some(Ok(Message::Text(text))) => shared.dispatch(text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                        Ok(text) => shared.dispatch(text),
                        Err(_) => shared.count_malformed("binary frame is not UTF-8"),
                    },
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|frame| (u16::from(frame.code), frame.reason.to_string()))
                            .unwrap_or((1005, String::new()));
                        return End::Closed { code, reason };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        return End::Lost(network_error("reading from the WebSocket failed", error));
                    }
                    None => {
                        return End::Lost(websocket_error(
                            "connection ended without a close frame (1006)".to_owned(),
                        ));
                    }
                }
            }
            _ = heartbeat.tick() => {
                if let Err(error) = socket.send(Message::Ping(Default::default())).await {
                    return End::Lost(network_error("sending a ping failed", error));
                }
                deadline.get_or_insert(Instant::now() + shared.config.heartbeat_timeout);
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                let timeout = shared.config.heartbeat_timeout.as_millis();
                return End::Lost(websocket_error(format!(
                    "no frame arrived within {timeout} ms after a ping"
                )));
            }
            message = outgoing.recv() => {
                let Some(text) = message else {
                    return End::Shutdown;
                };
                if let Err(error) = socket.send(Message::text(text.clone())).await {
                    *pending = Some(text);
                    return End::Lost(network_error("sending a message failed", error));
                }
            }
        }
    }
}

/// Reopens the connection with backoff.
///
/// # Errors
///
/// Returns the reason the run ends: a shutdown, an authentication failure,
/// or every allowed attempt failing.
async fn reconnect(
    shared: &Arc<Shared>,
    mut force_refresh: bool,
    cause: APIError,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Socket, DisconnectReason> {
    let policy = &shared.config.reconnect;
    let mut delays = policy.delays();
    let mut last_error = cause;
    let mut attempt = 0;
    loop {
        if policy.max_attempts.is_some_and(|max| attempt >= max) {
            return Err(DisconnectReason::AttemptsExhausted {
                attempts: attempt,
                last_error,
            });
        }
        attempt += 1;
        shared
            .state
            .send_replace(ConnectionState::Reconnecting { attempt });
        let delay = delays.next_delay();
        tracing::info!(
            attempt,
            delay_ms = delay.as_millis(),
            "reconnecting the WebSocket"
        );
        let opened = tokio::select! {
            () = shutdown_requested(shutdown) => return Err(DisconnectReason::Requested),
            opened = async {
                tokio::time::sleep(delay).await;
                open_authenticated(shared, force_refresh).await
            } => opened,
        };
        match opened {
            Ok(socket) => {
                shared.state.send_replace(ConnectionState::Connected);
                return Ok(socket);
            }
            Err(error @ APIError::Authentication(_)) => {
                tracing::warn!(attempt, %error, "WebSocket authentication failed, not reconnecting");
                return Err(DisconnectReason::Failed(error));
            }
            Err(error) => {
                tracing::warn!(attempt, %error, "WebSocket reconnect attempt failed");
                last_error = error;
                // The refresh, when one was needed, happened in this attempt.
                force_refresh = false;
            }
        }
    }
}

/// Sends one `subscribe` message with every channel subscribed to, when
/// there is any. A failed write shows up again on the next read, which
/// starts a reconnect.
pub(super) async fn send_subscriptions(
    shared: &Shared,
    socket: &mut Socket,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let channels = shared.subscription_list();
    if channels.is_empty() {
        return Ok(());
    }
    let message = envelope("subscribe", json!({ "channels": channels }))
        .expect("a list of strings serializes");
    socket.send(Message::text(message)).await
}

/// Resolves once a shutdown is requested or the session was dropped.
async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender, held by the session, was dropped.
    let _ = shutdown.wait_for(|requested| *requested).await;
}

/// Sends a normal close frame, waiting at most `CLOSE_TIMEOUT`.
async fn close(mut socket: Socket) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "client disconnected".into(),
    };
    match tokio::time::timeout(CLOSE_TIMEOUT, socket.close(Some(frame))).await {
        Ok(Ok(())) => tracing::debug!("WebSocket close frame sent"),
        Ok(Err(error)) => tracing::debug!(%error, "WebSocket close failed"),
        Err(_) => tracing::debug!("WebSocket close timed out"),
    }
}

fn websocket_error(message: String) -> APIError {
    APIError::WebSocket(Box::new(ErrorDetails::new(message)))
}

fn network_error(context: &str, error: tokio_tungstenite::tungstenite::Error) -> APIError {
    APIError::Network {
        details: Box::new(ErrorDetails::new(format!("{context}: {error}"))),
        source: Some(Arc::new(error)),
    }
}

impl Shared {
    /// Decodes a text frame and hands the event to its handler and to every
    /// event stream. A frame that is not an event is counted and logged.
    pub(super) fn dispatch(&self, text: &str) {
        match ServerEvent::from_frame(text) {
            Ok(event) => {
                tracing::debug!(event_type = event.event_type(), "WebSocket event received");
                self.call_handler(&event);
                // An error only means that no stream is listening.
                let _ = self.events.send(event);
            }
            Err(error) => self.count_malformed(&error),
        }
    }

    fn count_malformed(&self, error: &str) {
        let count = self.malformed_frames.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(%error, malformed_frames = count, "ignoring a WebSocket frame that is not an event");
    }
}
