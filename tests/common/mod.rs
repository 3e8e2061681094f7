//! Helpers shared by the integration tests: the embedded mock server, demo
//! accounts, and the choice between the mock and a live server.

#![allow(dead_code)]

use toolboxai::mock::MockServer;
use toolboxai::Client;

pub const STUDENT: (&str, &str) = ("student@example.com", "StudentPass123!");
pub const TEACHER: (&str, &str) = ("teacher@example.com", "TeacherPass123!");
pub const TEST_TEACHER: (&str, &str) = ("test@example.com", "TestPass123!");

/// Starts a mock server and a client pointed at it.
pub async fn start() -> (MockServer, Client) {
    let server = MockServer::start().await.expect("mock server starts");
    let client = Client::builder()
        .base_url(server.url())
        .ws_url(server.ws_url())
        .build()
        .expect("client builds");
    (server, client)
}

/// Starts a mock server and a client logged in with `account`.
pub async fn start_as(account: (&str, &str)) -> (MockServer, Client) {
    let (server, client) = start().await;
    login(&client, account).await;
    (server, client)
}

/// Logs `client` in with `account`.
pub async fn login(client: &Client, account: (&str, &str)) {
    client
        .auth()
        .login(account.0, account.1)
        .await
        .expect("demo login succeeds");
}

/// Environment variable with the base URL of a live server. When it is set,
/// the workflow tests run against that server instead of the mock.
pub const LIVE_URL_VAR: &str = "TOOLBOXAI_LIVE_URL";
/// Environment variable with the email of a teacher account on the live
/// server.
pub const LIVE_EMAIL_VAR: &str = "TOOLBOXAI_LIVE_EMAIL";
/// Environment variable with that account's password.
pub const LIVE_PASSWORD_VAR: &str = "TOOLBOXAI_LIVE_PASSWORD";
/// Optional environment variable with the live server's API path prefix,
/// such as `/api/v1`. Default is the client's `/api`.
pub const LIVE_API_PREFIX_VAR: &str = "TOOLBOXAI_LIVE_API_PREFIX";

/// Where a test that can run against a live server runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded mock, logged in with a demo account.
    Mock,
    /// A live server, logged in with the given teacher account.
    Live {
        url: String,
        email: String,
        password: String,
    },
    /// The live URL is set but a credential is missing, so the test cannot
    /// run. The message names the missing variables.
    Skip(String),
}

impl Backend {
    /// Chooses the backend from the values of [`LIVE_URL_VAR`],
    /// [`LIVE_EMAIL_VAR`] and [`LIVE_PASSWORD_VAR`]. An empty value counts
    /// as unset.
    pub fn select(url: Option<String>, email: Option<String>, password: Option<String>) -> Self {
        let present = |value: Option<String>| value.filter(|value| !value.is_empty());
        let Some(url) = present(url) else {
            return Self::Mock;
        };
        let missing: Vec<&str> = [(LIVE_EMAIL_VAR, &email), (LIVE_PASSWORD_VAR, &password)]
            .into_iter()
            .filter(|(_, value)| value.as_deref().is_none_or(str::is_empty))
            .map(|(name, _)| name)
            .collect();
        match (present(email), present(password)) {
            (Some(email), Some(password)) => Self::Live {
                url,
                email,
                password,
            },
            _ => Self::Skip(format!(
                "{LIVE_URL_VAR} is set but {} {} missing; set the credentials of a teacher \
                 account on {url}",
                missing.join(" and "),
                if missing.len() == 1 { "is" } else { "are" }
            )),
        }
    }

    /// Chooses the backend from the process environment.
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok();
        Self::select(
            read(LIVE_URL_VAR),
            read(LIVE_EMAIL_VAR),
            read(LIVE_PASSWORD_VAR),
        )
    }
}

/// A client logged in as a teacher, and the mock it talks to when there is
/// one. The mock stops when this is dropped.
pub struct TeacherSession {
    pub client: Client,
    pub server: Option<MockServer>,
}

/// Logs in as a teacher on the backend that [`Backend::from_env`] chooses:
/// the live server's account when [`LIVE_URL_VAR`] is set, and otherwise
/// `mock_account` on a fresh mock. Returns `None` after printing the reason
/// to stderr when the test has to be skipped.
pub async fn teacher_session(test: &str, mock_account: (&str, &str)) -> Option<TeacherSession> {
    match Backend::from_env() {
        Backend::Mock => {
            let (server, client) = start_as(mock_account).await;
            Some(TeacherSession {
                client,
                server: Some(server),
            })
        }
        Backend::Live {
            url,
            email,
            password,
        } => {
            let mut builder = Client::builder().base_url(url.as_str());
            if let Ok(prefix) = std::env::var(LIVE_API_PREFIX_VAR) {
                builder = builder.api_prefix(prefix);
            }
            let client = builder.build().expect("client for the live server builds");
            client
                .auth()
                .login(&email, &password)
                .await
                .unwrap_or_else(|error| panic!("login as {email} on {url} failed: {error}"));
            Some(TeacherSession {
                client,
                server: None,
            })
        }
        Backend::Skip(reason) => {
            eprintln!("skipping {test}: {reason}");
            None
        }
    }
}

/// Log output of every level, collected in memory while a test runs.
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Sends every log event of the current thread here, at TRACE level and
    /// without colours, until the returned guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Returns everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
