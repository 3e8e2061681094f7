//! Tests of the embedded mock server over real HTTP with reqwest.

// The submodules live in `tests/mock_server/`. The paths are explicit
// because modules of a test crate root otherwise resolve to `tests/*.rs`,
// which are separate test crates.
#[path = "mock_server/auth.rs"]
mod auth;
#[path = "mock_server/faults.rs"]
mod faults;
#[path = "mock_server/progress.rs"]
mod progress;
#[path = "mock_server/quiz.rs"]
mod quiz;

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use toolboxai::mock::{Fault, MockServer};

const TEACHER: (&str, &str) = ("teacher@example.com", "TeacherPass123!");
const STUDENT: (&str, &str) = ("student@example.com", "StudentPass123!");

async fn post(
    server: &MockServer,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = Client::new()
        .post(format!("{}{path}", server.url()))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request reaches the mock")
}

async fn get(server: &MockServer, path: &str, token: &str) -> reqwest::Response {
    Client::new()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("request reaches the mock")
}

async fn login(server: &MockServer, (email, password): (&str, &str)) -> Value {
    let body = json!({"email": email, "password": password});
    let response = post(server, "/api/auth/login", None, body).await;
    assert_eq!(response.status(), StatusCode::OK, "login of {email}");
    response.json().await.expect("login body is JSON")
}

async fn access_token(server: &MockServer, account: (&str, &str)) -> String {
    let tokens = login(server, account).await;
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn math_quiz() -> Value {
    json!({
        "title": "Math Basics Quiz",
        "subject": "Mathematics",
        "grade_level": 7,
        "difficulty": "medium",
        "time_limit": 900,
        "questions": [
            {"question_text": "What is 15 + 27?", "question_type": "multiple_choice",
             "options": ["42", "41", "43", "40"], "correct_answer": "42", "points": 1,
             "explanation": "15 + 27 = 42"},
            {"question_text": "Is 7 a prime number?", "question_type": "true_false",
             "options": ["True", "False"], "correct_answer": "True", "points": 1},
            {"question_text": "What is 3/4 as a decimal?", "question_type": "short_answer",
             "options": [], "correct_answer": "0.75", "points": 2}
        ]
    })
}

fn perfect_answers() -> Value {
    json!({
        "answers": [
            {"question_id": "q1", "answer": "42"},
            {"question_id": "q2", "answer": "True"},
            {"question_id": "q3", "answer": "0.75"}
        ],
        "time_taken": 300
    })
}

async fn create_math_quiz(server: &MockServer) -> String {
    let teacher = access_token(server, TEACHER).await;
    let response = post(server, "/api/quiz/create", Some(&teacher), math_quiz()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let quiz: Value = response.json().await.expect("quiz is JSON");
    quiz["id"].as_str().expect("quiz id").to_owned()
}
