//! Typed async client for the ToolboxAI education API.
//!
//! ToolboxAI generates lessons and quizzes with an AI model, scores quiz
//! submissions, and reports course progress and analytics. This crate wraps
//! its HTTP API in typed calls grouped by area, and maps every failure to one
//! [`APIError`] enum.
//!
//! # Quick start
//!
//! ```no_run
//! use toolboxai::{Answer, Client, ContentRequest};
//!
//! # async fn run() -> toolboxai::Result<()> {
//! let client = Client::builder().base_url("http://localhost:8008").build()?;
//! client.auth().login("teacher@example.com", "TeacherPass123!").await?;
//!
//! let lesson = client
//!     .content()
//!     .generate(&ContentRequest::lesson("Mathematics", 7).include_quiz(true))
//!     .await?;
//! println!("generated {}", lesson.title);
//! # Ok(())
//! # }
//! ```
//!
//! # Managers
//!
//! - [`AuthManager`] from [`Client::auth`]: register, login, refresh, tokens.
//! - [`ContentGenerator`] from [`Client::content`]: lessons and quizzes.
//! - [`QuizManager`] from [`Client::quizzes`]: create, get, submit, attempts.
//! - [`ProgressTracker`] from [`Client::progress`]: progress and analytics.
//! - [`WebSocketClient`] from [`Client::websocket`]: real-time events,
//!   subscriptions, heartbeat and reconnect.
//!
//! Paths in the method docs, such as `POST /quiz/create`, are relative to
//! the API prefix, `/api` unless [`ClientBuilder::api_prefix`] sets another.
//!
//! # Testing
//!
//! The feature `mock-server` adds [`mock::MockServer`](crate::mock), an
//! in-memory server of the whole API with demo accounts and fault injection.
//!
//! # Limitations
//!
//! - The protocol has no logout call: [`AuthManager::logout`] clears the
//!   tokens locally and the server keeps them valid until they expire. It
//!   does not close an open socket, which keeps receiving the events of the
//!   user it authenticated as until [`WebSocketClient::disconnect`].
//! - [`WebSocketClient::connect`] makes one attempt: reconnects with backoff
//!   only follow a connection that was open. Messages written just before a
//!   connection broke may be lost, because the protocol has no
//!   acknowledgements; only a message whose write failed is sent again.
//! - Retried POSTs are safe only on servers that honour `Idempotency-Key`;
//!   a server that ignores it may act twice on a retried write. Turn retries
//!   off for such a server with [`RetryPolicy::none`].
//! - Response bodies above [`ClientBuilder::max_response_bytes`] and socket
//!   messages above [`websocket::WebSocketConfig::max_message_bytes`] (16 MiB
//!   and 1 MiB by default) are rejected, not read.
//!
//! # Errors of every call
//!
//! Besides the errors each method lists, any call that reaches the server
//! can end with:
//!
//! - [`APIError::Authentication`] when the call needs a login and the client
//!   has none, or the token was rejected and refreshing it failed.
//! - [`APIError::RateLimited`] for 429, or a `Retry-After` longer than
//!   [`RetryPolicy::max_retry_after`].
//! - [`APIError::Server`] for 5xx, [`APIError::Network`] for a connection
//!   failure and [`APIError::Timeout`] for no response in time, each after
//!   the retries of the [`RetryPolicy`] are used up.
//! - [`APIError::Decode`] for a successful response whose body is not what
//!   the protocol defines, and [`APIError::UnexpectedStatus`] for any other
//!   unsuccessful status, such as 405.
//!
//! # Testing with the mock
//!
//! Code that uses this crate can be tested against the embedded mock
//! instead of a live server. Enable the feature for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! toolboxai = { version = "0.1", features = ["mock-server"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! A test starts a [`MockServer`](crate::mock::MockServer) on a free local
//! port, points a client at it, injects [`Fault`](crate::mock::Fault)s and
//! reads back the requests the mock received:
//!
//! ```
//! use std::time::Duration;
//!
//! # #[cfg(feature = "mock-server")]
//! use toolboxai::mock::{Fault, MockServer};
//! use toolboxai::{Client, RetryPolicy};
//!
//! // In a test file, mark this `#[tokio::test]`.
//! # #[cfg(feature = "mock-server")]
//! async fn progress_survives_two_503s() {
//!     let server = MockServer::start().await.unwrap();
//!     // Short retry delays keep the test fast.
//!     let client = Client::builder()
//!         .base_url(server.url())
//!         .retry_policy(RetryPolicy::default().initial_delay(Duration::from_millis(10)))
//!         .build()
//!         .unwrap();
//!     client
//!         .auth()
//!         .login("student@example.com", "StudentPass123!")
//!         .await
//!         .unwrap();
//!
//!     // The next two progress requests get 503, and the client retries.
//!     server.inject(Fault::status("/api/progress/*", 503).times(2));
//!     let progress = client.progress().course("course-123").await.unwrap();
//!     assert_eq!(progress.course_id, "course-123");
//!
//!     // The login, two failed attempts and the successful one.
//!     let requests = server.requests();
//!     assert_eq!(requests.len(), 4);
//!     assert_eq!(requests[0].path, "/api/auth/login");
//!     for attempt in &requests[1..] {
//!         assert_eq!(attempt.method, "GET");
//!         assert_eq!(attempt.path, "/api/progress/course/course-123");
//!         assert!(attempt.header("authorization").is_some());
//!     }
//! }
//! # #[cfg(feature = "mock-server")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! #     progress_survives_two_503s().await;
//! # }
//! # // Without the feature, as in a build of the published crate, the
//! # // example compiles to nothing.
//! # #[cfg(not(feature = "mock-server"))]
//! # fn main() {}
//! ```
//!
//! The mock's demo accounts and course, and its fault kinds, are listed in
//! the [`mock`] module.

#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
pub mod content;
pub mod error;
pub mod models;
pub mod progress;
pub mod quiz;
mod transport;
pub mod websocket;

#[cfg(feature = "mock-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock-server")))]
pub mod mock;

pub use auth::{AuthManager, Tokens};
pub use client::{Client, ClientBuilder, DEFAULT_API_PREFIX, DEFAULT_BASE_URL, DEFAULT_WS_URL};
pub use content::ContentGenerator;
pub use error::{APIError, ErrorCode, ErrorDetails, FieldError, Result};
pub use models::*;
pub use progress::ProgressTracker;
pub use quiz::{QuizAttempt, QuizManager};
pub use transport::RetryPolicy;
pub use websocket::{
    ConnectionState, DisconnectReason, EventStream, ReconnectPolicy, ServerEvent, WebSocketClient,
    WebSocketConfig,
};

/// The README's Rust examples, compiled as doc tests so that they keep
/// matching the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
