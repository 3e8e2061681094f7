//! Decoding the envelope of an incoming frame.
//!
//! The fast path reads the frame in one pass: once `type` names a known
//! event, `data` is decoded straight into its payload type. A frame that
//! the fast path cannot take (an unknown type, `data` before `type`, or a
//! payload of the wrong shape) is read again with `data` kept as raw JSON,
//! so that it still arrives, as [`ServerEvent::Unknown`] where needed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::value::RawValue;
use serde_json::Value;

use super::ServerEvent;

/// Decodes one text frame into an event.
pub(super) fn decode(text: &str) -> Result<ServerEvent, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fast = deserializer
        .deserialize_map(FrameVisitor)
        .and_then(|event| deserializer.end().map(|()| event));
    if let Ok(Some(event)) = fast {
        return Ok(event);
    }
    match serde_json::from_str::<IncomingFrame<'_>>(text) {
        Ok(frame) => Ok(ServerEvent::from_parts(frame.event_type, frame.data)),
        Err(_) => Err(describe_invalid_frame(text)),
    }
}

/// Reads an envelope whose `type` comes before `data` and names an event
/// with a typed payload. Returns `None` for any other envelope, which the
/// slower path then reads.
struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = Option<ServerEvent>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object with `type` and `data`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event_type: Option<Cow<'de, str>> = None;
        let mut event = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type if event_type.is_none() => {
                    event_type = Some(map.next_value::<BorrowedText>()?.0);
                }
                Key::Data if event.is_none() => {
                    let Some(kind) = event_type.as_deref() else {
                        // `data` before `type`: left to the slower path.
                        return Ok(None);
                    };
                    event = Some(match kind {
                        "quiz_result" => ServerEvent::QuizResult(map.next_value()?),
                        "progress_update" => ServerEvent::ProgressUpdate(map.next_value()?),
                        "content_update" => ServerEvent::ContentUpdate(map.next_value()?),
                        "notification" => ServerEvent::Notification(map.next_value()?),
                        _ => return Ok(None),
                    });
                }
                // A repeated key is left to the slower path, which keeps the
                // last value as `serde_json::Value` does.
                Key::Type | Key::Data => return Ok(None),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(event)
    }
}

/// A key of the envelope, read without allocating.
enum Key {
    Type,
    Data,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "type" => Key::Type,
            "data" => Key::Data,
            _ => Key::Other,
        })
    }
}

/// A string borrowed from the frame when it has no escapes.
struct BorrowedText<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for BorrowedText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(BorrowedTextVisitor)
    }
}

struct BorrowedTextVisitor;

impl<'de> Visitor<'de> for BorrowedTextVisitor {
    type Value = BorrowedText<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(BorrowedText(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(BorrowedText(Cow::Owned(text.to_owned())))
    }
}

/// The envelope of an incoming frame, with `data` kept as raw JSON.
#[derive(serde::Deserialize)]
struct IncomingFrame<'a> {
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

/// Explains why a frame is not an envelope, for the log. Only malformed
/// frames reach this path.
fn describe_invalid_frame(text: &str) -> String {
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(error) => return format!("frame is not JSON: {error}"),
    };
    let Value::Object(object) = value else {
        return "frame is not a JSON object".to_owned();
    };
    match object.get("type") {
        Some(Value::String(_)) => "frame's envelope is invalid".to_owned(),
        Some(_) => "frame's `type` is not a string".to_owned(),
        None => "frame has no `type`".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quiz_result_data() -> Value {
        json!({"quiz_id": "q", "score": 3, "total": 4, "percentage": 75.0, "passed": true})
    }

    #[test]
    fn envelope_orders_and_shapes() {
        // (case, frame, expected event type)
        let data = quiz_result_data();
        let cases = [
            (
                "type first",
                json!({"type": "quiz_result", "data": data}).to_string(),
                "quiz_result",
            ),
            (
                "data first",
                format!(r#"{{"data":{data},"type":"quiz_result"}}"#),
                "quiz_result",
            ),
            (
                "timestamp and extra keys",
                json!({"timestamp": "t", "type": "quiz_result", "x": [1], "data": data})
                    .to_string(),
                "quiz_result",
            ),
            (
                "escaped type",
                format!(r#"{{"type":"quiz\u005fresult","data":{data}}}"#),
                "quiz_result",
            ),
            (
                "wrong payload shape",
                json!({"type": "quiz_result", "data": {"score": "three"}}).to_string(),
                "quiz_result",
            ),
            (
                "unknown type",
                json!({"type": "leaderboard", "data": {"rank": 1}}).to_string(),
                "leaderboard",
            ),
            (
                "subscribed",
                json!({"type": "subscribed", "data": {"channels": ["a"]}}).to_string(),
                "subscribed",
            ),
        ];
        for (case, frame, expected) in cases {
            let event = decode(&frame).unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(event.event_type(), expected, "{case}");
        }
    }

    #[test]
    fn wrong_payload_shape_keeps_data() {
        let frame = json!({"type": "quiz_result", "data": {"score": "three"}}).to_string();
        let expected = ServerEvent::Unknown {
            event_type: "quiz_result".to_owned(),
            data: json!({"score": "three"}),
        };
        assert_eq!(decode(&frame), Ok(expected));
    }

    #[test]
    fn data_first_decodes_typed_payload() {
        let frame = format!(r#"{{"data":{},"type":"quiz_result"}}"#, quiz_result_data());
        let event = decode(&frame).unwrap();
        assert!(matches!(event, ServerEvent::QuizResult(result) if result.score == 3));
    }

    #[test]
    fn invalid_envelopes_are_described() {
        // (frame, expected description start)
        let cases = [
            ("not json", "frame is not JSON"),
            ("[1, 2]", "frame is not a JSON object"),
            (r#"{"type": 5}"#, "frame's `type` is not a string"),
            (r#"{"data": {}}"#, "frame has no `type`"),
            (r#"{"type": "quiz_result"} trailing"#, "frame is not JSON"),
        ];
        for (frame, expected) in cases {
            let error = decode(frame).unwrap_err();
            assert!(error.starts_with(expected), "{frame}: {error}");
        }
    }
}
