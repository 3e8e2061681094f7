//! JWT-shaped access and refresh tokens.
//!
//! A token is `base64url(header).base64url(payload).base64url(random)`
//! without padding. The payload is `{"sub", "type", "exp", "iat", "jti"}`,
//! with `type` either `access` or `refresh` and times in Unix seconds. The
//! header names HS256 like the real backend does, but the third part is
//! random bytes, not a signature: the mock validates a token by looking it up
//! in its own table and checking its expiry and the expire flag.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use uuid::Uuid;

/// Whether a token authenticates requests or obtains new tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// The reason a token was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// Unknown, of the wrong kind, or a refresh token already used.
    Invalid,
    /// Past its `exp`, or expired by `MockServer::expire_access_tokens`.
    Expired,
}

#[derive(Debug)]
struct TokenRecord {
    user_id: String,
    kind: TokenKind,
    expires_at: SystemTime,
    force_expired: bool,
    used: bool,
}

/// Every token the mock has issued.
#[derive(Debug, Default)]
pub(crate) struct TokenTable {
    tokens: HashMap<String, TokenRecord>,
}

impl TokenTable {
    /// Issues a token of `kind` for `user_id`, valid for `lifetime` from `now`.
    pub(crate) fn issue(
        &mut self,
        user_id: &str,
        kind: TokenKind,
        lifetime: Duration,
        now: SystemTime,
    ) -> String {
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        let token = encode_token(user_id, kind, unix_seconds(now), unix_seconds(expires_at));
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                user_id: user_id.to_owned(),
                kind,
                expires_at,
                force_expired: false,
                used: false,
            },
        );
        token
    }

    /// Returns the user id of a valid access token.
    pub(crate) fn validate_access(&self, token: &str, now: SystemTime) -> Result<&str, TokenError> {
        let record = self.tokens.get(token).ok_or(TokenError::Invalid)?;
        if record.kind != TokenKind::Access {
            return Err(TokenError::Invalid);
        }
        if record.force_expired || now >= record.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(&record.user_id)
    }

    /// Returns the user id of an access token this mock issued, whether or
    /// not it has expired.
    pub(crate) fn access_owner(&self, token: &str) -> Option<&str> {
        let record = self.tokens.get(token)?;
        (record.kind == TokenKind::Access).then_some(record.user_id.as_str())
    }

    /// Marks a valid refresh token as used and returns its user id, so that
    /// each refresh token works exactly once.
    pub(crate) fn redeem_refresh(
        &mut self,
        token: &str,
        now: SystemTime,
    ) -> Result<String, TokenError> {
        let record = self.tokens.get_mut(token).ok_or(TokenError::Invalid)?;
        if record.kind != TokenKind::Refresh || record.used {
            return Err(TokenError::Invalid);
        }
        if now >= record.expires_at {
            return Err(TokenError::Expired);
        }
        record.used = true;
        Ok(record.user_id.clone())
    }

    /// Expires every access token issued so far.
    pub(crate) fn expire_access_tokens(&mut self) {
        for record in self.tokens.values_mut() {
            if record.kind == TokenKind::Access {
                record.force_expired = true;
            }
        }
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

fn encode_token(user_id: &str, kind: TokenKind, issued_at: u64, expires_at: u64) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let payload = json!({
        "sub": user_id,
        "type": kind.as_str(),
        "exp": expires_at,
        "iat": issued_at,
        "jti": Uuid::new_v4().to_string(),
    });
    let mut random = Vec::with_capacity(32);
    random.extend_from_slice(Uuid::new_v4().as_bytes());
    random.extend_from_slice(Uuid::new_v4().as_bytes());
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(random)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn decode_payload(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).expect("token has a payload");
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .expect("payload is base64url");
        serde_json::from_slice(&bytes).expect("payload is JSON")
    }

    #[test]
    fn token_has_three_unpadded_parts() {
        let mut table = TokenTable::default();
        let token = table.issue("user-1", TokenKind::Access, HOUR, SystemTime::now());
        assert_eq!(token.split('.').count(), 3);
        assert!(!token.contains('='));
    }

    #[test]
    fn token_payload_carries_claims() {
        let mut table = TokenTable::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let token = table.issue("user-1", TokenKind::Refresh, HOUR, now);
        let payload = decode_payload(&token);
        assert_eq!(payload["sub"], "user-1");
        assert_eq!(payload["type"], "refresh");
        assert_eq!(payload["iat"], 1_000_000);
        assert_eq!(payload["exp"], 1_003_600);
        assert!(payload["jti"].is_string());
    }

    #[test]
    fn access_token_valid_before_expiry() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Access, HOUR, now);
        assert_eq!(table.validate_access(&token, now), Ok("user-1"));
    }

    #[test]
    fn access_token_expires_after_lifetime() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Access, HOUR, now);
        let later = now + HOUR;
        assert_eq!(
            table.validate_access(&token, later),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn expire_flag_expires_issued_access_tokens() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Access, HOUR, now);
        table.expire_access_tokens();
        assert_eq!(table.validate_access(&token, now), Err(TokenError::Expired));
    }

    #[test]
    fn expire_flag_spares_later_tokens() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        table.expire_access_tokens();
        let token = table.issue("user-1", TokenKind::Access, HOUR, now);
        assert_eq!(table.validate_access(&token, now), Ok("user-1"));
    }

    #[test]
    fn refresh_token_rejected_as_access_token() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Refresh, HOUR, now);
        assert_eq!(table.validate_access(&token, now), Err(TokenError::Invalid));
    }

    #[test]
    fn refresh_token_works_once() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Refresh, HOUR, now);
        assert_eq!(table.redeem_refresh(&token, now), Ok("user-1".to_owned()));
        assert_eq!(table.redeem_refresh(&token, now), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_refresh_token_rejected() {
        let mut table = TokenTable::default();
        let now = SystemTime::now();
        let token = table.issue("user-1", TokenKind::Refresh, HOUR, now);
        let later = now + HOUR * 2;
        assert_eq!(
            table.redeem_refresh(&token, later),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn unknown_token_rejected() {
        let table = TokenTable::default();
        let result = table.validate_access("a.b.c", SystemTime::now());
        assert_eq!(result, Err(TokenError::Invalid));
    }
}
