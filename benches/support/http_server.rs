//! A minimal HTTP server with fixed bodies, so that the benchmarks measure
//! the client rather than the server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::runtime::Runtime;

use super::fixtures::{quiz_body, quiz_id, quiz_result_body, BEARER};

/// Quiz sizes, in questions, that the server serves as `quiz-<size>`.
pub const QUIZ_SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// Serves `GET /api/quiz/quiz-<size>` for every size in [`QUIZ_SIZES`] and
/// `POST /api/quiz/{id}/submit` on `127.0.0.1` with a free port, from a
/// runtime of its own. Requests without the benchmark bearer token get 401.
pub struct HttpServer {
    addr: SocketAddr,
    // Dropping the runtime stops the server, so it lives as long as the handle.
    _runtime: Runtime,
}

struct Bodies {
    quizzes: HashMap<String, Bytes>,
    quiz_result: Bytes,
}

impl HttpServer {
    /// Starts the server on a runtime with `worker_threads` threads.
    ///
    /// # Panics
    ///
    /// Panics when the runtime cannot start or the listener cannot bind.
    pub fn start(worker_threads: usize) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .thread_name("bench-http-server")
            .enable_all()
            .build()
            .expect("the server runtime starts");
        let bodies = Arc::new(Bodies {
            quizzes: QUIZ_SIZES
                .iter()
                .map(|&size| (quiz_id(size), Bytes::from(quiz_body(size))))
                .collect(),
            quiz_result: Bytes::from(quiz_result_body()),
        });
        let app = Router::new()
            .route("/api/quiz/{id}", get(get_quiz))
            .route("/api/quiz/{id}/submit", post(submit_quiz))
            .with_state(bodies);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the server binds 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        runtime.spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the benchmark HTTP server runs");
        });
        Self {
            addr,
            _runtime: runtime,
        }
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == BEARER.as_bytes())
}

fn unauthorized() -> Response {
    let body = r#"{"detail":"Not authenticated"}"#;
    (
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn json(body: &Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

async fn get_quiz(
    State(bodies): State<Arc<Bodies>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    match bodies.quizzes.get(&id) {
        Some(body) => json(body),
        None => (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "application/json")],
            r#"{"detail":"Quiz not found"}"#,
        )
            .into_response(),
    }
}

async fn submit_quiz(
    State(bodies): State<Arc<Bodies>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    if body.is_empty() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    json(&bodies.quiz_result)
}
