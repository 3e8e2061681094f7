//! The entry point: [`Client`] and its builder.

mod builder;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use builder::ClientBuilder;

use crate::auth::AuthManager;
use crate::content::ContentGenerator;
use crate::error::Result;
use crate::progress::ProgressTracker;
use crate::quiz::QuizManager;
use crate::transport::{Call, RetryPolicy, Transport};
use crate::websocket::{WebSocketClient, WebSocketConfig};

/// Default HTTP base URL of a local ToolboxAI server.
pub const DEFAULT_BASE_URL: &str = "http://localhost:8008";
/// Default WebSocket URL of a local ToolboxAI server.
pub const DEFAULT_WS_URL: &str = "ws://localhost:9876/ws/connect";
/// Default path prefix of every API call.
pub const DEFAULT_API_PREFIX: &str = "/api";

/// A ToolboxAI API client.
///
/// Cheap to clone: clones share one connection pool and one login. Hand out
/// the managers with [`Client::auth`], [`Client::content`],
/// [`Client::quizzes`] and [`Client::progress`].
///
/// ```no_run
/// # async fn run() -> toolboxai::Result<()> {
/// use toolboxai::Client;
///
/// let client = Client::builder().base_url("http://localhost:8008").build()?;
/// client.auth().login("teacher@example.com", "TeacherPass123!").await?;
/// let quiz = client.quizzes().get("quiz-1").await?;
/// println!("{} has {} points", quiz.title, quiz.total_points);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
    overrides: CallOverrides,
}

#[derive(Debug)]
pub(crate) struct ClientInner {
    pub(crate) transport: Arc<Transport>,
    pub(crate) ws_url: Url,
    content_timeout: Duration,
    websocket: WebSocketConfig,
}

/// Settings of one client handle that replace the client's for its calls.
#[derive(Debug, Clone, Default)]
struct CallOverrides {
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
}

impl Client {
    /// Returns a builder with the defaults of a local server.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Creates a client for `base_url` with every other setting at its default.
    ///
    /// # Errors
    ///
    /// [`APIError::Configuration`](crate::APIError::Configuration) when
    /// `base_url` is not an absolute `http` or `https` URL, or is plain `http`
    /// to a host that is not loopback.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::builder().base_url(base_url).build()
    }

    /// Returns the manager for registration, login and tokens.
    pub fn auth(&self) -> AuthManager {
        AuthManager::new(self.clone())
    }

    /// Returns the manager for AI content generation.
    pub fn content(&self) -> ContentGenerator {
        ContentGenerator::new(self.clone())
    }

    /// Returns the manager for quizzes.
    pub fn quizzes(&self) -> QuizManager {
        QuizManager::new(self.clone())
    }

    /// Returns the manager for course progress and analytics.
    pub fn progress(&self) -> ProgressTracker {
        ProgressTracker::new(self.clone())
    }

    /// Returns a new WebSocket client for the configured WebSocket URL, not
    /// yet connected. It authenticates with this client's tokens and
    /// refreshes them through [`Client::auth`]. Each call returns a client
    /// with a connection of its own.
    pub fn websocket(&self) -> WebSocketClient {
        WebSocketClient::new(self.clone(), self.inner.websocket.clone())
    }

    /// Returns the configured WebSocket URL.
    pub fn ws_url(&self) -> &Url {
        &self.inner.ws_url
    }

    /// Returns a handle whose calls use `timeout` per attempt, content
    /// generation included. The handle shares the connection pool and login.
    ///
    /// ```no_run
    /// # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
    /// use std::time::Duration;
    ///
    /// let quick = client.with_request_timeout(Duration::from_secs(2));
    /// let quiz = quick.quizzes().get("quiz-1").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_request_timeout(&self, timeout: Duration) -> Client {
        let mut client = self.clone();
        client.overrides.timeout = Some(timeout);
        client
    }

    /// Returns a handle whose calls follow `policy`, such as
    /// [`RetryPolicy::none`] for a call that must fail fast. The handle shares
    /// the connection pool, the login and the retry budget.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        let mut client = self.clone();
        client.overrides.retry = Some(policy);
        client
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn content_timeout(&self) -> Duration {
        self.inner.content_timeout
    }

    /// Sends a call with this handle's overrides applied.
    pub(crate) async fn send<T: serde::de::DeserializeOwned>(&self, mut call: Call) -> Result<T> {
        if let Some(timeout) = self.overrides.timeout {
            call.timeout = Some(timeout);
        }
        if let Some(policy) = &self.overrides.retry {
            call.retry = Some(policy.clone());
        }
        self.inner.transport.send(call).await
    }
}
