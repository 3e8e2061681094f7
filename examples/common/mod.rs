//! Set-up shared by the examples: logging and the server to talk to.

use std::io::IsTerminal;
use std::process::ExitCode;

use toolboxai::mock::MockServer;
use toolboxai::{Client, RegisterRequest, Role};

/// Installs a log subscriber that follows `RUST_LOG` (default `warn`), so
/// `RUST_LOG=toolboxai=debug` shows every request and retry. Colours are
/// used only when standard error is a terminal.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The server an example runs against.
pub struct Target {
    /// A client for the server.
    pub client: Client,
    /// Whether the WebSocket URL is known (always for the embedded mock).
    #[allow(dead_code)]
    pub has_websocket: bool,
    /// HTTP base URL of the server, for building more clients.
    base_url: String,
    /// WebSocket URL of the server, when known.
    ws_url: Option<String>,
    /// The embedded mock, kept alive for the example's duration.
    mock: Option<MockServer>,
}

// Each example compiles this module on its own and uses only some helpers,
// so the helpers allow dead code.
impl Target {
    /// Returns the embedded mock, or `None` against a live server.
    #[allow(dead_code)]
    pub fn mock(&self) -> Option<&MockServer> {
        self.mock.as_ref()
    }

    /// Builds another client for the same server. It starts logged out and
    /// shares nothing with [`Target::client`], as a second process would.
    #[allow(dead_code)]
    pub fn new_client(&self) -> toolboxai::Result<Client> {
        let mut builder = Client::builder().base_url(self.base_url.as_str());
        if let Some(ws_url) = &self.ws_url {
            builder = builder.ws_url(ws_url.as_str());
        }
        builder.build()
    }
}

/// Connects to `TOOLBOXAI_BASE_URL` (and `TOOLBOXAI_WS_URL`) when set, and
/// otherwise starts the embedded mock server on a free local port.
pub async fn connect() -> toolboxai::Result<Target> {
    if let Ok(base_url) = std::env::var("TOOLBOXAI_BASE_URL") {
        let ws_url = std::env::var("TOOLBOXAI_WS_URL").ok();
        let mut builder = Client::builder().base_url(base_url.as_str());
        if let Some(ws_url) = &ws_url {
            builder = builder.ws_url(ws_url.as_str());
        }
        println!("Using the server at {base_url}");
        return Ok(Target {
            client: builder.build()?,
            has_websocket: ws_url.is_some(),
            base_url,
            ws_url,
            mock: None,
        });
    }

    let mock = MockServer::start().await.map_err(|error| {
        toolboxai::APIError::Configuration(format!("mock server could not start: {error}"))
    })?;
    println!("Started the embedded mock server at {}", mock.url());
    let client = Client::builder()
        .base_url(mock.url())
        .ws_url(mock.ws_url())
        .build()?;
    Ok(Target {
        client,
        has_websocket: true,
        base_url: mock.url(),
        ws_url: Some(mock.ws_url()),
        mock: Some(mock),
    })
}

/// Runs an example's body, printing the error and its protocol code and
/// exiting with a failure status when it fails.
#[allow(dead_code)]
pub fn exit_code(example: &str, result: toolboxai::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{example} failed: {error}");
            eprintln!("error code: {}", error.code());
            ExitCode::FAILURE
        }
    }
}

/// Returns an email address that differs on every run, such as
/// `teacher-1a2b3c4d@example.com`, so an example can register accounts
/// again against the same server.
#[allow(dead_code)]
pub fn unique_email(prefix: &str) -> String {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{prefix}-{suffix}@example.com")
}

/// Password of the accounts that [`register`] creates.
#[allow(dead_code)]
pub const PASSWORD: &str = "ExamplePass123!";

/// Registers an account with a unique email and [`PASSWORD`], and returns
/// the email. Students are registered in grade 7. The client's login does
/// not change.
#[allow(dead_code)]
pub async fn register(client: &Client, name: &str, role: Role) -> toolboxai::Result<String> {
    let email = unique_email(role.as_str());
    let mut request = RegisterRequest::new(&email, PASSWORD, name, role.clone());
    if role == Role::Student {
        request = request.grade_level(7);
    }
    client.auth().register(&request).await?;
    Ok(email)
}
