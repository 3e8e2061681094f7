//! Reading the `exp` claim of a JWT without verifying it.
//!
//! The client only uses the claim to refresh a token before it expires; the
//! server remains the judge of whether a token is valid.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Returns the expiry of a JWT, or `None` for a token that is not a JWT or
/// has no numeric `exp` claim.
pub(crate) fn expiry(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp < 0.0 {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(exp.min(1e12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with_payload(payload: &str) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn expiry_reads_exp_claim() {
        let token = token_with_payload(r#"{"exp": 2000000000}"#);
        assert_eq!(
            expiry(&token),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
    }

    #[test]
    fn expiry_cases_without_claim() {
        let cases = [
            ("opaque token", "not-a-jwt".to_owned()),
            ("no exp", token_with_payload(r#"{"sub": "u1"}"#)),
            ("string exp", token_with_payload(r#"{"exp": "soon"}"#)),
            ("negative exp", token_with_payload(r#"{"exp": -5}"#)),
            ("payload not json", token_with_payload("}{")),
            ("four parts", "a.b.c.d".to_owned()),
        ];
        for (case, token) in cases {
            assert_eq!(expiry(&token), None, "{case}");
        }
    }
}
