//! The write side of one connection. Frames are written by polling
//! [`Writer::poll_write`] next to the reads, so a peer that stops reading
//! blocks only the writes, never the heartbeat, the reads or a shutdown.

use std::collections::VecDeque;
use std::task::{ready, Context, Poll};

use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::connection::Socket;

/// The write half of an open connection.
pub(super) type SocketSink = SplitSink<Socket, Message>;

/// Frames waiting to be written on one connection.
///
/// Control frames (the `subscribe` message and pings) go before the
/// application message. At most one application message is held at a time,
/// so that a failed connection loses none: it stays here until its flush
/// succeeds and is handed to the next connection otherwise.
pub(super) struct Writer {
    control: VecDeque<Message>,
    message: Option<Utf8Bytes>,
    /// Whether `message` was handed to the sink.
    message_started: bool,
    /// Whether frames were handed to the sink and not flushed yet.
    unflushed: bool,
    /// When the writer last made progress, `None` while it is idle.
    last_progress: Option<Instant>,
}

impl Writer {
    /// Creates a writer that starts with `message`, the application message
    /// left unwritten by the previous connection.
    pub(super) fn new(message: Option<Utf8Bytes>) -> Self {
        let mut writer = Self {
            control: VecDeque::new(),
            message: None,
            message_started: false,
            unflushed: false,
            last_progress: None,
        };
        if let Some(message) = message {
            writer.set_message(message);
        }
        writer
    }

    /// Returns whether nothing is waiting to be written or flushed.
    pub(super) fn is_idle(&self) -> bool {
        self.control.is_empty() && self.message.is_none() && !self.unflushed
    }

    /// Returns whether an application message is held, in which case the
    /// next one must wait in the outgoing queue.
    pub(super) fn has_message(&self) -> bool {
        self.message.is_some()
    }

    /// Queues a control frame ahead of the application message.
    pub(super) fn push_control(&mut self, frame: Message) {
        self.mark_busy();
        self.control.push_back(frame);
    }

    /// Queues a ping unless one is still waiting to be written.
    pub(super) fn push_ping(&mut self) {
        let waiting = self
            .control
            .iter()
            .any(|frame| matches!(frame, Message::Ping(_)));
        if !waiting {
            self.push_control(Message::Ping(Default::default()));
        }
    }

    /// Holds `message` for writing. The caller checks [`Self::has_message`]
    /// first.
    pub(super) fn set_message(&mut self, message: Utf8Bytes) {
        debug_assert!(self.message.is_none());
        self.mark_busy();
        self.message = Some(message);
        self.message_started = false;
    }

    /// Returns the application message whose write did not finish, which
    /// may or may not have reached the peer.
    pub(super) fn into_unwritten(self) -> Option<Utf8Bytes> {
        self.message
    }

    /// Returns the instant at which a write that made no progress since
    /// counts as stalled, or `None` while idle.
    pub(super) fn stall_deadline(&self, limit: Duration) -> Option<Instant> {
        self.last_progress.map(|progress| progress + limit)
    }

    /// Hands the waiting frames to `sink` and flushes them. Resolves once
    /// every frame is flushed.
    ///
    /// Cancel-safe: the state lives in `self`, so dropping the future that
    /// polls this loses no frame.
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        sink: &mut SocketSink,
    ) -> Poll<Result<(), WsError>> {
        loop {
            let message_waiting = self.message.is_some() && !self.message_started;
            if self.control.is_empty() && !message_waiting {
                break;
            }
            ready!(sink.poll_ready_unpin(cx))?;
            let frame = match self.control.pop_front() {
                Some(frame) => frame,
                None => {
                    self.message_started = true;
                    let text = self.message.clone().expect("a message is waiting");
                    Message::Text(text)
                }
            };
            sink.start_send_unpin(frame)?;
            self.unflushed = true;
            self.last_progress = Some(Instant::now());
        }
        if self.unflushed {
            ready!(sink.poll_flush_unpin(cx))?;
            self.unflushed = false;
        }
        if self.message_started {
            self.message = None;
            self.message_started = false;
        }
        self.last_progress = None;
        Poll::Ready(Ok(()))
    }

    fn mark_busy(&mut self) {
        if self.last_progress.is_none() {
            self.last_progress = Some(Instant::now());
        }
    }
}
