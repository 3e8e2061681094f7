//! Requests as the mock received them.

/// One request the mock received, recorded before faults and routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method, such as `POST`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string without the leading `?`, when the request had one.
    pub query: Option<String>,
    /// Headers in the order received, with lowercase names. Values that are
    /// not valid UTF-8 are stored with replacement characters.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// Returns the first value of the header `name`, compared without regard
    /// to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Parses the body as JSON, returning `None` when it is empty or not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RecordedRequest {
        RecordedRequest {
            method: "POST".to_owned(),
            path: "/api/auth/login".to_owned(),
            query: None,
            headers: vec![("idempotency-key".to_owned(), "abc".to_owned())],
            body: br#"{"email":"a@b.c"}"#.to_vec(),
        }
    }

    #[test]
    fn header_lookup_ignores_case() {
        assert_eq!(request().header("Idempotency-Key"), Some("abc"));
    }

    #[test]
    fn header_lookup_returns_none_when_absent() {
        assert_eq!(request().header("authorization"), None);
    }

    #[test]
    fn json_parses_body() {
        let body = request().json().expect("body is JSON");
        assert_eq!(body["email"], "a@b.c");
    }
}
