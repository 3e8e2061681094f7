//! Accounts and tokens.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use super::string_enum::string_enum;

string_enum! {
    /// The role of an account.
    pub enum Role {
        /// A learner who takes quizzes.
        Student => "student",
        /// A teacher who generates content and creates quizzes.
        Teacher => "teacher",
        /// An administrator.
        Admin => "admin",
        /// A parent who follows a learner's progress.
        Parent => "parent",
    }
}

/// Serializes a secret as its plain value: only request bodies use this.
pub(crate) fn serialize_secret<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn serialize_optional_secret<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// Body of `POST /auth/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Email address, which is also the login name.
    pub email: String,
    /// Password, never printed by `Debug`.
    #[serde(serialize_with = "serialize_secret")]
    pub password: SecretString,
    /// Display name.
    pub name: String,
    /// Role of the new account.
    pub role: Role,
    /// School grade, 1 to 12, for students.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_level: Option<u8>,
}

impl RegisterRequest {
    /// Creates a registration for `email` with the given password, name and role.
    pub fn new(
        email: impl Into<String>,
        password: impl Into<String>,
        name: impl Into<String>,
        role: Role,
    ) -> Self {
        Self {
            email: email.into(),
            password: SecretString::from(password.into()),
            name: name.into(),
            role,
            grade_level: None,
        }
    }

    /// Sets the school grade (1 to 12).
    pub fn grade_level(mut self, grade_level: u8) -> Self {
        self.grade_level = Some(grade_level);
        self
    }
}

/// Body of `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Email address of the account.
    pub email: String,
    /// Password, never printed by `Debug`.
    #[serde(serialize_with = "serialize_secret")]
    pub password: SecretString,
}

/// Body of `POST /auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token issued at login or by the last refresh.
    #[serde(serialize_with = "serialize_secret")]
    pub refresh_token: SecretString,
}

/// An account as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Server-assigned id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Role of the account.
    pub role: Role,
    /// School grade, for students.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_level: Option<u8>,
    /// When the account was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Response of login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Bearer token for API calls.
    #[serde(serialize_with = "serialize_secret")]
    pub access_token: SecretString,
    /// Token that obtains a new access token. Some servers send none at
    /// login, and a refresh may omit it when it does not rotate it.
    #[serde(
        default,
        serialize_with = "serialize_optional_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token: Option<SecretString>,
    /// Token scheme; servers send `Bearer` or `bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Lifetime of the access token in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The account, sent on login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}
