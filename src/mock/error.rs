//! FastAPI-shaped error responses and JSON body parsing.
//!
//! Errors are `{"detail": "text"}`, except validation errors (422), which are
//! `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` as FastAPI
//! sends them. Bodies are parsed here from bytes, so that malformed JSON and
//! missing fields also yield the 422 shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// An error response of the mock.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
    bearer_challenge: bool,
}

/// One entry of a 422 `detail` list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidationIssue {
    loc: Vec<Value>,
    msg: String,
    kind: &'static str,
}

impl ValidationIssue {
    /// Creates an issue of type `value_error` at `loc`, such as
    /// `["body", "grade_level"]`.
    pub(crate) fn new(loc: Vec<Value>, msg: impl Into<String>) -> Self {
        Self::with_type(loc, msg, "value_error")
    }

    /// Creates an issue with an explicit FastAPI error type.
    pub(crate) fn with_type(loc: Vec<Value>, msg: impl Into<String>, kind: &'static str) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind,
        }
    }

    /// Creates an issue on a top-level field of the request body.
    pub(crate) fn body_field(field: &str, msg: impl Into<String>) -> Self {
        Self::new(vec![json!("body"), json!(field)], msg)
    }

    fn to_json(&self) -> Value {
        json!({"loc": self.loc, "msg": self.msg, "type": self.kind})
    }
}

impl ApiError {
    /// Creates an error with `{"detail": text}`.
    pub(crate) fn detail(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"detail": text.into()}),
            bearer_challenge: false,
        }
    }

    /// Creates a 401 that also sends `WWW-Authenticate: Bearer`.
    pub(crate) fn unauthorized(text: impl Into<String>) -> Self {
        Self {
            bearer_challenge: true,
            ..Self::detail(StatusCode::UNAUTHORIZED, text)
        }
    }

    /// Creates a 403.
    pub(crate) fn forbidden(text: impl Into<String>) -> Self {
        Self::detail(StatusCode::FORBIDDEN, text)
    }

    /// Creates a 404.
    pub(crate) fn not_found(text: impl Into<String>) -> Self {
        Self::detail(StatusCode::NOT_FOUND, text)
    }

    /// Creates a 409.
    pub(crate) fn conflict(text: impl Into<String>) -> Self {
        Self::detail(StatusCode::CONFLICT, text)
    }

    /// Creates a 422 listing every issue.
    pub(crate) fn validation(issues: Vec<ValidationIssue>) -> Self {
        let detail: Vec<Value> = issues.iter().map(ValidationIssue::to_json).collect();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({"detail": detail}),
            bearer_challenge: false,
        }
    }

    /// Returns a 422 when `issues` is not empty.
    pub(crate) fn check(issues: Vec<ValidationIssue>) -> Result<(), Self> {
        if issues.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(issues))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.bearer_challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Parses a request body into a JSON value.
///
/// # Errors
///
/// Returns a 422 of type `missing` for an empty body and of type
/// `json_invalid` for malformed JSON.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let issue = ValidationIssue::with_type(vec![json!("body")], "Field required", "missing");
        return Err(ApiError::validation(vec![issue]));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let msg = format!("JSON decode error: {error}");
        let issue = ValidationIssue::with_type(vec![json!("body")], msg, "json_invalid");
        ApiError::validation(vec![issue])
    })
}

/// Decodes a parsed body into a model type.
///
/// # Errors
///
/// Returns a 422 of type `missing` at `["body", field]` when a top-level
/// field is absent, and of type `value_error` at `["body"]` for any other
/// mismatch, with serde's message, because serde does not report the path
/// of a nested error.
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let top_level_keys: Vec<String> = value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    serde_json::from_value(value).map_err(|error| {
        let message = error.to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .filter(|field| !top_level_keys.iter().any(|key| key == field));
        let issue = match missing {
            Some(field) => ValidationIssue::with_type(
                vec![json!("body"), json!(field)],
                "Field required",
                "missing",
            ),
            None => ValidationIssue::new(vec![json!("body")], message),
        };
        ApiError::validation(vec![issue])
    })
}

/// Checks that `field` of a body, when present and not null, is an integer
/// from 1 to 12. Runs before [`decode`], so that an out-of-range grade gets a
/// precise location even when it does not fit the model's `u8`.
pub(crate) fn check_grade(body: &Value, field: &str) -> Option<ValidationIssue> {
    let value = body.get(field).filter(|value| !value.is_null())?;
    match value.as_u64() {
        Some(1..=12) => None,
        _ => Some(ValidationIssue::body_field(
            field,
            format!("{field} must be an integer from 1 to 12, got {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    fn detail(error: ApiError) -> Value {
        error.body["detail"][0].clone()
    }

    #[test]
    fn malformed_json_is_json_invalid() {
        let error = parse_json(b"{not json").expect_err("body is malformed");
        assert_eq!(detail(error)["type"], "json_invalid");
    }

    #[test]
    fn empty_body_is_missing() {
        let error = parse_json(b"").expect_err("body is empty");
        assert_eq!(detail(error)["type"], "missing");
    }

    #[test]
    fn missing_field_located_in_body() {
        let error = decode::<Sample>(json!({"name": "x"})).expect_err("count is missing");
        assert_eq!(detail(error)["loc"], json!(["body", "count"]));
    }

    #[test]
    fn wrong_type_is_value_error() {
        let error = decode::<Sample>(json!({"name": "x", "count": "y"})).expect_err("bad type");
        assert_eq!(detail(error)["type"], "value_error");
    }

    #[test]
    fn grade_range_table() {
        let cases = [
            (json!({}), true),
            (json!({"grade_level": null}), true),
            (json!({"grade_level": 1}), true),
            (json!({"grade_level": 12}), true),
            (json!({"grade_level": 0}), false),
            (json!({"grade_level": 13}), false),
            (json!({"grade_level": 300}), false),
            (json!({"grade_level": -1}), false),
            (json!({"grade_level": "7"}), false),
        ];
        for (body, valid) in cases {
            assert_eq!(check_grade(&body, "grade_level").is_none(), valid, "{body}");
        }
    }
}
