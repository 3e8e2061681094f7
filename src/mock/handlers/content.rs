//! Deterministic content generation.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{authenticate, require_teacher};
use crate::mock::error::{check_grade, decode, parse_json, ApiError, ValidationIssue};
use crate::mock::state::{lock, ActivityKind, Shared};
use crate::mock::ws::event_data;
use crate::models::{
    AnswerValue, Content, ContentRequest, ContentSection, ContentType, ContentUpdateEvent,
    Difficulty, EnvironmentType, Question, QuestionType, RobloxIntegration, UiComponent,
};

/// `POST /content/generate`: generates content from the request, the same
/// content for the same request apart from `id` and `created_at`.
pub(super) async fn generate(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Content>, ApiError> {
    let user = authenticate(&shared, &headers)?;
    require_teacher(&user, "Only teachers can generate content")?;

    let mut value = parse_json(&body)?;
    let mut issues = Vec::new();
    if let Some(issue) = check_grade(&value, "grade_level") {
        issues.push(issue);
        // Replaced so that decoding reports the other fields, not this one.
        if let Some(object) = value.as_object_mut() {
            object.insert("grade_level".to_owned(), json!(1));
        }
    }
    let request: ContentRequest = decode(value)?;
    if request.subject.trim().is_empty() {
        issues.push(ValidationIssue::body_field(
            "subject",
            "subject must not be empty",
        ));
    }
    ApiError::check(issues)?;

    let content = {
        let mut store = lock(&shared.store);
        let course_id = store.file_under_course(request.course_id.as_deref());
        let content = build_content(&request, format!("content-{}", Uuid::new_v4()), course_id);
        store.contents.push(content.clone());
        store.record_activity(&user.id, ActivityKind::ContentGenerated, None);
        content
    };
    tracing::info!(content_id = %content.id, user_id = %user.id, "mock generated content");
    let event = ContentUpdateEvent {
        content_id: content.id.clone(),
        title: content.title.clone(),
        subject: content.subject.clone(),
    };
    shared.publish(&user.id, "content_update", event_data(&event));
    Ok(Json(content))
}

/// Builds content for a valid request: one section per objective, a Roblox
/// environment for lessons, and questions for quizzes and for requests with
/// `include_quiz`.
fn build_content(request: &ContentRequest, id: String, course_id: String) -> Content {
    let subject = request.subject.trim();
    let topic = request
        .learning_objectives
        .first()
        .cloned()
        .unwrap_or_else(|| format!("Introduction to {subject}"));
    let title = format!("{subject}, grade {}: {topic}", request.grade_level);

    let kind = request.content_type.as_str();
    let sections = if request.learning_objectives.is_empty() {
        vec![ContentSection {
            title: "Overview".to_owned(),
            body: format!(
                "This {kind} introduces {subject} at grade {}.",
                request.grade_level
            ),
        }]
    } else {
        request
            .learning_objectives
            .iter()
            .map(|objective| ContentSection {
                title: objective.clone(),
                body: format!(
                    "In this {kind}, grade {} learners work towards one objective: {objective}.",
                    request.grade_level
                ),
            })
            .collect()
    };

    let wants_questions =
        request.content_type == ContentType::Quiz || request.include_quiz == Some(true);
    let questions = if wants_questions {
        build_questions(subject, &request.learning_objectives)
    } else {
        Vec::new()
    };

    let environment = request
        .environment_type
        .clone()
        .unwrap_or(EnvironmentType::Classroom);
    let roblox_integration = (request.content_type == ContentType::Lesson)
        .then(|| build_roblox_integration(subject, &environment, &topic, !questions.is_empty()));

    Content {
        id,
        title,
        subject: subject.to_owned(),
        grade_level: request.grade_level,
        content_type: request.content_type.clone(),
        difficulty: Some(request.difficulty.clone().unwrap_or(Difficulty::Medium)),
        learning_objectives: request.learning_objectives.clone(),
        environment_type: Some(environment),
        course_id: Some(course_id),
        sections,
        questions,
        roblox_integration,
        created_at: Some(Utc::now()),
    }
}

/// Builds one multiple-choice question per objective and a closing
/// true/false question, numbered `q1..qN`.
fn build_questions(subject: &str, objectives: &[String]) -> Vec<Question> {
    let mut questions: Vec<Question> = objectives
        .iter()
        .map(|objective| Question {
            id: String::new(),
            question_text: format!(
                "Which of these is a learning objective of this {subject} unit?"
            ),
            question_type: QuestionType::MultipleChoice,
            options: vec![
                objective.clone(),
                "Memorise the phone book".to_owned(),
                "None of these".to_owned(),
            ],
            correct_answer: Some(AnswerValue::Text(objective.clone())),
            points: 1,
            explanation: Some(format!("The unit lists \"{objective}\" as an objective.")),
            media: None,
        })
        .collect();
    questions.push(Question {
        id: String::new(),
        question_text: format!("This unit is about {subject}."),
        question_type: QuestionType::TrueFalse,
        options: vec!["True".to_owned(), "False".to_owned()],
        correct_answer: Some(AnswerValue::Text("True".to_owned())),
        points: 1,
        explanation: Some(format!("The unit's subject is {subject}.")),
        media: None,
    });
    for (index, question) in questions.iter_mut().enumerate() {
        question.id = format!("q{}", index + 1);
    }
    questions
}

fn terrain_material(environment: &EnvironmentType) -> &'static str {
    match environment {
        EnvironmentType::Classroom => "WoodPlanks",
        EnvironmentType::Laboratory => "SmoothPlastic",
        EnvironmentType::Outdoor => "Grass",
        EnvironmentType::Historical => "Cobblestone",
        EnvironmentType::Space => "Basalt",
        _ => "Concrete",
    }
}

/// Builds a terrain script whose first line is a Luau comment naming the
/// environment and subject, a screen GUI with the topic, and a quiz button
/// when the lesson has questions.
fn build_roblox_integration(
    subject: &str,
    environment: &EnvironmentType,
    topic: &str,
    has_quiz: bool,
) -> RobloxIntegration {
    let terrain_script = format!(
        "-- Terrain for a {environment} lesson on {subject}\n\
         local terrain = workspace.Terrain\n\
         terrain:Clear()\n\
         terrain:FillBlock(CFrame.new(0, -4, 0), Vector3.new(256, 8, 256), Enum.Material.{})\n",
        terrain_material(environment)
    );
    let mut ui_components = vec![
        UiComponent {
            name: "LessonGui".to_owned(),
            component_type: "ScreenGui".to_owned(),
            script: None,
        },
        UiComponent {
            name: "TopicLabel".to_owned(),
            component_type: "TextLabel".to_owned(),
            script: Some(format!("script.Parent.Text = {topic:?}")),
        },
    ];
    if has_quiz {
        ui_components.push(UiComponent {
            name: "QuizButton".to_owned(),
            component_type: "TextButton".to_owned(),
            script: Some(
                "script.Parent.Activated:Connect(function()\n\
                 \tgame.ReplicatedStorage.StartQuiz:FireServer()\n\
                 end)"
                    .to_owned(),
            ),
        });
    }
    RobloxIntegration {
        terrain_script,
        ui_components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson() -> ContentRequest {
        ContentRequest::lesson("Mathematics", 7)
            .learning_objectives(["Understand fractions and decimals", "Add fractions"])
            .include_quiz(true)
    }

    fn build(request: &ContentRequest) -> Content {
        build_content(request, "content-1".to_owned(), "course-123".to_owned())
    }

    #[test]
    fn title_names_subject_grade_and_first_objective() {
        let content = build(&lesson());
        assert_eq!(
            content.title,
            "Mathematics, grade 7: Understand fractions and decimals"
        );
    }

    #[test]
    fn one_section_per_objective() {
        assert_eq!(build(&lesson()).sections.len(), 2);
    }

    #[test]
    fn terrain_script_starts_with_environment_comment() {
        let content = build(&lesson());
        let script = content
            .roblox_integration
            .expect("lessons get Roblox")
            .terrain_script;
        let first_line = script.lines().next().unwrap_or_default();
        assert_eq!(
            first_line,
            "-- Terrain for a classroom lesson on Mathematics"
        );
    }

    #[test]
    fn lesson_with_quiz_gets_numbered_questions() {
        let ids: Vec<String> = build(&lesson())
            .questions
            .into_iter()
            .map(|q| q.id)
            .collect();
        assert_eq!(ids, ["q1", "q2", "q3"]);
    }

    #[test]
    fn lesson_without_quiz_gets_no_questions() {
        let request = ContentRequest::lesson("Science", 6);
        assert!(build(&request).questions.is_empty());
    }

    #[test]
    fn quiz_content_gets_no_roblox_integration() {
        let request = ContentRequest::quiz("Science", 6);
        assert!(build(&request).roblox_integration.is_none());
    }

    #[test]
    fn ui_components_count_table() {
        let cases = [(lesson(), 3), (lesson().include_quiz(false), 2)];
        for (request, expected) in cases {
            let integration = build(&request)
                .roblox_integration
                .expect("lessons get Roblox");
            assert_eq!(integration.ui_components.len(), expected, "{request:?}");
        }
    }
}
