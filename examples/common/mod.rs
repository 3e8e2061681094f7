//! Set-up shared by the examples: logging and the server to talk to.

use toolboxai::mock::MockServer;
use toolboxai::Client;

/// Installs a log subscriber that follows `RUST_LOG` (default `warn`), so
/// `RUST_LOG=toolboxai=debug` shows every request and retry.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The server an example runs against.
pub struct Target {
    /// A client for the server.
    pub client: Client,
    /// Whether the WebSocket URL is known (always for the embedded mock).
    #[allow(dead_code)]
    pub has_websocket: bool,
    /// The embedded mock, kept alive for the example's duration.
    _mock: Option<MockServer>,
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
            _mock: None,
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
        _mock: Some(mock),
    })
}
