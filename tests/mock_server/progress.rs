//! Course progress and the analytics dashboard.

use super::*;

#[tokio::test]
async fn course_progress_counts_passed_quiz_and_lesson() {
    let server = MockServer::start().await.expect("mock starts");
    let teacher = access_token(&server, TEACHER).await;
    let lesson = json!({"subject": "Mathematics", "grade_level": 7, "content_type": "lesson",
                        "learning_objectives": ["Understand fractions and decimals"]});
    let generated = post(&server, "/api/content/generate", Some(&teacher), lesson).await;
    assert_eq!(generated.status(), StatusCode::OK);
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let path = format!("/api/quiz/{quiz_id}/submit");
    post(&server, &path, Some(&student), perfect_answers()).await;

    let response = get(&server, "/api/progress/course/course-123", &student).await;
    let progress: Value = response.json().await.expect("progress is JSON");
    assert_eq!(progress["total_lessons"], 1);
    assert_eq!(progress["lessons_completed"], 1);
    assert_eq!(progress["quizzes_completed"], 1);
    assert_eq!(progress["overall_progress"], 100.0);
    assert_eq!(progress["time_spent"], 5);
}

#[tokio::test]
async fn unknown_course_not_found() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let response = get(&server, "/api/progress/course/course-999", &student).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn analytics_invalid_date_unprocessable() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let path = "/api/analytics/dashboard?metric_type=performance&start_date=2024-13-01";
    let response = get(&server, path, &student).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"][0]["loc"], json!(["query", "start_date"]));
}

#[tokio::test]
async fn analytics_counts_todays_activity() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    post(
        &server,
        &format!("/api/quiz/{quiz_id}/submit"),
        Some(&student),
        perfect_answers(),
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    let path = format!(
        "/api/analytics/dashboard?metric_type=performance&start_date={today}&end_date={today}"
    );
    let dashboard: Value = get(&server, &path, &student)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(dashboard["metric_type"], "performance");
    assert_eq!(dashboard["summary"]["active_users"], 2);
    assert_eq!(dashboard["summary"]["quizzes_completed"], 1);
    assert_eq!(dashboard["summary"]["average_score"], 100.0);
}
