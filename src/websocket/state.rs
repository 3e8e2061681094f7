//! Connection state reported by `WebSocketClient::state`, and its changes
//! during `connect`.

use std::fmt;

use super::Shared;
use crate::error::APIError;

/// The state of a [`WebSocketClient`](super::WebSocketClient)'s connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConnectionState {
    /// `connect` is opening the first connection.
    Connecting,
    /// The connection is open.
    Connected,
    /// The connection was lost and attempt number `attempt` (counting from
    /// 1) to reopen it is waiting or running.
    Reconnecting {
        /// Number of the current attempt, counting from 1.
        attempt: u32,
    },
    /// No connection is open and none will be opened until `connect` is
    /// called again.
    Disconnected {
        /// The cause of the end.
        reason: DisconnectReason,
    },
}

impl ConnectionState {
    /// Returns whether the connection is open.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected)
    }

    /// Returns whether the state is [`ConnectionState::Disconnected`].
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected { .. })
    }
}

/// The cause of the end of a WebSocket connection run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// `connect` has not been called yet.
    NotConnected,
    /// [`WebSocketClient::disconnect`](super::WebSocketClient::disconnect)
    /// was called, or every handle of the client was dropped.
    Requested,
    /// The server closed the connection with a code that does not call for
    /// a reconnect, such as 1000 (normal closure).
    ServerClosed {
        /// Close code of the server's close frame, 1005 when it had none.
        code: u16,
        /// Reason text of the close frame.
        reason: String,
    },
    /// Opening the connection failed in a way that retrying cannot fix, such
    /// as [`APIError::Authentication`] after a failed token refresh.
    Failed(APIError),
    /// Every reconnect attempt allowed by the
    /// [`ReconnectPolicy`](super::ReconnectPolicy) failed.
    AttemptsExhausted {
        /// Attempts made.
        attempts: u32,
        /// Error of the last attempt, or the cause of the lost connection
        /// when no attempt was allowed.
        last_error: APIError,
    },
}

impl DisconnectReason {
    /// Returns the error behind the disconnect, when there was one.
    pub fn error(&self) -> Option<&APIError> {
        match self {
            Self::Failed(error) => Some(error),
            Self::AttemptsExhausted { last_error, .. } => Some(last_error),
            _ => None,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConnected => f.write_str("not connected yet"),
            Self::Requested => f.write_str("disconnected by the client"),
            Self::ServerClosed { code, reason } if reason.is_empty() => {
                write!(f, "server closed the connection with code {code}")
            }
            Self::ServerClosed { code, reason } => {
                write!(f, "server closed the connection with code {code}: {reason}")
            }
            Self::Failed(error) => write!(f, "connection failed: {error}"),
            Self::AttemptsExhausted {
                attempts,
                last_error,
            } => write!(
                f,
                "gave up after {attempts} reconnect attempts, last error: {last_error}"
            ),
        }
    }
}

/// The state change of one `connect` call. Dropped before
/// [`ConnectAttempt::succeed`] or [`ConnectAttempt::fail`], which happens
/// when the `connect` future is dropped, it restores the state from before
/// and ends the event streams.
pub(super) struct ConnectAttempt<'a> {
    shared: &'a Shared,
    previous: Option<ConnectionState>,
}

impl<'a> ConnectAttempt<'a> {
    /// Sets the state to `Connecting`.
    pub(super) fn start(shared: &'a Shared) -> Self {
        let previous = shared.state.send_replace(ConnectionState::Connecting);
        Self {
            shared,
            previous: Some(previous),
        }
    }

    pub(super) fn succeed(mut self) {
        self.previous = None;
        self.shared.state.send_replace(ConnectionState::Connected);
    }

    pub(super) fn fail(mut self, error: APIError) {
        self.previous = None;
        self.end(ConnectionState::Disconnected {
            reason: DisconnectReason::Failed(error),
        });
    }

    /// Ends the attempt because `disconnect` was called while it opened.
    pub(super) fn cancel(mut self) {
        self.previous = None;
        self.end(ConnectionState::Disconnected {
            reason: DisconnectReason::Requested,
        });
    }

    fn end(&self, state: ConnectionState) {
        self.shared.state.send_replace(state);
        self.shared.runs_ended.send_modify(|ended| *ended += 1);
    }
}

impl Drop for ConnectAttempt<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            tracing::info!("WebSocket connect was cancelled before the connection opened");
            self.end(previous);
        }
    }
}
