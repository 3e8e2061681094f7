//! The rules for following redirects.
//!
//! reqwest's own redirect handling is off, because its policy cannot see the
//! request method. It would resend a POST redirected by a 301 or 302 as a
//! GET without the body, and the call could then succeed without its write.
//! The transport follows a redirect itself when it stays within
//! the origin (scheme, host and port) of the request and keeps the method
//! and body: any 307 or 308, and a 301, 302 or 303 of a GET or HEAD.

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use url::Url;

/// Maximum redirects followed within one attempt.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Returns the URL to send the same request to next, or why the redirect
/// from `current` is not followed.
pub(super) fn next_hop(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
    current: &Url,
) -> Result<Url, String> {
    let reason = status.canonical_reason().unwrap_or("redirect");
    let keeps_method = matches!(status.as_u16(), 307 | 308);
    let turns_into_get = matches!(status.as_u16(), 301..=303);
    if !keeps_method && !turns_into_get {
        return Err(format!("{} {reason} was not expected", status.as_u16()));
    }
    let Some(location) = headers.get(LOCATION) else {
        return Err(format!(
            "{} {reason} without a Location header",
            status.as_u16()
        ));
    };
    let location = String::from_utf8_lossy(location.as_bytes());
    let Ok(next) = current.join(&location) else {
        return Err(format!(
            "{} {reason} to a Location that is not a valid URL",
            status.as_u16()
        ));
    };
    if next.origin() != current.origin() {
        return Err(format!(
            "redirect to {} was not followed: the client follows redirects only \
             within the scheme, host and port of the request",
            display_url(&next)
        ));
    }
    if turns_into_get && !matches!(*method, Method::GET | Method::HEAD) {
        return Err(format!(
            "redirect to {} was not followed: a {} would resend the {method} as a \
             GET without its body",
            display_url(&next),
            status.as_u16()
        ));
    }
    Ok(next)
}

/// Returns a URL for an error message without its user info, query and
/// fragment, where a server-chosen Location could carry a secret.
pub(super) fn display_url(url: &Url) -> String {
    let mut redacted = url.clone();
    redacted.set_query(None);
    redacted.set_fragment(None);
    // Only URLs that cannot be a base reject these, and a redirect target
    // joined onto an HTTP URL always can.
    let _ = redacted.set_username("");
    let _ = redacted.set_password(None);
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn hop(method: Method, status: u16, location: Option<&str>) -> Result<Url, String> {
        let mut headers = HeaderMap::new();
        if let Some(location) = location {
            headers.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        }
        let current = Url::parse("http://127.0.0.1:8008/api/quiz/q1").unwrap();
        next_hop(
            &method,
            StatusCode::from_u16(status).unwrap(),
            &headers,
            &current,
        )
    }

    #[test]
    fn followed_redirects() {
        let cases = [
            (Method::GET, 301, "/api/quiz/q2"),
            (Method::GET, 302, "q2"),
            (Method::GET, 303, "http://127.0.0.1:8008/api/quiz/q2"),
            (Method::POST, 307, "/api/quiz/q2"),
            (Method::POST, 308, "/api/quiz/q2"),
        ];
        for (method, status, location) in cases {
            let next = hop(method.clone(), status, Some(location));
            assert_eq!(
                next.map(String::from),
                Ok("http://127.0.0.1:8008/api/quiz/q2".to_owned()),
                "{method} {status} {location}"
            );
        }
    }

    #[test]
    fn refused_redirects_name_their_cause() {
        let cases = [
            (Method::POST, 301, Some("/api/quiz/q2"), "without its body"),
            (Method::POST, 302, Some("/api/quiz/q2"), "without its body"),
            (
                Method::GET,
                302,
                Some("http://127.0.0.1:9/x"),
                "scheme, host and port",
            ),
            (
                Method::GET,
                307,
                Some("https://127.0.0.1:8008/x"),
                "scheme, host and port",
            ),
            (Method::GET, 302, None, "without a Location"),
            (Method::GET, 302, Some("http://[::1"), "not a valid URL"),
            (
                Method::GET,
                304,
                Some("/api/quiz/q2"),
                "304 Not Modified was not expected",
            ),
            (Method::GET, 300, Some("/api/quiz/q2"), "was not expected"),
        ];
        for (method, status, location, expected) in cases {
            let reason = hop(method.clone(), status, location).unwrap_err();
            assert!(
                reason.contains(expected),
                "{method} {status} {location:?}: {reason}"
            );
        }
    }

    #[test]
    fn refusal_hides_query_and_user_info() {
        let location = "http://user:pass@127.0.0.1:9/x?token=secret#part";
        let reason = hop(Method::GET, 302, Some(location)).unwrap_err();
        assert!(reason.contains("http://127.0.0.1:9/x "), "{reason}");
        assert!(!reason.contains("secret"), "{reason}");
        assert!(!reason.contains("pass"), "{reason}");
    }
}
