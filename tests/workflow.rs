//! Two end-to-end workflows: content generation, and a quiz that a teacher
//! creates and submits.
//!
//! They run against the embedded mock, or against a live server when
//! `TOOLBOXAI_LIVE_URL` is set, logged in with `TOOLBOXAI_LIVE_EMAIL` and
//! `TOOLBOXAI_LIVE_PASSWORD` (a teacher account). With the URL set and a
//! credential missing, each test prints why to stderr and returns early.

mod common;

use common::Backend;
use toolboxai::{Answer, ContentRequest, NewQuestion, NewQuiz, QuestionType};

#[tokio::test]
async fn content_generation_echoes_subject_and_grade() {
    let test = "content_generation_echoes_subject_and_grade";
    let Some(session) = common::teacher_session(test, common::TEST_TEACHER).await else {
        return;
    };
    let request = ContentRequest::lesson("Science", 6).learning_objectives(["Photosynthesis"]);

    let content = session.client.content().generate(&request).await.unwrap();

    assert!(!content.id.is_empty());
    assert_eq!(content.subject, "Science");
    assert_eq!(content.grade_level, 6);
}

#[tokio::test]
async fn quiz_workflow_scores_one_and_passes() {
    let test = "quiz_workflow_scores_one_and_passes";
    let Some(session) = common::teacher_session(test, common::TEST_TEACHER).await else {
        return;
    };
    let client = &session.client;
    let question = NewQuestion::new(QuestionType::MultipleChoice, "What is 2+2?", "4", 1)
        .options(["3", "4", "5", "6"]);
    let quiz = client
        .quizzes()
        .create(&NewQuiz::new("Test Quiz", "Math", vec![question]))
        .await
        .unwrap();

    let result = client
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q1", "4")], 60)
        .await
        .unwrap();

    assert!(!quiz.id.is_empty());
    assert_eq!(result.score, 1);
    assert!(result.passed);
}

#[test]
fn backend_selection_table() {
    let some = |value: &str| Some(value.to_owned());
    let live = Backend::Live {
        url: "http://127.0.0.1:8008".to_owned(),
        email: "teacher@example.com".to_owned(),
        password: "secret".to_owned(),
    };
    let cases = [
        ("nothing set", None, None, None, Some(Backend::Mock)),
        (
            "empty url",
            some(""),
            some("a@b.c"),
            some("pw"),
            Some(Backend::Mock),
        ),
        (
            "credentials without url",
            None,
            some("a@b.c"),
            some("pw"),
            Some(Backend::Mock),
        ),
        (
            "all set",
            some("http://127.0.0.1:8008"),
            some("teacher@example.com"),
            some("secret"),
            Some(live),
        ),
        ("email missing", some("http://h"), None, some("pw"), None),
        (
            "password empty",
            some("http://h"),
            some("a@b.c"),
            some(""),
            None,
        ),
        ("both missing", some("http://h"), None, None, None),
    ];
    for (case, url, email, password, expected) in cases {
        let backend = Backend::select(url, email, password);
        match expected {
            Some(expected) => assert_eq!(backend, expected, "{case}"),
            None => assert!(matches!(backend, Backend::Skip(_)), "{case}: {backend:?}"),
        }
    }
}

#[test]
fn skip_reason_names_missing_variables() {
    let backend = Backend::select(Some("http://h".to_owned()), None, None);

    let Backend::Skip(reason) = backend else {
        panic!("expected a skip, got {backend:?}");
    };
    assert!(reason.contains("TOOLBOXAI_LIVE_EMAIL"), "{reason}");
    assert!(reason.contains("TOOLBOXAI_LIVE_PASSWORD"), "{reason}");
    assert!(reason.contains("http://h"), "{reason}");
}
