//! Quiz creation, retrieval and submission.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::progress::compute_course_progress;
use super::{authenticate, require_teacher};
use crate::mock::error::{check_grade, decode, parse_json, ApiError, ValidationIssue};
use crate::mock::scoring::{self, AnswerError};
use crate::mock::state::{lock, ActivityKind, Shared, Submission};
use crate::mock::ws::event_data;
use crate::models::{
    AnswerValue, NewQuestion, NewQuiz, ProgressUpdateEvent, Question, QuestionType, Quiz,
    QuizResult, QuizResultEvent, QuizSubmission, Role,
};

/// `POST /quiz/create`: stores a quiz and returns it with 201.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Quiz>), ApiError> {
    let user = authenticate(&shared, &headers)?;
    require_teacher(&user, "Only teachers can create quizzes")?;

    let mut value = parse_json(&body)?;
    let mut issues = Vec::new();
    if let Some(issue) = check_grade(&value, "grade_level") {
        issues.push(issue);
        // Removed so that decoding reports the other fields, not this one.
        if let Some(object) = value.as_object_mut() {
            object.remove("grade_level");
        }
    }
    let request: NewQuiz = decode(value)?;
    issues.extend(validate_quiz(&request));
    ApiError::check(issues)?;

    let questions: Vec<Question> = request
        .questions
        .into_iter()
        .enumerate()
        .map(|(index, question)| Question {
            id: format!("q{}", index + 1),
            question_text: question.question_text,
            question_type: question.question_type,
            options: question.options,
            correct_answer: Some(question.correct_answer),
            points: question.points,
            explanation: question.explanation,
            media: question.media,
        })
        .collect();
    let total_points = questions.iter().fold(0u32, |total, question| {
        total.saturating_add(question.points)
    });

    let quiz = {
        let mut store = lock(&shared.store);
        let course_id = store.file_under_course(request.course_id.as_deref());
        let quiz = Quiz {
            id: format!("quiz-{}", Uuid::new_v4()),
            title: request.title.trim().to_owned(),
            subject: request.subject,
            grade_level: request.grade_level,
            difficulty: request.difficulty,
            time_limit: request.time_limit,
            course_id: Some(course_id),
            total_points,
            questions,
            created_at: Some(Utc::now()),
        };
        store.quizzes.insert(quiz.id.clone(), quiz.clone());
        store.record_activity(&user.id, ActivityKind::QuizCreated, None);
        quiz
    };
    tracing::info!(quiz_id = %quiz.id, user_id = %user.id, "mock created a quiz");
    Ok((StatusCode::CREATED, Json(quiz)))
}

fn validate_quiz(quiz: &NewQuiz) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    if quiz.title.trim().is_empty() {
        issues.push(ValidationIssue::body_field(
            "title",
            "title must not be empty",
        ));
    }
    if quiz.questions.is_empty() {
        let msg = "a quiz needs at least one question";
        issues.push(ValidationIssue::body_field("questions", msg));
    }
    for (index, question) in quiz.questions.iter().enumerate() {
        if let Some(msg) = check_correct_answer(question) {
            let loc = vec![
                json!("body"),
                json!("questions"),
                json!(index),
                json!("correct_answer"),
            ];
            issues.push(ValidationIssue::new(loc, msg));
        }
    }
    issues
}

/// Checks that a multiple-choice or true/false question's correct answer is
/// among its options. A true/false question without options is taken to
/// have the options `True` and `False`.
fn check_correct_answer(question: &NewQuestion) -> Option<String> {
    let options: Vec<&str> = match question.question_type {
        QuestionType::MultipleChoice => question.options.iter().map(String::as_str).collect(),
        QuestionType::TrueFalse if question.options.is_empty() => vec!["True", "False"],
        QuestionType::TrueFalse => question.options.iter().map(String::as_str).collect(),
        _ => return None,
    };
    let answers: Vec<&str> = match &question.correct_answer {
        AnswerValue::Text(text) => vec![text.as_str()],
        AnswerValue::List(texts) => texts.iter().map(String::as_str).collect(),
    };
    let missing: Vec<&str> = answers
        .into_iter()
        .filter(|answer| !options.contains(answer))
        .collect();
    (!missing.is_empty())
        .then(|| format!("correct_answer {missing:?} is not among the options {options:?}"))
}

/// `GET /quiz/{quiz_id}`: returns a quiz. Only teachers and admins see the
/// correct answers and explanations.
pub(super) async fn get_quiz(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(quiz_id): Path<String>,
) -> Result<Json<Quiz>, ApiError> {
    let user = authenticate(&shared, &headers)?;
    let mut quiz = lock(&shared.store)
        .quizzes
        .get(&quiz_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Quiz not found"))?;
    if !matches!(user.role, Role::Teacher | Role::Admin) {
        for question in &mut quiz.questions {
            question.correct_answer = None;
            question.explanation = None;
        }
    }
    Ok(Json(quiz))
}

/// `POST /quiz/{quiz_id}/submit`: scores and stores a submission, grants
/// achievements and publishes `quiz_result` and `progress_update` events.
pub(super) async fn submit(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(quiz_id): Path<String>,
    body: Bytes,
) -> Result<Json<QuizResult>, ApiError> {
    let user = authenticate(&shared, &headers)?;
    let submission: QuizSubmission = decode(parse_json(&body)?)?;

    let (result, course_id, course_percentage) = {
        let mut store = lock(&shared.store);
        let quiz = store
            .quizzes
            .get(&quiz_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("Quiz not found"))?;
        let score = scoring::score(&quiz.questions, &submission.answers).map_err(answer_error)?;

        let mut achievements_unlocked = Vec::new();
        let quick = submission.time_taken.saturating_mul(2);
        let candidates = [
            ("First Quiz", true),
            ("Perfect Score", score.perfect),
            (
                "Quick Thinker",
                score.passed
                    && quiz
                        .time_limit
                        .is_some_and(|limit| quick <= u64::from(limit)),
            ),
        ];
        for (name, earned) in candidates {
            if earned && store.grant_achievement(&user.id, name) {
                achievements_unlocked.push(name.to_owned());
            }
        }

        store.submissions.push(Submission {
            user_id: user.id.clone(),
            quiz_id: quiz.id.clone(),
            percentage: score.percentage,
            passed: score.passed,
            time_taken: submission.time_taken,
        });
        store.record_activity(
            &user.id,
            ActivityKind::QuizSubmitted,
            Some(score.percentage),
        );

        let course_id = quiz.course_id.clone().unwrap_or_default();
        let progress = compute_course_progress(&store, &user.id, &course_id);
        let result = QuizResult {
            quiz_id: Some(quiz.id),
            score: score.score,
            total_points: score.total_points,
            percentage: score.percentage,
            passed: score.passed,
            xp_earned: scoring::experience_points(&score),
            achievements_unlocked,
            time_taken: Some(submission.time_taken),
            submitted_at: Some(Utc::now()),
        };
        (result, course_id, progress.overall_progress)
    };

    tracing::info!(
        %quiz_id,
        user_id = %user.id,
        score = result.score,
        total_points = result.total_points,
        "mock scored a quiz submission"
    );
    let quiz_event = QuizResultEvent {
        quiz_id,
        score: result.score,
        total: result.total_points,
        percentage: result.percentage,
        passed: result.passed,
    };
    shared.publish(&user.id, "quiz_result", event_data(&quiz_event));
    let progress_event = ProgressUpdateEvent {
        course_id,
        percentage: course_percentage,
    };
    shared.publish(&user.id, "progress_update", event_data(&progress_event));
    Ok(Json(result))
}

fn answer_error(error: AnswerError) -> ApiError {
    let (index, msg) = match error {
        AnswerError::UnknownQuestion { index, question_id } => {
            (index, format!("unknown question_id {question_id:?}"))
        }
        AnswerError::DuplicateAnswer { index, question_id } => (
            index,
            format!("question_id {question_id:?} is answered more than once"),
        ),
    };
    let loc: Vec<Value> = vec![
        json!("body"),
        json!("answers"),
        json!(index),
        json!("question_id"),
    ];
    ApiError::validation(vec![ValidationIssue::new(loc, msg)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correct_answer_check_table() {
        use QuestionType::*;
        let cases = [
            (
                NewQuestion::new(MultipleChoice, "2+2?", "4", 1).options(["3", "4"]),
                true,
            ),
            (
                NewQuestion::new(MultipleChoice, "2+2?", "5", 1).options(["3", "4"]),
                false,
            ),
            (NewQuestion::new(MultipleChoice, "2+2?", "4", 1), false),
            (NewQuestion::new(TrueFalse, "7 is prime", "True", 1), true),
            (NewQuestion::new(TrueFalse, "7 is prime", "true", 1), false),
            (
                NewQuestion::new(TrueFalse, "Yes?", "Yes", 1).options(["Yes", "No"]),
                true,
            ),
            (NewQuestion::new(ShortAnswer, "3/4?", "0.75", 2), true),
        ];
        for (question, valid) in cases {
            assert_eq!(
                check_correct_answer(&question).is_none(),
                valid,
                "{question:?}"
            );
        }
    }
}
