//! Mapping an HTTP response to a value or an [`APIError`].

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{APIError, ErrorDetails, FieldError};

/// Characters of an undecodable body kept in the error.
const SNIPPET_CHARS: usize = 200;

/// Returns the request id a server attached to a response.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "x-correlation-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

/// Returns the start of a body as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(SNIPPET_CHARS)
        .collect()
}

/// Decodes a successful body. An empty body decodes as JSON `null`, so that
/// calls returning `()` accept it.
pub(crate) fn decode<T: DeserializeOwned>(
    body: &[u8],
    details: impl FnOnce() -> ErrorDetails,
) -> Result<T, APIError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"null".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|error| {
        let mut details = details();
        details.message = format!("response body does not match the expected type: {error}");
        details.body_snippet = Some(snippet(body));
        APIError::Decode(Box::new(details))
    })
}

/// Parses `Retry-After` as delta seconds or an HTTP-date. A date in the past
/// gives zero; an unparsable value gives `None`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Delta seconds too large for a u64 still request a wait, which is read
    // as the maximum duration.
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(Duration::MAX);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Builds the error for an unsuccessful status from its headers and body.
///
/// Both error body shapes decode: `{"message": ..., "details": ...}` and
/// FastAPI's `{"detail": "..."}` or `{"detail": [{"loc", "msg", "type"}]}`.
/// Any other body keeps its start in `body_snippet`.
pub(crate) fn error_for_status(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    mut details: ErrorDetails,
) -> APIError {
    details.status = Some(status.as_u16());
    details.request_id = request_id(headers);
    details.retry_after = retry_after(headers);
    read_error_body(body, status, &mut details);

    let details = Box::new(details);
    match status.as_u16() {
        400 | 409 | 422 => APIError::Validation(details),
        401 => APIError::Authentication(details),
        403 => APIError::Forbidden(details),
        404 => APIError::NotFound(details),
        429 => APIError::RateLimited {
            retry_after: details.retry_after,
            details,
        },
        500..=599 => APIError::Server(details),
        _ => APIError::UnexpectedStatus(details),
    }
}

fn read_error_body(body: &[u8], status: StatusCode, details: &mut ErrorDetails) {
    let reason = status.canonical_reason().unwrap_or("unknown status");
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let Some(serde_json::Value::Object(object)) = parsed else {
        details.message = if body.is_empty() {
            format!("{reason}, with an empty body")
        } else {
            details.body_snippet = Some(snippet(body));
            format!("{reason}, with a body that is not a JSON error")
        };
        return;
    };

    let text = |key: &str| object.get(key).and_then(|value| value.as_str());
    let message = match object.get("detail") {
        Some(serde_json::Value::String(detail)) => Some(detail.clone()),
        Some(serde_json::Value::Array(items)) => {
            details.field_errors = items
                .iter()
                .filter_map(|item| serde_json::from_value::<FieldError>(item.clone()).ok())
                .collect();
            Some("the request has invalid fields".to_owned())
        }
        _ => None,
    };
    details.message = text("message")
        .map(str::to_owned)
        .or(message)
        .or_else(|| text("error").map(str::to_owned))
        .unwrap_or_else(|| reason.to_owned());
    details.details = object.get("details").cloned();
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers_with_retry_after(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_delta_seconds() {
        let headers = headers_with_retry_after("7");
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_reads_http_date() {
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let delay = retry_after(&headers_with_retry_after(&date)).unwrap();
        assert!(delay > Duration::from_secs(25), "{delay:?}");
    }

    #[test]
    fn retry_after_beyond_u64_is_max() {
        let headers = headers_with_retry_after("18446744073709551616");
        assert_eq!(retry_after(&headers), Some(Duration::MAX));
    }

    #[test]
    fn retry_after_past_date_is_zero() {
        let headers = headers_with_retry_after("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_none() {
        let headers = headers_with_retry_after("soon, maybe");
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn snippet_stops_at_limit() {
        let body = "x".repeat(1000);
        assert_eq!(snippet(body.as_bytes()).len(), SNIPPET_CHARS);
    }

    #[test]
    fn decode_empty_body_as_unit() {
        let decoded: Result<(), _> = decode(b"", ErrorDetails::default);
        assert!(decoded.is_ok());
    }
}

/// Hostile bodies: decoding never panics, whatever a server sends.
#[cfg(test)]
mod hostile {
    use super::*;
    use crate::models::{CourseProgress, Quiz, QuizResult};
    use proptest::prelude::*;

    /// Arbitrary JSON: nested arrays and objects, huge numbers, numbers as
    /// strings, nulls.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "[0-9]{1,40}".prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::hash_map(
                    prop_oneof![
                        Just("id".to_owned()),
                        Just("title".to_owned()),
                        Just("total_points".to_owned()),
                        Just("questions".to_owned()),
                        Just("detail".to_owned()),
                        Just("message".to_owned()),
                        ".*".prop_map(|key: String| key),
                    ],
                    inner,
                    0..8,
                )
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn decode_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Quiz>(&body, ErrorDetails::default);
            let _ = decode::<QuizResult>(&body, ErrorDetails::default);
        }

        #[test]
        fn decode_arbitrary_json(value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            let _ = decode::<Quiz>(&body, ErrorDetails::default);
            let _ = decode::<CourseProgress>(&body, ErrorDetails::default);
        }

        #[test]
        fn error_body_keeps_status(
            status in 400u16..600,
            body in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let status = StatusCode::from_u16(status).unwrap();
            let error = error_for_status(status, &HeaderMap::new(), &body, ErrorDetails::default());
            prop_assert_eq!(error.status(), Some(status.as_u16()));
        }

        #[test]
        fn error_json_keeps_status(status in 400u16..600, value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            let status = StatusCode::from_u16(status).unwrap();
            let error = error_for_status(status, &HeaderMap::new(), &body, ErrorDetails::default());
            prop_assert_eq!(error.status(), Some(status.as_u16()));
        }
    }

    #[test]
    fn deeply_nested_json_is_decode_error() {
        let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let decoded = decode::<Quiz>(body.as_bytes(), ErrorDetails::default);
        assert!(matches!(decoded, Err(APIError::Decode(_))));
    }

    #[test]
    fn null_quiz_fields_do_not_panic() {
        let fields = [
            "id",
            "title",
            "subject",
            "grade_level",
            "difficulty",
            "time_limit",
            "course_id",
            "total_points",
            "questions",
            "created_at",
        ];
        for field in fields {
            let mut quiz = serde_json::json!({
                "id": "quiz-1", "title": "T", "subject": "S", "total_points": 1, "questions": []
            });
            quiz[field] = serde_json::Value::Null;
            let body = serde_json::to_vec(&quiz).unwrap();
            // Either outcome is fine; reaching this line means no panic.
            let _ = decode::<Quiz>(&body, ErrorDetails::default);
        }
    }

    #[test]
    fn huge_and_string_numbers_are_decode_errors() {
        let cases = [
            r#"{"id":"q","title":"T","subject":"S","total_points":1e400,"questions":[]}"#,
            r#"{"id":"q","title":"T","subject":"S","total_points":99999999999999999999,"questions":[]}"#,
            r#"{"id":"q","title":"T","subject":"S","total_points":"4","questions":[]}"#,
            r#"{"id":"q","title":"T","subject":"S","total_points":-1,"questions":[]}"#,
        ];
        for body in cases {
            let decoded = decode::<Quiz>(body.as_bytes(), ErrorDetails::default);
            assert!(matches!(decoded, Err(APIError::Decode(_))), "{body}");
        }
    }
}
