//! An embedded, stateful mock of the ToolboxAI API for tests and examples.
//!
//! [`MockServer::start`] serves the whole HTTP API from memory on
//! `127.0.0.1` with a free port. It registers users, issues JWT-shaped tokens
//! with a configurable lifetime, generates content deterministically, stores
//! and scores quizzes, and reports progress and analytics. Tests can inject
//! [`Fault`]s and read every [`RecordedRequest`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use toolboxai::mock::{Fault, MockServer};
//!
//! let server = MockServer::start().await?;
//! server.inject(Fault::status("/api/quiz/*", 503).times(2));
//! println!("API at {}", server.url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Demo data
//!
//! At start the mock contains these accounts, as used by the protocol's
//! examples, and the course `course-123`:
//!
//! | email | password | role |
//! |---|---|---|
//! | `student@example.com` | `StudentPass123!` | student, grade 7 |
//! | `teacher@example.com` | `TeacherPass123!` | teacher |
//! | `test@example.com` | `TestPass123!` | teacher |
//!
//! Content and quizzes created without a `course_id` are filed under
//! `course-123`, and the returned item says so in its `course_id`.
//!
//! # Behaviour worth knowing
//!
//! - Errors are FastAPI-shaped: `{"detail": "text"}`, or a list of
//!   `{"loc", "msg", "type"}` entries for 422. A 401 also sends
//!   `WWW-Authenticate: Bearer`.
//! - `POST /api/auth/refresh` rotates the refresh token, so each refresh
//!   token works once. It does not require a bearer header.
//! - A POST with an `Idempotency-Key` header replays the stored response of
//!   an earlier successful request with the same key, path and body, per
//!   user, and gets 409 for the same key with another path or body. A
//!   repeat that arrives while the first is still running waits for it. The
//!   last 10 000 keys are kept, within 64 MiB of stored bodies.
//! - Every response carries `X-Request-ID: req-<n>` and echoes an incoming
//!   `X-Correlation-ID`.
//! - Course progress counts a lesson as completed when the caller passed a
//!   quiz of the same course whose subject equals the lesson's subject,
//!   because the API has no call that marks a lesson as viewed.
//! - `/ws/connect` (outside the API prefix) accepts a WebSocket with an
//!   `Authorization: Bearer` header or a `token` query parameter, and answers
//!   401 without a valid access token. It pushes `quiz_result` and
//!   `progress_update` to the submitting user, and `content_update` to
//!   sockets subscribed to `course_updates` or `course:<course_id>`.
//!   `MockServer::drop_sockets`, `close_sockets`, `set_socket_silent` and
//!   `send_malformed_frame` inject socket faults.
//! - Scoring: `multiple_choice` and `true_false` answers must match exactly,
//!   `short_answer` and `fill_blank` answers match after trimming and without
//!   regard to case. A pass needs 70 %, and XP is 10 per point, plus 20 for a
//!   pass, plus 50 for a perfect score.

mod error;
mod fault;
mod handlers;
mod idempotency;
mod middleware;
mod record;
mod scoring;
mod serve;
mod server;
mod state;
mod tokens;
mod ws;

pub use fault::{Fault, RandomFaultKind, RandomFaults};
pub use record::RecordedRequest;
pub use server::{MockServer, MockServerBuilder, StoredSubmission};
