//! Fixed request and response bodies shared by the benchmarks and the
//! memory probe.

use serde_json::{json, Value};
use toolboxai::{Answer, Quiz};

/// Access token the benchmark servers accept.
pub const ACCESS_TOKEN: &str = "bench-access-token";

/// `Authorization` header value the benchmark servers accept.
pub const BEARER: &str = "Bearer bench-access-token";

/// Questions in the quiz that the request benchmarks fetch.
pub const DEFAULT_QUESTIONS: usize = 10;

/// Returns the id under which the benchmark HTTP server serves a quiz of
/// `questions` questions.
pub fn quiz_id(questions: usize) -> String {
    format!("quiz-{questions}")
}

/// Returns a quiz with `questions` multiple-choice questions as the server
/// sends it to a teacher: correct answers and explanations included.
pub fn quiz_json(questions: usize) -> Value {
    let questions: Vec<Value> = (1..=questions)
        .map(|number| {
            json!({
                "id": format!("q{number}"),
                "question_text": format!("What is {number} + {number}?"),
                "question_type": "multiple_choice",
                "options": [
                    (number * 2).to_string(),
                    (number * 2 + 1).to_string(),
                    (number * 2 + 2).to_string(),
                    (number * 2 + 3).to_string(),
                ],
                "correct_answer": (number * 2).to_string(),
                "points": 1,
                "explanation": format!("{number} + {number} = {}", number * 2),
            })
        })
        .collect();
    json!({
        "id": quiz_id(questions.len()),
        "title": "Addition practice",
        "subject": "Mathematics",
        "grade_level": 7,
        "difficulty": "medium",
        "time_limit": 600,
        "course_id": "course-123",
        "total_points": questions.len(),
        "questions": questions,
        "created_at": "2025-01-15T10:30:00Z",
    })
}

/// Returns [`quiz_json`] serialized, after checking that it decodes into
/// [`Quiz`] with every question.
pub fn quiz_body(questions: usize) -> Vec<u8> {
    let body = serde_json::to_vec(&quiz_json(questions)).expect("a JSON value serializes");
    let quiz: Quiz = serde_json::from_slice(&body).expect("the fixture decodes into Quiz");
    assert_eq!(quiz.questions.len(), questions);
    body
}

/// Returns the answers of the submission that the POST benchmark sends.
pub fn submission_answers() -> Vec<Answer> {
    (1..=DEFAULT_QUESTIONS)
        .map(|number| Answer::new(format!("q{number}"), (number * 2).to_string()))
        .collect()
}

/// Seconds taken, as the POST benchmark submits it.
pub const SUBMISSION_TIME_TAKEN: u64 = 300;

/// Response body of `POST /api/quiz/{id}/submit`.
pub fn quiz_result_body() -> Vec<u8> {
    let body = json!({
        "quiz_id": quiz_id(DEFAULT_QUESTIONS),
        "score": 8,
        "total_points": 10,
        "percentage": 80.0,
        "passed": true,
        "xp_earned": 100,
        "achievements_unlocked": ["First Quiz"],
        "time_taken": SUBMISSION_TIME_TAKEN,
        "submitted_at": "2025-01-15T10:35:00Z",
    });
    serde_json::to_vec(&body).expect("a JSON value serializes")
}

/// The `quiz_result` event frame that the benchmark WebSocket server pushes.
pub const QUIZ_RESULT_FRAME: &str = concat!(
    r#"{"type":"quiz_result","data":{"quiz_id":"quiz-10","score":8,"total":10,"#,
    r#""percentage":80.0,"passed":true},"timestamp":"2025-01-15T10:35:00.000Z"}"#
);
