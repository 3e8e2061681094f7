//! Reopening a lost connection: the close-code policy, the attempt count
//! and the backoff between attempts.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::config::ReconnectPolicy;
use super::connection::{open_authenticated, Socket};
use super::driver::shutdown_requested;
use super::{ConnectionState, DisconnectReason, Shared};
use crate::error::APIError;
use crate::transport::BackoffDelays;

/// The client's response to a server close code.
pub(super) enum CloseAction {
    Stop,
    Reconnect,
    Reauthenticate,
}

// NOTE: close-code policy. 1001 (going away), 1006 (abnormal), 1011
// (server error), 1012 (service restart) and 1013 (try again later) are
// reconnected. 1008 (policy violation) and 4001 (the backend's
// authentication failure) refresh the token once and reconnect, and stop
// with an authentication error when the server rejects the refresh. Every
// other code, 1000 included, ends the run, because reconnecting cannot
// change the server's decision.
pub(super) fn close_action(code: u16) -> CloseAction {
    match code {
        1001 | 1006 | 1011 | 1012 | 1013 => CloseAction::Reconnect,
        1008 | 4001 => CloseAction::Reauthenticate,
        _ => CloseAction::Stop,
    }
}

/// The reconnect attempts made since the last established connection, and
/// the delays of the next ones.
///
/// A connection counts as established when it stayed open for at least one
/// heartbeat interval and received at least one frame other than a close
/// frame, a pong included. Only then do the count and the delays start
/// over, so a server that accepts the upgrade and then fails the connection
/// at once uses up the attempts with growing delays.
pub(super) struct Attempts {
    policy: ReconnectPolicy,
    attempted: u32,
    delays: BackoffDelays,
}

impl Attempts {
    pub(super) fn new(policy: &ReconnectPolicy) -> Self {
        Self {
            policy: policy.clone(),
            attempted: 0,
            delays: policy.delays(),
        }
    }

    /// Starts the count and the delays over when the connection opened at
    /// `opened_at` was established.
    pub(super) fn record_connection(
        &mut self,
        opened_at: Instant,
        received_frame: bool,
        heartbeat_interval: Duration,
    ) {
        if received_frame && opened_at.elapsed() >= heartbeat_interval {
            self.attempted = 0;
            self.delays = self.policy.delays();
        }
    }
}

/// Reopens the connection with backoff.
///
/// # Errors
///
/// Returns the reason the run ends: a shutdown, an authentication failure,
/// or every allowed attempt failing.
pub(super) async fn reconnect(
    shared: &Arc<Shared>,
    attempts: &mut Attempts,
    mut force_refresh: bool,
    cause: APIError,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Socket, DisconnectReason> {
    let mut last_error = cause;
    loop {
        if attempts
            .policy
            .max_attempts
            .is_some_and(|max| attempts.attempted >= max)
        {
            return Err(DisconnectReason::AttemptsExhausted {
                attempts: attempts.attempted,
                last_error,
            });
        }
        attempts.attempted = attempts.attempted.saturating_add(1);
        let attempt = attempts.attempted;
        shared
            .state
            .send_replace(ConnectionState::Reconnecting { attempt });
        let delay = attempts.delays.next_delay();
        tracing::info!(
            attempt,
            delay_ms = delay.as_millis(),
            "reconnecting the WebSocket"
        );
        let opened = tokio::select! {
            () = shutdown_requested(shutdown) => return Err(DisconnectReason::Requested),
            opened = async {
                tokio::time::sleep(delay).await;
                open_authenticated(shared, &mut force_refresh).await
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
            }
        }
    }
}
