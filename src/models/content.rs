//! AI-generated lessons and quizzes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::quiz::Question;
use super::string_enum::string_enum;

string_enum! {
    /// The kind of content to generate.
    pub enum ContentType {
        /// A lesson with sections and an optional Roblox environment.
        Lesson => "lesson",
        /// A quiz of generated questions.
        Quiz => "quiz",
        /// A hands-on activity.
        Activity => "activity",
        /// A graded assessment.
        Assessment => "assessment",
    }
}

string_enum! {
    /// Difficulty level of generated content or a quiz.
    pub enum Difficulty {
        /// Easy.
        Easy => "easy",
        /// Medium, the server's default.
        Medium => "medium",
        /// Hard.
        Hard => "hard",
        /// Expert.
        Expert => "expert",
    }
}

string_enum! {
    /// The Roblox environment a lesson is staged in.
    pub enum EnvironmentType {
        /// A classroom.
        Classroom => "classroom",
        /// A science laboratory.
        Laboratory => "laboratory",
        /// An outdoor landscape.
        Outdoor => "outdoor",
        /// A historical setting.
        Historical => "historical",
        /// A space station.
        Space => "space",
    }
}

/// Body of `POST /content/generate`.
///
/// ```
/// use toolboxai::{ContentRequest, Difficulty, EnvironmentType};
///
/// let request = ContentRequest::lesson("Mathematics", 7)
///     .learning_objectives(["Understand fractions and decimals"])
///     .environment_type(EnvironmentType::Classroom)
///     .include_quiz(true)
///     .difficulty(Difficulty::Medium);
/// assert_eq!(request.grade_level, 7);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentRequest {
    /// Subject, such as `Mathematics`.
    pub subject: String,
    /// School grade, 1 to 12.
    pub grade_level: u8,
    /// Kind of content to generate.
    pub content_type: ContentType,
    /// Objectives the learner should reach.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub learning_objectives: Vec<String>,
    /// Roblox environment for the lesson.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<EnvironmentType>,
    /// Whether a lesson also gets quiz questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_quiz: Option<bool>,
    /// Difficulty of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    /// Course the content belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
}

impl ContentRequest {
    /// Creates a request of the given type with no objectives or options.
    pub fn new(subject: impl Into<String>, grade_level: u8, content_type: ContentType) -> Self {
        Self {
            subject: subject.into(),
            grade_level,
            content_type,
            learning_objectives: Vec::new(),
            environment_type: None,
            include_quiz: None,
            difficulty: None,
            course_id: None,
        }
    }

    /// Creates a lesson request.
    pub fn lesson(subject: impl Into<String>, grade_level: u8) -> Self {
        Self::new(subject, grade_level, ContentType::Lesson)
    }

    /// Creates a quiz request.
    pub fn quiz(subject: impl Into<String>, grade_level: u8) -> Self {
        Self::new(subject, grade_level, ContentType::Quiz)
    }

    /// Sets the learning objectives.
    pub fn learning_objectives<I, S>(mut self, objectives: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.learning_objectives = objectives.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the Roblox environment.
    pub fn environment_type(mut self, environment_type: EnvironmentType) -> Self {
        self.environment_type = Some(environment_type);
        self
    }

    /// Sets whether a lesson also gets quiz questions.
    pub fn include_quiz(mut self, include_quiz: bool) -> Self {
        self.include_quiz = Some(include_quiz);
        self
    }

    /// Sets the difficulty.
    pub fn difficulty(mut self, difficulty: Difficulty) -> Self {
        self.difficulty = Some(difficulty);
        self
    }

    /// Sets the course the content belongs to.
    pub fn course_id(mut self, course_id: impl Into<String>) -> Self {
        self.course_id = Some(course_id.into());
        self
    }
}

/// Generated content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Server-assigned id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Subject, as requested.
    pub subject: String,
    /// School grade, as requested.
    pub grade_level: u8,
    /// Kind of content generated.
    pub content_type: ContentType,
    /// Difficulty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    /// Learning objectives, as requested.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub learning_objectives: Vec<String>,
    /// Environment, as requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<EnvironmentType>,
    /// Course the content belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    /// Lesson text, in sections.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub sections: Vec<ContentSection>,
    /// Quiz questions, for quizzes and for lessons that include a quiz.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub questions: Vec<Question>,
    /// Roblox scripts and UI for the lesson environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roblox_integration: Option<RobloxIntegration>,
    /// When the content was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// One section of a lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentSection {
    /// Heading.
    pub title: String,
    /// Text.
    #[serde(default)]
    pub body: String,
}

/// Roblox assets that stage a lesson.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RobloxIntegration {
    /// Luau script that builds the terrain.
    #[serde(default)]
    pub terrain_script: String,
    /// UI components placed in the environment.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub ui_components: Vec<UiComponent>,
}

/// A Roblox UI component.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UiComponent {
    /// Name of the component instance.
    #[serde(default)]
    pub name: String,
    /// Roblox class, such as `ScreenGui` or `TextLabel`.
    #[serde(default, rename = "type")]
    pub component_type: String,
    /// Luau script attached to the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}
