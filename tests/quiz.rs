//! Quiz creation, retrieval, scoring and attempts, against the mock server.

mod common;

use toolboxai::mock::Fault;
use toolboxai::{
    APIError, Answer, AnswerValue, NewQuestion, NewQuiz, QuestionType, Quiz, RetryPolicy,
};

/// Returns the reference's three-question math quiz, worth 4 points.
fn math_quiz() -> NewQuiz {
    NewQuiz::new(
        "Math Basics Quiz",
        "Mathematics",
        vec![
            NewQuestion::new(QuestionType::MultipleChoice, "What is 15 + 27?", "42", 1)
                .options(["42", "41", "43", "40"])
                .explanation("15 + 27 = 42"),
            NewQuestion::new(QuestionType::TrueFalse, "Is 7 a prime number?", "True", 1)
                .options(["True", "False"]),
            NewQuestion::new(
                QuestionType::ShortAnswer,
                "What is 3/4 as a decimal?",
                "0.75",
                2,
            ),
        ],
    )
    .grade_level(7)
    .time_limit(900)
}

async fn create_as_teacher(
    quiz: &NewQuiz,
) -> (toolboxai::mock::MockServer, toolboxai::Client, Quiz) {
    let (server, client) = common::start_as(common::TEACHER).await;
    let created = client.quizzes().create(quiz).await.unwrap();
    (server, client, created)
}

#[tokio::test]
async fn create_numbers_questions_and_sums_points() {
    let (_server, _client, quiz) = create_as_teacher(&math_quiz()).await;
    let ids: Vec<&str> = quiz.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["q1", "q2", "q3"]);
    assert_eq!(quiz.total_points, 4);
}

#[tokio::test]
async fn student_cannot_create_quiz() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let error = client.quizzes().create(&math_quiz()).await.unwrap_err();
    assert!(matches!(error, APIError::Forbidden(_)), "{error:?}");
}

#[tokio::test]
async fn invalid_quiz_is_422() {
    let cases = [
        ("no questions", NewQuiz::new("Empty", "Math", vec![])),
        ("grade 13", math_quiz().grade_level(13)),
        (
            "answer not among options",
            NewQuiz::new(
                "Bad",
                "Math",
                vec![
                    NewQuestion::new(QuestionType::MultipleChoice, "2+2?", "4", 1)
                        .options(["3", "5"]),
                ],
            ),
        ),
    ];
    let (_server, client) = common::start_as(common::TEACHER).await;
    for (case, quiz) in cases {
        let error = client.quizzes().create(&quiz).await.unwrap_err();
        assert_eq!(error.status(), Some(422), "{case}");
    }
}

#[tokio::test]
async fn unknown_quiz_is_not_found() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let error = client.quizzes().get("quiz-missing").await.unwrap_err();
    assert!(matches!(error, APIError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn empty_quiz_id_is_invalid_input() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let error = client.quizzes().get(" ").await.unwrap_err();
    assert!(matches!(error, APIError::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn student_view_hides_answers() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    let seen = client.quizzes().get(&quiz.id).await.unwrap();
    assert!(seen.questions.iter().all(|q| q.correct_answer.is_none()));
    assert!(seen.questions.iter().all(|q| q.explanation.is_none()));
}

#[tokio::test]
async fn teacher_view_shows_answers() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    let seen = client.quizzes().get(&quiz.id).await.unwrap();
    assert_eq!(
        seen.questions[0].correct_answer,
        Some(AnswerValue::from("42"))
    );
}

fn list(items: &[&str]) -> AnswerValue {
    AnswerValue::List(items.iter().map(|item| (*item).to_owned()).collect())
}

#[tokio::test]
async fn scoring_rules() {
    // (case, question type, correct answer, given answer, expected score)
    let cases: Vec<(&str, QuestionType, AnswerValue, AnswerValue, u32)> = vec![
        (
            "choice exact",
            QuestionType::MultipleChoice,
            "42".into(),
            "42".into(),
            1,
        ),
        (
            "choice case differs",
            QuestionType::MultipleChoice,
            "Paris".into(),
            "paris".into(),
            0,
        ),
        (
            "true/false exact",
            QuestionType::TrueFalse,
            "True".into(),
            "True".into(),
            1,
        ),
        (
            "true/false case differs",
            QuestionType::TrueFalse,
            "True".into(),
            "true".into(),
            0,
        ),
        (
            "short answer trimmed",
            QuestionType::ShortAnswer,
            "0.75".into(),
            " 0.75 ".into(),
            1,
        ),
        (
            "short answer case",
            QuestionType::ShortAnswer,
            "Paris".into(),
            "PARIS".into(),
            1,
        ),
        (
            "short answer wrong",
            QuestionType::ShortAnswer,
            "0.75".into(),
            "0.7".into(),
            0,
        ),
        (
            "fill blank case",
            QuestionType::FillBlank,
            "Mitochondria".into(),
            "mitochondria ".into(),
            1,
        ),
        (
            "list same order",
            QuestionType::ShortAnswer,
            list(&["2", "3"]),
            list(&["2", "3"]),
            1,
        ),
        (
            "list other order",
            QuestionType::ShortAnswer,
            list(&["2", "3"]),
            list(&["3", "2"]),
            1,
        ),
        (
            "list missing item",
            QuestionType::ShortAnswer,
            list(&["2", "3"]),
            list(&["2"]),
            0,
        ),
        (
            "list extra item",
            QuestionType::ShortAnswer,
            list(&["2", "3"]),
            list(&["2", "3", "5"]),
            0,
        ),
    ];
    let (_server, client) = common::start_as(common::TEACHER).await;
    for (case, question_type, correct, given, expected) in cases {
        let mut question = NewQuestion::new(question_type.clone(), "question", correct.clone(), 1);
        if let AnswerValue::Text(text) = &correct {
            if matches!(
                question_type,
                QuestionType::MultipleChoice | QuestionType::TrueFalse
            ) {
                question = question.options([text.clone(), "other".to_owned()]);
            }
        }
        let quiz = client
            .quizzes()
            .create(&NewQuiz::new(case, "Scoring", vec![question]))
            .await
            .unwrap();
        let result = client
            .quizzes()
            .submit(&quiz.id, vec![Answer::new("q1", given)], 10)
            .await
            .unwrap();
        assert_eq!(result.score, expected, "{case}");
    }
}

#[tokio::test]
async fn result_percentage_and_pass_mark() {
    // (answers to q1..q3, expected score, percentage, passed)
    let cases = [
        (["42", "True", "0.75"], 4, 100.0, true),
        (["41", "True", "0.75"], 3, 75.0, true),
        (["42", "False", "0.7"], 1, 25.0, false),
        (["41", "False", "0.75"], 2, 50.0, false),
    ];
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    for (answers, score, percentage, passed) in cases {
        let answers = answers
            .iter()
            .enumerate()
            .map(|(index, answer)| Answer::new(format!("q{}", index + 1), *answer))
            .collect();
        let result = client
            .quizzes()
            .submit(&quiz.id, answers, 60)
            .await
            .unwrap();
        assert_eq!(result.score, score, "expected score {score}");
        assert_eq!(result.percentage, percentage, "score {score}");
        assert_eq!(result.passed, passed, "score {score}");
    }
}

#[tokio::test]
async fn answer_to_unknown_question_is_422() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    let error = client
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q9", "1")], 5)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
}

#[tokio::test]
async fn attempt_submits_recorded_answers() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    let mut attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
    attempt.answer("q1", "42").unwrap();
    attempt.answer("q3", "0.75").unwrap();
    let result = attempt.submit().await.unwrap();
    assert_eq!(result.score, 3);
}

#[tokio::test]
async fn attempt_rejects_unknown_question() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    let mut attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
    let error = attempt.answer("q7", "1").unwrap_err();
    assert!(matches!(error, APIError::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn attempt_measures_time_taken() {
    let (server, client, quiz) = create_as_teacher(&math_quiz()).await;
    let attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
    // The clock is paused only while it is moved: paused time would also
    // fire the request timeouts while the client waits on the socket.
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(125)).await;
    tokio::time::resume();
    attempt.submit().await.unwrap();
    let submit = server
        .requests()
        .into_iter()
        .rfind(|request| request.path.ends_with("/submit"))
        .unwrap();
    assert_eq!(submit.json().unwrap()["time_taken"], 125);
}

#[tokio::test]
async fn attempt_resubmit_scores_once() {
    let (server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    let quizzes = client.with_retry_policy(RetryPolicy::none()).quizzes();
    let mut attempt = quizzes.start_attempt(&quiz.id).await.unwrap();
    attempt.answer("q1", "42").unwrap();
    let submit_path = format!("/api/quiz/{}/submit", quiz.id);
    server.inject(Fault::drop_response(submit_path).times(1));

    let lost = attempt.submit().await;
    let resubmitted = attempt.submit().await;

    assert!(matches!(lost, Err(APIError::Network { .. })), "{lost:?}");
    assert_eq!(resubmitted.unwrap().score, 1);
    assert_eq!(server.submission_count(&quiz.id), 1);
}

#[tokio::test]
async fn attempt_submits_share_one_key() {
    let (server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    let mut attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
    attempt.answer("q1", "42").unwrap();

    attempt.submit().await.unwrap();
    attempt.submit().await.unwrap();

    let keys: Vec<String> = server
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/submit"))
        .map(|request| request.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn attempt_changed_after_submit_conflicts() {
    let (_server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    let mut attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
    attempt.answer("q1", "42").unwrap();
    attempt.submit().await.unwrap();

    attempt.answer("q1", "41").unwrap();
    let error = attempt.submit().await.unwrap_err();

    assert_eq!(error.status(), Some(409));
}

#[tokio::test]
async fn separate_attempts_submit_separately() {
    let (server, client, quiz) = create_as_teacher(&math_quiz()).await;
    common::login(&client, common::STUDENT).await;
    for _ in 0..2 {
        let mut attempt = client.quizzes().start_attempt(&quiz.id).await.unwrap();
        attempt.answer("q1", "42").unwrap();
        attempt.submit().await.unwrap();
    }
    assert_eq!(server.submission_count(&quiz.id), 2);
}
