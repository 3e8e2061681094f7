//! Server events, the outgoing envelope and the stream of events.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use chrono::{SecondsFormat, Utc};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::models::{ContentUpdateEvent, NotificationEvent, ProgressUpdateEvent, QuizResultEvent};

/// An event received over the WebSocket, decoded from an envelope
/// `{"type": ..., "data": ..., "timestamp": ...}`.
///
/// A frame whose `type` is known but whose `data` does not decode arrives
/// as [`ServerEvent::Unknown`], so that no event is lost.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `content_update`: content was generated or changed.
    ContentUpdate(ContentUpdateEvent),
    /// `quiz_result`: a quiz submission of this user was scored.
    QuizResult(QuizResultEvent),
    /// `progress_update`: this user's progress in a course changed.
    ProgressUpdate(ProgressUpdateEvent),
    /// `notification`: a message for this user.
    Notification(NotificationEvent),
    /// `subscribed`: the server accepted a subscription.
    Subscribed {
        /// Channels the subscription covered.
        channels: Vec<String>,
    },
    /// `error`: the server rejected a message this client sent.
    Error {
        /// The server's description.
        message: String,
    },
    /// An event of a type this client does not model.
    Unknown {
        /// The envelope's `type`.
        event_type: String,
        /// The envelope's `data`, `null` when it had none.
        data: Value,
    },
    /// Not sent by the server: an [`EventStream`] fell behind by more than
    /// the configured event capacity and skipped the `skipped` oldest events.
    Lagged {
        /// Number of events skipped.
        skipped: u64,
    },
}

impl ServerEvent {
    /// Returns the event's type as the protocol spells it, such as
    /// `quiz_result`. Handlers registered with
    /// [`WebSocketClient::on`](super::WebSocketClient::on) are looked up by
    /// this name.
    ///
    /// [`ServerEvent::Lagged`] returns `lagged` but never reaches a handler,
    /// because only an [`EventStream`] produces it. A server frame of type
    /// `lagged` reaches the `lagged` handler as [`ServerEvent::Unknown`].
    pub fn event_type(&self) -> &str {
        match self {
            Self::ContentUpdate(_) => "content_update",
            Self::QuizResult(_) => "quiz_result",
            Self::ProgressUpdate(_) => "progress_update",
            Self::Notification(_) => "notification",
            Self::Subscribed { .. } => "subscribed",
            Self::Error { .. } => "error",
            Self::Unknown { event_type, .. } => event_type,
            Self::Lagged { .. } => "lagged",
        }
    }

    /// Decodes one text frame.
    ///
    /// A known event decodes straight from the frame's text into its
    /// payload type, in one pass and without an intermediate
    /// `serde_json::Value`.
    ///
    /// # Errors
    ///
    /// Returns a description when the frame is not a JSON object with a
    /// string `type`.
    pub(crate) fn from_frame(text: &str) -> Result<Self, String> {
        super::frame::decode(text)
    }

    pub(super) fn from_parts(event_type: Cow<'_, str>, data: Option<&RawValue>) -> Self {
        let raw = data.map_or("null", RawValue::get);
        let decoded = match event_type.as_ref() {
            "content_update" => decode(raw).map(Self::ContentUpdate),
            "quiz_result" => decode(raw).map(Self::QuizResult),
            "progress_update" => decode(raw).map(Self::ProgressUpdate),
            "notification" => decode(raw).map(Self::Notification),
            // `data: null` acknowledges no channel in particular, like `{}`.
            "subscribed" if raw == "null" => Some(Self::Subscribed {
                channels: Vec::new(),
            }),
            "subscribed" => decode::<Channels>(raw).map(|body| Self::Subscribed {
                channels: body.channels,
            }),
            "error" => decode::<ErrorBody>(raw).map(|body| Self::Error {
                message: body.message,
            }),
            _ => None,
        };
        decoded.unwrap_or_else(|| Self::Unknown {
            event_type: event_type.into_owned(),
            // `raw` was validated as JSON when the frame was read.
            data: serde_json::from_str(raw).unwrap_or(Value::Null),
        })
    }
}

#[derive(serde::Deserialize)]
struct Channels {
    #[serde(default)]
    channels: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
}

fn decode<T: DeserializeOwned>(raw: &str) -> Option<T> {
    match serde_json::from_str(raw) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(%error, "WebSocket event data does not match its type, keeping it as unknown");
            None
        }
    }
}

/// An outgoing message: `{"type", "data", "timestamp"}` with an RFC 3339 UTC
/// timestamp in milliseconds.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    message_type: &'a str,
    data: T,
    timestamp: String,
}

/// Serializes an outgoing message stamped with the current time.
pub(crate) fn envelope<T: Serialize>(message_type: &str, data: T) -> serde_json::Result<String> {
    serde_json::to_string(&Envelope {
        message_type,
        data,
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

type BoxedEvents = Pin<Box<dyn Stream<Item = ServerEvent> + Send>>;

/// A stream of the events of one connection run, from
/// [`WebSocketClient::events`](super::WebSocketClient::events).
///
/// The stream ends when the run ends: after
/// [`WebSocketClient::disconnect`](super::WebSocketClient::disconnect), a
/// close that is not reconnected, or when every reconnect attempt failed.
/// Each stream buffers at most the configured event capacity; a stream that
/// falls further behind skips the oldest events and yields
/// [`ServerEvent::Lagged`] with their number.
pub struct EventStream {
    inner: BoxedEvents,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl EventStream {
    /// Creates a stream that ends once `runs_ended` exceeds its current
    /// value, after yielding the events already buffered.
    pub(crate) fn new(
        events: broadcast::Receiver<ServerEvent>,
        runs_ended: watch::Receiver<u64>,
    ) -> Self {
        let start = *runs_ended.borrow();
        let reader = Reader {
            events,
            runs_ended,
            start,
            ending: false,
        };
        let stream = futures_util::stream::unfold(reader, |mut reader| async move {
            let event = reader.next_event().await?;
            Some((event, reader))
        });
        Self {
            inner: Box::pin(stream),
        }
    }

    /// Waits for the next event, or returns `None` when the stream ended.
    pub async fn next(&mut self) -> Option<ServerEvent> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }
}

impl Stream for EventStream {
    type Item = ServerEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ServerEvent>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct Reader {
    events: broadcast::Receiver<ServerEvent>,
    runs_ended: watch::Receiver<u64>,
    start: u64,
    ending: bool,
}

impl Reader {
    async fn next_event(&mut self) -> Option<ServerEvent> {
        use broadcast::error::{RecvError, TryRecvError};

        if !self.ending {
            // Buffered events are taken without building the wait below.
            match self.events.try_recv() {
                Ok(event) => return Some(event),
                Err(TryRecvError::Lagged(skipped)) => {
                    return Some(ServerEvent::Lagged { skipped });
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Closed) => return None,
            }
            let start = self.start;
            let runs_ended = &mut self.runs_ended;
            tokio::select! {
                biased;
                received = self.events.recv() => {
                    return match received {
                        Ok(event) => Some(event),
                        Err(RecvError::Lagged(skipped)) => Some(ServerEvent::Lagged { skipped }),
                        Err(RecvError::Closed) => None,
                    };
                }
                () = async {
                    // An error means the client was dropped, which also ends the run.
                    let _ = runs_ended.wait_for(|ended| *ended > start).await;
                } => self.ending = true,
            }
        }
        // The run ended: yield what is still buffered, then end.
        match self.events.try_recv() {
            Ok(event) => Some(event),
            Err(TryRecvError::Lagged(skipped)) => Some(ServerEvent::Lagged { skipped }),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quiz_result_frame_decodes() {
        let frame = r#"{"type":"quiz_result","data":{"quiz_id":"q","score":3,"total":4,"percentage":75.0,"passed":true}}"#;
        let event = ServerEvent::from_frame(frame).unwrap();
        assert_eq!(event.event_type(), "quiz_result");
        assert!(matches!(event, ServerEvent::QuizResult(result) if result.score == 3));
    }

    #[test]
    fn unknown_type_keeps_data() {
        let frame = r#"{"type":"leaderboard","data":{"rank":1}}"#;
        let event = ServerEvent::from_frame(frame).unwrap();
        let expected = ServerEvent::Unknown {
            event_type: "leaderboard".to_owned(),
            data: json!({"rank": 1}),
        };
        assert_eq!(event, expected);
    }

    #[test]
    fn known_type_with_bad_data_is_unknown() {
        let frame = r#"{"type":"notification","data":{"text":"hi"}}"#;
        let event = ServerEvent::from_frame(frame).unwrap();
        assert!(matches!(event, ServerEvent::Unknown { .. }));
    }

    #[test]
    fn subscribed_with_null_data_has_no_channels() {
        for frame in [
            r#"{"type":"subscribed","data":null}"#,
            r#"{"type":"subscribed","data":{}}"#,
            r#"{"type":"subscribed"}"#,
        ] {
            let event = ServerEvent::from_frame(frame).unwrap();
            let expected = ServerEvent::Subscribed { channels: vec![] };
            assert_eq!(event, expected, "{frame}");
        }
    }

    #[test]
    fn malformed_frames_are_rejected() {
        for frame in ["not json", "[1,2]", r#"{"data":{}}"#, r#"{"type":7}"#] {
            assert!(ServerEvent::from_frame(frame).is_err(), "{frame}");
        }
    }

    #[test]
    fn envelope_has_type_data_and_utc_timestamp() {
        let text = envelope("subscribe", json!({"channels": ["a"]})).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "subscribe");
        assert_eq!(value["data"]["channels"][0], "a");
        let timestamp = value["timestamp"].as_str().unwrap();
        assert!(timestamp.ends_with('Z'), "{timestamp}");
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok());
    }
}

/// Hostile frames: decoding never panics, whatever a server sends.
#[cfg(test)]
mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_frames(text in ".*") {
            let _ = ServerEvent::from_frame(&text);
        }

        #[test]
        fn known_types_with_arbitrary_data(
            event_type in prop_oneof![
                Just("quiz_result"),
                Just("progress_update"),
                Just("content_update"),
                Just("notification"),
                Just("subscribed"),
                Just("error"),
            ],
            data in ".*",
            number in any::<f64>(),
        ) {
            let frames = [
                serde_json::json!({"type": event_type, "data": data}),
                serde_json::json!({"type": event_type, "data": {"score": data, "percentage": number}}),
                serde_json::json!({"type": event_type, "data": null}),
                serde_json::json!({"type": event_type}),
            ];
            for frame in frames {
                let decoded = ServerEvent::from_frame(&frame.to_string());
                prop_assert!(decoded.is_ok());
            }
        }
    }

    #[test]
    fn deeply_nested_frame_is_rejected() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(ServerEvent::from_frame(&text).is_err());
    }
}
