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
//!
//! # Testing
//!
//! The feature `mock-server` adds [`mock::MockServer`](crate::mock), an
//! in-memory server of the whole API with demo accounts and fault injection.
//!
//! # Limitations
//!
//! - The protocol has no logout call: [`AuthManager::logout`] forgets the
//!   tokens locally and the server keeps them valid until they expire.

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
