//! The mock server handle and its builder.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::fault::{Fault, RandomFaultKind, RandomFaults};
use super::handlers::router;
use super::record::RecordedRequest;
use super::serve::spawn_listener;
use super::state::{lock, Shared, Store};
use super::ws::{envelope, SocketHub, MALFORMED_FRAME};
use crate::models::Quiz;

/// Maximum token lifetime: 100 years.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// How long `shutdown` waits for open WebSockets to send their close frame.
const SOCKET_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A running mock of the ToolboxAI API.
///
/// Dropping the handle stops accepting connections, aborts the HTTP
/// connections in progress and closes open WebSockets with code 1001.
pub struct MockServer {
    shared: Arc<Shared>,
    sockets: Arc<SocketHub>,
    http_addr: SocketAddr,
    ws_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("http_addr", &self.http_addr)
            .field("ws_addr", &self.ws_addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a mock with default settings on `127.0.0.1` and a free port.
    ///
    /// # Errors
    ///
    /// Returns the error of binding the listener.
    pub async fn start() -> std::io::Result<Self> {
        Self::builder().start().await
    }

    /// Returns a builder for a mock with custom addresses, token lifetimes
    /// or API prefix.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234`, without a
    /// trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Returns the WebSocket URL, `ws://<addr>/ws/connect`, on the separate
    /// WebSocket listener when one was bound and on the HTTP listener
    /// otherwise.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/connect", self.ws_addr.unwrap_or(self.http_addr))
    }

    /// Returns the address of the HTTP listener.
    pub fn local_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Queues a fault after the faults already queued.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Removes every queued fault. Random faults stay on.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Applies `faults` at random to requests that no queued fault matches,
    /// replacing earlier random faults and restarting their random sequence.
    pub fn set_random_faults(&self, faults: RandomFaults) {
        lock(&self.shared.faults).set_random(Some(faults));
    }

    /// Turns random faults off. Queued faults stay.
    pub fn clear_random_faults(&self) {
        lock(&self.shared.faults).set_random(None);
    }

    /// Returns how many random faults of `kind` were applied since the
    /// start, across every [`MockServer::set_random_faults`].
    pub fn random_fault_count(&self, kind: RandomFaultKind) -> u64 {
        lock(&self.shared.faults).random_count(kind)
    }

    /// Returns every request received so far, in arrival order, including
    /// requests that a fault handled or dropped.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Expires every access token issued so far: requests with one get 401
    /// `Token has expired`. Tokens issued later are not affected.
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.store).tokens.expire_access_tokens();
    }

    /// Sets the lifetime of access tokens issued from now on. Values above
    /// 100 years are lowered to 100 years.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        lock(&self.shared.store).access_token_lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
    }

    /// Returns the number of quizzes stored.
    pub fn quiz_count(&self) -> usize {
        lock(&self.shared.store).quizzes.len()
    }

    /// Returns the number of submissions stored for the quiz `quiz_id`.
    pub fn submission_count(&self, quiz_id: &str) -> usize {
        let store = lock(&self.shared.store);
        store
            .submissions
            .iter()
            .filter(|submission| submission.quiz_id == quiz_id)
            .count()
    }

    /// Returns the submissions stored for the quiz `quiz_id`, in the order
    /// they were scored.
    pub fn submissions_for(&self, quiz_id: &str) -> Vec<StoredSubmission> {
        let store = lock(&self.shared.store);
        store
            .submissions
            .iter()
            .filter(|submission| submission.quiz_id == quiz_id)
            .map(|submission| StoredSubmission {
                user_id: submission.user_id.clone(),
                quiz_id: submission.quiz_id.clone(),
                percentage: submission.percentage,
                passed: submission.passed,
                time_taken: submission.time_taken,
            })
            .collect()
    }

    /// Returns every stored quiz, with correct answers, in no particular
    /// order.
    pub fn quizzes(&self) -> Vec<Quiz> {
        lock(&self.shared.store).quizzes.values().cloned().collect()
    }

    /// Returns the number of successful `POST /api/auth/refresh` calls.
    pub fn refresh_count(&self) -> usize {
        lock(&self.shared.store).refresh_count
    }

    /// Returns the number of WebSockets open now.
    pub fn socket_count(&self) -> usize {
        self.sockets.open_count()
    }

    /// Waits until exactly `count` WebSockets are open.
    pub async fn wait_for_socket_count(&self, count: usize) {
        self.sockets.wait_for_open(count).await;
    }

    /// Returns the number of WebSocket connections accepted since the start,
    /// closed ones included.
    pub fn socket_connections(&self) -> usize {
        self.sockets.accepted_count()
    }

    /// Waits until at least `count` WebSocket connections were accepted
    /// since the start, so a test can wait for a reconnect.
    pub async fn wait_for_socket_connections(&self, count: usize) {
        self.sockets.wait_for_accepted(count).await;
    }

    /// Returns every JSON message received from WebSocket clients, in
    /// arrival order, across all sockets.
    pub fn socket_messages(&self) -> Vec<Value> {
        self.sockets.received()
    }

    /// Waits until at least `count` JSON messages were received from
    /// WebSocket clients.
    pub async fn wait_for_socket_messages(&self, count: usize) {
        self.sockets.wait_for_received(count).await;
    }

    /// Closes the TCP connection of every open WebSocket without a close
    /// frame, as a network failure does, and returns how many it closed.
    pub fn drop_sockets(&self) -> usize {
        self.sockets.drop_all()
    }

    /// Closes every open WebSocket with a close frame carrying `code`, such
    /// as 1000, 1011 or 4001, and returns how many it closed.
    pub fn close_sockets(&self, code: u16) -> usize {
        self.sockets.close_all(code)
    }

    /// Sets whether WebSockets are silent: they stop reading, so pings go
    /// unanswered, and send nothing, events included. Connections opened
    /// while silent are silent too. Close and drop faults still apply.
    pub fn set_socket_silent(&self, silent: bool) {
        self.sockets.set_silent(silent);
    }

    /// Sends a text frame that is not JSON to every open WebSocket and
    /// returns how many it reached.
    pub fn send_malformed_frame(&self) -> usize {
        self.sockets.send_text(None, MALFORMED_FRAME.to_owned())
    }

    /// Sends a `notification {message}` event to the WebSockets of the user
    /// with email `recipient`, or to every WebSocket for `None`, and returns
    /// how many it reached.
    pub fn notify(&self, recipient: Option<&str>, message: &str) -> usize {
        let data = serde_json::json!({ "message": message });
        self.push_event(recipient, "notification", data)
    }

    /// Sends an event envelope of any type to the WebSockets of the user
    /// with email `recipient`, or to every WebSocket for `None`, and returns
    /// how many it reached.
    pub fn push_event(&self, recipient: Option<&str>, event_type: &str, data: Value) -> usize {
        self.sockets
            .send_text(recipient, envelope(event_type, data))
    }

    /// Stops the server: closes open WebSockets with code 1001, waiting up
    /// to one second for them, and waits until the listener tasks have
    /// ended.
    pub async fn shutdown(mut self) {
        self.sockets.shut_down();
        let closed = self.sockets.wait_for_open(0);
        if tokio::time::timeout(SOCKET_CLOSE_TIMEOUT, closed)
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.sockets.open_count(),
                "mock WebSockets did not close in time"
            );
        }
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            // The task was aborted, so its only possible result is a
            // cancellation error.
            let _ = task.await;
        }
        tracing::info!(addr = %self.http_addr, "mock server stopped");
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.sockets.shut_down();
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A quiz submission as the mock stored and scored it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredSubmission {
    /// Id of the user who submitted.
    pub user_id: String,
    /// Id of the quiz.
    pub quiz_id: String,
    /// Score as a percentage of the quiz's total points, 0 to 100.
    pub percentage: f64,
    /// Whether the score reached the pass mark of 70 %.
    pub passed: bool,
    /// The submission's `time_taken`, in seconds.
    pub time_taken: u64,
}

/// Configures and starts a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    http_addr: SocketAddr,
    ws_addr: Option<SocketAddr>,
    access_token_lifetime: Duration,
    refresh_token_lifetime: Duration,
    api_prefix: String,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            http_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ws_addr: None,
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            api_prefix: "/api".to_owned(),
        }
    }
}

impl MockServerBuilder {
    /// Sets the address of the HTTP listener. Default is `127.0.0.1:0`, a
    /// free port.
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.http_addr = addr;
        self
    }

    /// Sets the address of a second listener that serves the same
    /// application, for clients that expect the WebSocket on its own port.
    /// Default is `None`, no second listener.
    pub fn ws_addr(mut self, addr: Option<SocketAddr>) -> Self {
        self.ws_addr = addr;
        self
    }

    /// Sets the lifetime of access tokens. Default is 30 minutes. Values
    /// above 100 years are lowered to 100 years, so that the expiry stays a
    /// date the clock can represent.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
        self
    }

    /// Sets the lifetime of refresh tokens. Default is 30 days. Values above
    /// 100 years are lowered to 100 years.
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
        self
    }

    /// Sets the path prefix of every API route, such as `/api/v1`. A missing
    /// leading slash is added and a trailing slash is removed, and an empty
    /// prefix serves the routes at the root. Default is `/api`.
    pub fn api_prefix(mut self, prefix: &str) -> Self {
        self.api_prefix = normalize_prefix(prefix);
        self
    }

    /// Binds the listeners and starts serving.
    ///
    /// # Errors
    ///
    /// Returns the error of binding either listener, such as an address in
    /// use.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let http_listener = TcpListener::bind(self.http_addr).await?;
        let http_addr = http_listener.local_addr()?;
        let ws_listener = match self.ws_addr {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let ws_addr = ws_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;

        let store = Store::new(self.access_token_lifetime, self.refresh_token_lifetime);
        let shared = Arc::new(Shared::new(store));
        let sockets = Arc::new(SocketHub::default());
        let app = router(Arc::clone(&shared), &self.api_prefix, Arc::clone(&sockets));

        let mut tasks = vec![spawn_listener(http_listener, app.clone())];
        if let Some(listener) = ws_listener {
            tasks.push(spawn_listener(listener, app));
        }
        tracing::info!(
            %http_addr,
            ws_addr = ?ws_addr,
            api_prefix = %self.api_prefix,
            "mock server started"
        );
        Ok(MockServer {
            shared,
            sockets,
            http_addr,
            ws_addr,
            tasks,
        })
    }
}

fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim().trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_normalization_table() {
        let cases = [
            ("/api", "/api"),
            ("/api/v1/", "/api/v1"),
            ("api", "/api"),
            ("", ""),
            ("/", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_prefix(input), expected, "{input:?}");
        }
    }
}
