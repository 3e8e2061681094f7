//! Registration, login and the tokens of a session.

mod jwt;
mod tokens;

use secrecy::SecretString;

use crate::client::Client;
use crate::error::Result;
use crate::models::{LoginRequest, RegisterRequest, TokenResponse, User};
use crate::transport::Call;

pub use tokens::Tokens;
pub(crate) use tokens::{Session, TokenStore};

/// Registers accounts, logs in and manages the session's tokens.
///
/// Every manager of a client shares the tokens stored here, so a login
/// through one is seen by all.
///
/// ```no_run
/// # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
/// let session = client.auth().login("student@example.com", "StudentPass123!").await?;
/// println!("logged in as {:?}", session.user.map(|user| user.name));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AuthManager {
    client: Client,
}

impl AuthManager {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Creates an account with `POST /auth/register` and returns it. The
    /// session's tokens do not change.
    ///
    /// # Errors
    ///
    /// [`APIError::Validation`](crate::APIError::Validation) for a taken email
    /// (409) or invalid fields (422), and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn register(&self, request: &RegisterRequest) -> Result<User> {
        let call = Call::post(&["auth", "register"], request)?.anonymous();
        self.client.send(call).await
    }

    /// Logs in with `POST /auth/login`, stores the tokens and returns the
    /// server's response, which includes the user.
    ///
    /// # Errors
    ///
    /// [`APIError::Authentication`](crate::APIError::Authentication) for wrong
    /// credentials, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn login(&self, email: &str, password: &str) -> Result<TokenResponse> {
        let request = LoginRequest {
            email: email.to_owned(),
            password: SecretString::from(password.to_owned()),
        };
        let call = Call::post(&["auth", "login"], &request)?.anonymous();
        let response: TokenResponse = self.client.send(call).await?;
        self.client
            .transport()
            .tokens
            .set(Tokens::from_response(&response, None))
            .map_err(crate::transport::server_sent_bad_token)?;
        Ok(response)
    }

    /// Obtains a new access token with `POST /auth/refresh`, sending the
    /// refresh token in the body and the current bearer token in the header,
    /// and stores the result. A rotated refresh token replaces the old one.
    ///
    /// # Errors
    ///
    /// [`APIError::Authentication`](crate::APIError::Authentication) when no
    /// refresh token is stored or the server rejects it.
    pub async fn refresh(&self) -> Result<Tokens> {
        let transport = self.client.transport();
        let session = transport.tokens.session().ok_or_else(|| {
            crate::APIError::authentication("not logged in: there is no token to refresh")
        })?;
        let refreshed = transport.refresh_session(session.generation, true).await?;
        Ok(refreshed.tokens.clone())
    }

    /// Forgets the session's tokens. The protocol has no logout call, so the
    /// server keeps the tokens valid until they expire.
    ///
    /// An open [`WebSocketClient`](crate::WebSocketClient) stays connected
    /// with the identity it authenticated with, and keeps receiving that
    /// user's events: call its `disconnect` as well.
    pub fn logout(&self) {
        self.client.transport().tokens.clear();
    }

    /// Returns the session's tokens, for saving a login, or `None` when
    /// logged out.
    pub fn tokens(&self) -> Option<Tokens> {
        self.client
            .transport()
            .tokens
            .session()
            .map(|session| session.tokens.clone())
    }

    /// Restores saved tokens, replacing the current ones.
    ///
    /// # Errors
    ///
    /// [`APIError::InvalidInput`](crate::APIError::InvalidInput) when the
    /// access token contains characters not allowed in an HTTP header.
    pub fn restore_tokens(&self, tokens: Tokens) -> Result<()> {
        self.client.transport().tokens.set(tokens).map(|_| ())
    }

    /// Returns whether tokens are stored.
    pub fn is_logged_in(&self) -> bool {
        self.client.transport().tokens.session().is_some()
    }
}
