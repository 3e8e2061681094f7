//! Course progress and analytics, against the mock server.

mod common;

use futures_util::StreamExt;
use toolboxai::{
    APIError, AnalyticsQuery, Answer, ContentRequest, MetricType, NewQuestion, NewQuiz,
    QuestionType,
};

fn one_question_quiz(subject: &str) -> NewQuiz {
    NewQuiz::new(
        "Quick check",
        subject,
        vec![NewQuestion::new(QuestionType::ShortAnswer, "2+2?", "4", 2)],
    )
}

#[tokio::test]
async fn progress_counts_a_passed_submission() {
    let (_server, client) = common::start_as(common::TEACHER).await;
    client
        .content()
        .generate(&ContentRequest::lesson("Mathematics", 7))
        .await
        .unwrap();
    let quiz = client
        .quizzes()
        .create(&one_question_quiz("Mathematics"))
        .await
        .unwrap();
    common::login(&client, common::STUDENT).await;
    let before = client.progress().course("course-123").await.unwrap();
    client
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q1", "4")], 90)
        .await
        .unwrap();

    let after = client.progress().course("course-123").await.unwrap();

    assert_eq!(before.quizzes_completed, 0);
    assert_eq!(after.quizzes_completed, 1);
    assert_eq!(after.total_quizzes, 1);
    assert_eq!(after.lessons_completed, 1);
    assert_eq!(after.total_lessons, 1);
    assert_eq!(after.overall_progress, 100.0);
    assert_eq!(after.average_quiz_score, 100.0);
    assert_eq!(after.time_spent, 2);
}

#[tokio::test]
async fn progress_of_unknown_course_is_not_found() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let error = client.progress().course("course-nope").await.unwrap_err();
    assert!(matches!(error, APIError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn analytics_counts_recorded_activity() {
    let (_server, client) = common::start_as(common::TEACHER).await;
    client
        .content()
        .generate(&ContentRequest::lesson("History", 9))
        .await
        .unwrap();
    let quiz = client
        .quizzes()
        .create(&one_question_quiz("History"))
        .await
        .unwrap();
    common::login(&client, common::STUDENT).await;
    client
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q1", "5")], 30)
        .await
        .unwrap();

    let today = AnalyticsQuery::new(MetricType::Performance).last_days(0);
    let dashboard = client.progress().analytics(&today).await.unwrap();

    assert_eq!(dashboard.metric_type, MetricType::Performance);
    assert_eq!(dashboard.summary.active_users, 2);
    assert_eq!(dashboard.summary.content_generated, 1);
    assert_eq!(dashboard.summary.quizzes_completed, 1);
    assert_eq!(dashboard.summary.average_score, Some(0.0));
}

#[tokio::test]
async fn analytics_date_filter_excludes_other_days() {
    let (_server, client) = common::start_as(common::TEACHER).await;
    client
        .content()
        .generate(&ContentRequest::lesson("History", 9))
        .await
        .unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2020, 1, 31).unwrap();
    let query = AnalyticsQuery::new(MetricType::Engagement).between(start, end);

    let dashboard = client.progress().analytics(&query).await.unwrap();

    assert_eq!(dashboard.summary.content_generated, 0);
    assert_eq!(dashboard.summary.active_users, 0);
}

#[tokio::test]
async fn analytics_reversed_dates_are_invalid_input() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let query = AnalyticsQuery::default().between(start, end);
    let error = client.progress().analytics(&query).await.unwrap_err();
    assert!(matches!(error, APIError::InvalidInput(_)), "{error:?}");
}

#[tokio::test]
async fn analytics_unknown_metric_is_kept() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let query = AnalyticsQuery::new(MetricType::Other("retention".into()));
    let dashboard = client.progress().analytics(&query).await.unwrap();
    assert_eq!(dashboard.metric_type, MetricType::Other("retention".into()));
}

#[tokio::test]
async fn watch_course_yields_each_poll() {
    let (server, client) = common::start_as(common::STUDENT).await;
    let polls: Vec<_> = client
        .progress()
        .watch_course("course-123", std::time::Duration::from_millis(10))
        .take(3)
        .collect()
        .await;
    assert_eq!(polls.len(), 3);
    assert!(polls.iter().all(Result::is_ok));
    let requests = server
        .requests()
        .iter()
        .filter(|request| request.path == "/api/progress/course/course-123")
        .count();
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn student_cannot_generate_content() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let error = client
        .content()
        .generate(&ContentRequest::lesson("Science", 6))
        .await
        .unwrap_err();
    assert!(matches!(error, APIError::Forbidden(_)), "{error:?}");
}

#[tokio::test]
async fn generated_lesson_has_roblox_integration() {
    let (_server, client) = common::start_as(common::TEACHER).await;
    let lesson = client
        .content()
        .generate(
            &ContentRequest::lesson("Science", 8)
                .environment_type(toolboxai::EnvironmentType::Laboratory),
        )
        .await
        .unwrap();
    let roblox = lesson.roblox_integration.unwrap();
    assert!(
        roblox.terrain_script.starts_with("--"),
        "{}",
        roblox.terrain_script
    );
    assert!(!roblox.ui_components.is_empty());
}

#[tokio::test]
async fn content_grade_outside_range_is_422() {
    let (_server, client) = common::start_as(common::TEACHER).await;
    let error = client
        .content()
        .generate(&ContentRequest::lesson("Science", 13))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
}
