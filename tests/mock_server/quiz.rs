//! Quiz creation, retrieval, submission and idempotent replay.

use super::*;

#[tokio::test]
async fn student_quiz_create_forbidden() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let response = post(&server, "/api/quiz/create", Some(&student), math_quiz()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.quiz_count(), 0);
}

#[tokio::test]
async fn unknown_quiz_not_found() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let response = get(&server, "/api/quiz/quiz-missing", &student).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"], "Quiz not found");
}

#[tokio::test]
async fn student_quiz_view_hides_answers() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let response = get(&server, &format!("/api/quiz/{quiz_id}"), &student).await;
    let quiz: Value = response.json().await.expect("quiz is JSON");
    assert_eq!(quiz["total_points"], 4);
    assert!(quiz["questions"][0].get("correct_answer").is_none());
    assert!(quiz["questions"][0].get("explanation").is_none());
}

#[tokio::test]
async fn perfect_submission_scores_and_unlocks() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let path = format!("/api/quiz/{quiz_id}/submit");
    let response = post(&server, &path, Some(&student), perfect_answers()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await.expect("result is JSON");
    assert_eq!(result["score"], 4);
    assert_eq!(result["percentage"], 100.0);
    assert_eq!(result["passed"], true);
    assert_eq!(result["xp_earned"], 110);
    let unlocked = json!(["First Quiz", "Perfect Score", "Quick Thinker"]);
    assert_eq!(result["achievements_unlocked"], unlocked);
}

#[tokio::test]
async fn idempotent_submit_replays_response() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let url = format!("{}/api/quiz/{quiz_id}/submit", server.url());
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let response = Client::new()
            .post(&url)
            .bearer_auth(&student)
            .header("Idempotency-Key", "submit-1")
            .json(&perfect_answers())
            .send()
            .await
            .expect("request reaches the mock");
        assert_eq!(response.status(), StatusCode::OK);
        bodies.push(response.bytes().await.expect("body is readable"));
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(server.submission_count(&quiz_id), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_same_key_submits_score_once() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let url = format!("{}/api/quiz/{quiz_id}/submit", server.url());
    let http = Client::new();
    let sends = (0..16).map(|_| {
        http.post(&url)
            .bearer_auth(&student)
            .header("Idempotency-Key", "submit-concurrent")
            .json(&perfect_answers())
            .send()
    });
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(
            response.expect("request reaches the mock").status(),
            StatusCode::OK
        );
    }
    assert_eq!(server.submission_count(&quiz_id), 1);
}

#[tokio::test]
async fn idempotency_key_reuse_with_other_body_conflicts() {
    let server = MockServer::start().await.expect("mock starts");
    let teacher = access_token(&server, TEACHER).await;
    let url = format!("{}/api/quiz/create", server.url());
    let mut statuses = Vec::new();
    for title in ["First", "Second"] {
        let mut body = math_quiz();
        body["title"] = json!(title);
        let response = Client::new()
            .post(&url)
            .bearer_auth(&teacher)
            .header("Idempotency-Key", "create-1")
            .json(&body)
            .send()
            .await
            .expect("request reaches the mock");
        statuses.push(response.status());
    }
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(server.quiz_count(), 1);
}

#[tokio::test]
async fn content_generate_student_forbidden() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let body = json!({"subject": "Science", "grade_level": 6, "content_type": "lesson"});
    let response = post(&server, "/api/content/generate", Some(&student), body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: Value = response.json().await.expect("error is JSON");
    assert_eq!(error["detail"], "Only teachers can generate content");
}

#[tokio::test]
async fn content_generate_lesson_has_roblox() {
    let server = MockServer::start().await.expect("mock starts");
    let teacher = access_token(&server, TEACHER).await;
    let body = json!({"subject": "Mathematics", "grade_level": 7, "content_type": "lesson",
                      "learning_objectives": ["Understand fractions and decimals"],
                      "environment_type": "classroom", "include_quiz": true,
                      "difficulty": "medium"});
    let response = post(&server, "/api/content/generate", Some(&teacher), body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content: Value = response.json().await.expect("content is JSON");
    let title = "Mathematics, grade 7: Understand fractions and decimals";
    assert_eq!(content["title"], title);
    assert_eq!(content["course_id"], "course-123");
    let script = content["roblox_integration"]["terrain_script"]
        .as_str()
        .unwrap_or_default();
    let first_line = "-- Terrain for a classroom lesson on Mathematics";
    assert_eq!(script.lines().next(), Some(first_line));
    assert_eq!(content["questions"][0]["id"], "q1");
}

#[tokio::test]
async fn content_generate_invalid_fields_table() {
    let server = MockServer::start().await.expect("mock starts");
    let teacher = access_token(&server, TEACHER).await;
    let valid = json!({"subject": "Science", "grade_level": 6, "content_type": "lesson"});
    let cases = [
        ("grade_level", json!(0)),
        ("grade_level", json!(13)),
        ("subject", json!("")),
    ];
    for (field, value) in cases {
        let mut body = valid.clone();
        body[field] = value.clone();
        let response = post(&server, "/api/content/generate", Some(&teacher), body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} = {value}"
        );
        let error: Value = response.json().await.expect("error is JSON");
        let loc = &error["detail"][0]["loc"];
        assert_eq!(loc, &json!(["body", field]), "{field} = {value}");
    }
}

#[tokio::test]
async fn quiz_create_invalid_fields_table() {
    let server = MockServer::start().await.expect("mock starts");
    let teacher = access_token(&server, TEACHER).await;
    let cases = [
        ("/title", json!(""), json!(["body", "title"])),
        ("/questions", json!([]), json!(["body", "questions"])),
        ("/grade_level", json!(13), json!(["body", "grade_level"])),
        (
            "/questions/0/correct_answer",
            json!("44"),
            json!(["body", "questions", 0, "correct_answer"]),
        ),
    ];
    for (pointer, value, expected_loc) in cases {
        let mut body = math_quiz();
        *body.pointer_mut(pointer).expect("field exists") = value.clone();
        let response = post(&server, "/api/quiz/create", Some(&teacher), body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pointer} = {value}"
        );
        let error: Value = response.json().await.expect("error is JSON");
        assert_eq!(
            error["detail"][0]["loc"], expected_loc,
            "{pointer} = {value}"
        );
    }
    assert_eq!(server.quiz_count(), 0);
}

#[tokio::test]
async fn submit_invalid_answers_table() {
    let server = MockServer::start().await.expect("mock starts");
    let quiz_id = create_math_quiz(&server).await;
    let student = access_token(&server, STUDENT).await;
    let path = format!("/api/quiz/{quiz_id}/submit");
    let cases = [
        (
            "unknown question",
            json!([{"question_id": "q9", "answer": "42"}]),
        ),
        (
            "duplicate answer",
            json!([{"question_id": "q1", "answer": "42"}, {"question_id": "q1", "answer": "41"}]),
        ),
    ];
    for (case, answers) in cases {
        let body = json!({"answers": answers, "time_taken": 10});
        let response = post(&server, &path, Some(&student), body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}"
        );
    }
    assert_eq!(server.submission_count(&quiz_id), 0);
}

#[tokio::test]
async fn submit_unknown_quiz_not_found() {
    let server = MockServer::start().await.expect("mock starts");
    let student = access_token(&server, STUDENT).await;
    let path = "/api/quiz/quiz-missing/submit";
    let response = post(&server, path, Some(&student), perfect_answers()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
