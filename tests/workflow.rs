//! The reference document's two automated tests, against the mock server.

mod common;

use toolboxai::{Answer, ContentRequest, NewQuestion, NewQuiz, QuestionType};

#[tokio::test]
async fn content_generation_echoes_subject_and_grade() {
    let (_server, client) = common::start_as(common::TEST_TEACHER).await;
    let request = ContentRequest::lesson("Science", 6).learning_objectives(["Photosynthesis"]);

    let content = client.content().generate(&request).await.unwrap();

    assert!(!content.id.is_empty());
    assert_eq!(content.subject, "Science");
    assert_eq!(content.grade_level, 6);
}

#[tokio::test]
async fn quiz_workflow_scores_one_and_passes() {
    let (_server, client) = common::start_as(common::TEST_TEACHER).await;
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

    assert_eq!(result.score, 1);
    assert!(result.passed);
}
