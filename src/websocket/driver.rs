//! The task that owns one connection run: reading, writing and heartbeat,
//! and reconnecting through `reconnect`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::connection::Socket;
use super::event::envelope;
use super::reconnect::{close_action, reconnect, Attempts, CloseAction};
use super::writer::{SocketSink, Writer};
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
    /// The connection broke, the heartbeat timed out or a write stalled.
    Lost(APIError),
}

/// Runs one connection run until it ends, then reports the end through the
/// state and ends the event streams of the run. `subscribe` is the first
/// frame to write on `socket`, from [`subscriptions_frame`] at the time the
/// socket opened. `unexpected_end` is armed before the task is spawned, so
/// that it also reports a task dropped before its first poll.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut socket: Socket,
    mut subscribe: Option<Message>,
    mut outgoing: mpsc::Receiver<String>,
    mut shutdown: watch::Receiver<bool>,
    unexpected_end: UnexpectedEnd,
) {
    let mut pending = None;
    let mut attempts = Attempts::new(&shared.config.reconnect);
    let reason = loop {
        let opened_at = Instant::now();
        let mut received_frame = false;
        let end = serve(
            &shared,
            socket,
            subscribe.take(),
            &mut outgoing,
            &mut pending,
            &mut shutdown,
            &mut received_frame,
        )
        .await;
        let (force_refresh, cause) = match end {
            End::Shutdown => break DisconnectReason::Requested,
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
        attempts.record_connection(opened_at, received_frame, shared.config.heartbeat_interval);
        match reconnect(&shared, &mut attempts, force_refresh, cause, &mut shutdown).await {
            Ok(reopened) => {
                socket = reopened;
                subscribe = subscriptions_frame(&shared);
            }
            Err(reason) => break reason,
        }
    };
    tracing::info!(%reason, "WebSocket run ended");
    // Closed before the state is published, so that `send` fails from the
    // moment `Disconnected` is observable instead of queuing a message that
    // no task will write.
    outgoing.close();
    if let Some(text) = pending {
        tracing::warn!(
            bytes = text.len(),
            "WebSocket run ended with a message unwritten"
        );
    }
    unexpected_end.disarm();
    publish_end(&shared, reason);
}

/// Reports the end of a run: the state becomes `Disconnected` and the event
/// streams of the run end.
fn publish_end(shared: &Shared, reason: DisconnectReason) {
    shared
        .state
        .send_replace(ConnectionState::Disconnected { reason });
    shared.runs_ended.send_modify(|ended| *ended += 1);
}

/// Guard that reports the end of a run whose task stopped before its normal
/// end, by a panic or by the runtime shutting down, so that the client does
/// not stay `Connected` with event streams that never end.
pub(super) struct UnexpectedEnd {
    shared: Option<Arc<Shared>>,
}

impl UnexpectedEnd {
    pub(super) fn arm(shared: Arc<Shared>) -> Self {
        Self {
            shared: Some(shared),
        }
    }

    fn disarm(mut self) {
        self.shared = None;
    }
}

impl Drop for UnexpectedEnd {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let error = if std::thread::panicking() {
            let error = websocket_error("WebSocket connection task panicked".to_owned());
            tracing::error!(%error, "WebSocket run ended");
            error
        } else {
            // The runtime dropped the task, which is expected while it shuts down.
            let error = websocket_error("WebSocket connection task was stopped".to_owned());
            tracing::debug!(%error, "WebSocket run ended");
            error
        };
        publish_end(&shared, DisconnectReason::Failed(error));
    }
}

/// Frames handled in one pass after the first, when already buffered.
const READ_BATCH: usize = 64;

/// Handles one read from the socket, and returns how the connection ended if
/// it did.
fn handle_frame(
    shared: &Shared,
    frame: Option<Result<Message, WsError>>,
    received_frame: &mut bool,
) -> Option<End> {
    match frame {
        Some(Ok(Message::Text(text))) => {
            *received_frame = true;
            shared.dispatch(text.as_str());
            None
        }
        Some(Ok(Message::Binary(bytes))) => {
            *received_frame = true;
            match std::str::from_utf8(&bytes) {
                Ok(text) => shared.dispatch(text),
                Err(_) => shared.count_malformed("binary frame is not UTF-8"),
            }
            None
        }
        Some(Ok(Message::Close(frame))) => {
            let (code, reason) = frame
                .map(|frame| (u16::from(frame.code), frame.reason.to_string()))
                .unwrap_or((1005, String::new()));
            Some(End::Closed { code, reason })
        }
        Some(Ok(_)) => {
            *received_frame = true;
            None
        }
        Some(Err(error)) => Some(End::Lost(network_error(
            "reading from the WebSocket failed",
            error,
        ))),
        None => Some(End::Lost(websocket_error(
            "connection ended without a close frame (1006)".to_owned(),
        ))),
    }
}

/// Serves one open connection until it ends. Sets `received_frame` once a
/// frame other than a close frame arrives.
///
/// Every wait here is a branch of one `select!`, and no branch body awaits,
/// so a write blocked by a peer that stops reading delays neither the
/// heartbeat deadline nor a shutdown.
async fn serve(
    shared: &Shared,
    socket: Socket,
    subscribe: Option<Message>,
    outgoing: &mut mpsc::Receiver<String>,
    pending: &mut Option<Utf8Bytes>,
    shutdown: &mut watch::Receiver<bool>,
    received_frame: &mut bool,
) -> End {
    let (mut sink, mut stream) = socket.split();
    // The message whose write failed on the previous connection goes after
    // the subscriptions, so that it meets them in place.
    let mut writer = Writer::new(pending.take());
    if let Some(frame) = subscribe {
        writer.push_control(frame);
    }

    let interval = shared.config.heartbeat_interval;
    let timeout = shared.config.heartbeat_timeout;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + interval, interval);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pong_deadline: Option<Instant> = None;
    let end = loop {
        let stall_deadline = writer.stall_deadline(timeout);
        // Unbiased, so that a flood of incoming frames cannot starve the
        // writes, and the other way round.
        tokio::select! {
            () = shutdown_requested(shutdown) => break End::Shutdown,
            frame = stream.next() => {
                pong_deadline = None;
                if let Some(end) = handle_frame(shared, frame, received_frame) {
                    break end;
                }
                // Frames that are already buffered are handled without another
                // pass through the `select!`, up to a bound, so that writes and
                // timers still get their turn during a flood.
                let mut batch_end = None;
                for _ in 0..READ_BATCH {
                    let Some(frame) = stream.next().now_or_never() else {
                        break;
                    };
                    batch_end = handle_frame(shared, frame, received_frame);
                    if batch_end.is_some() {
                        break;
                    }
                }
                if let Some(end) = batch_end {
                    break end;
                }
            }
            _ = heartbeat.tick() => {
                writer.push_ping();
                pong_deadline.get_or_insert(Instant::now() + timeout);
            }
            () = sleep_until_some(pong_deadline), if pong_deadline.is_some() => {
                break End::Lost(websocket_error(format!(
                    "no frame arrived within {} ms after a ping",
                    timeout.as_millis()
                )));
            }
            () = sleep_until_some(stall_deadline), if stall_deadline.is_some() => {
                break End::Lost(websocket_error(format!(
                    "writing to the WebSocket made no progress for {} ms",
                    timeout.as_millis()
                )));
            }
            written = std::future::poll_fn(|cx| writer.poll_write(cx, &mut sink)), if !writer.is_idle() => {
                if let Err(error) = written {
                    break End::Lost(network_error("writing to the WebSocket failed", error));
                }
            }
            message = outgoing.recv(), if !writer.has_message() => match message {
                Some(text) => writer.set_message(Utf8Bytes::from(text)),
                None => break End::Shutdown,
            },
        }
    };
    match end {
        End::Shutdown => close(&mut sink).await,
        _ => *pending = writer.into_unwritten(),
    }
    end
}

/// Returns the `subscribe` message with every channel subscribed to, or
/// `None` when there is none. Channels subscribed to later are sent by
/// `subscribe` itself, through the outgoing queue.
pub(super) fn subscriptions_frame(shared: &Shared) -> Option<Message> {
    let channels = shared.subscription_list();
    if channels.is_empty() {
        return None;
    }
    let message = envelope("subscribe", json!({ "channels": channels }))
        .expect("a list of strings serializes");
    Some(Message::text(message))
}

/// Sleeps until `deadline`. The caller disables the branch when it is `None`.
async fn sleep_until_some(deadline: Option<Instant>) {
    tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)).await;
}

/// Resolves once a shutdown is requested or the session was dropped.
pub(super) async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender, held by the session, was dropped.
    let _ = shutdown.wait_for(|requested| *requested).await;
}

/// Sends a normal close frame, waiting at most `CLOSE_TIMEOUT` also when
/// earlier frames are still blocked.
async fn close(sink: &mut SocketSink) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "client disconnected".into(),
    };
    match tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await {
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
                // TODO: the broadcast channel costs a clone and a wake-up per
                // event and per stream, which keeps event throughput at 0.80 of
                // a raw read loop (BENCHMARKS.md). A path for the common case
                // of one stream and no handlers would close most of the gap.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    fn shared() -> Arc<Shared> {
        let client = Client::new("http://127.0.0.1:9").unwrap();
        Arc::clone(client.websocket().shared())
    }

    #[test]
    fn dropped_run_reports_failure() {
        let shared = shared();
        drop(UnexpectedEnd::arm(Arc::clone(&shared)));
        let state = shared.state.borrow().clone();
        let failed = matches!(
            state,
            ConnectionState::Disconnected {
                reason: DisconnectReason::Failed(_)
            }
        );
        assert!(failed, "{state:?}");
    }

    #[test]
    fn dropped_run_ends_event_streams() {
        let shared = shared();
        drop(UnexpectedEnd::arm(Arc::clone(&shared)));
        assert_eq!(*shared.runs_ended.borrow(), 1);
    }

    #[test]
    fn disarmed_run_end_reports_nothing() {
        let shared = shared();
        UnexpectedEnd::arm(Arc::clone(&shared)).disarm();
        assert_eq!(*shared.runs_ended.borrow(), 0);
    }

    #[test]
    fn panicked_run_names_the_panic() {
        let shared = shared();
        let run_shared = Arc::clone(&shared);
        let joined = std::thread::spawn(move || {
            let _end = UnexpectedEnd::arm(run_shared);
            panic!("connection task failure for this test");
        })
        .join();
        assert!(joined.is_err());
        let state = format!("{:?}", *shared.state.borrow());
        assert!(state.contains("panicked"), "{state}");
    }
}
