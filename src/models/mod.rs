//! Request and response types of the ToolboxAI protocol.
//!
//! The client and the mock server share these types, so a field renamed on
//! one side breaks the build instead of a test run. Enums that the server may
//! extend keep an `Other` variant holding the unknown value, so a new server
//! value never breaks decoding.

mod auth;
mod content;
mod events;
mod progress;
mod quiz;
mod string_enum;

pub use auth::{LoginRequest, RefreshRequest, RegisterRequest, Role, TokenResponse, User};
pub use content::{
    Content, ContentRequest, ContentSection, ContentType, Difficulty, EnvironmentType,
    RobloxIntegration, UiComponent,
};
pub use events::{ContentUpdateEvent, NotificationEvent, ProgressUpdateEvent, QuizResultEvent};
pub use progress::{
    Achievement, AnalyticsDashboard, AnalyticsQuery, AnalyticsSummary, CourseProgress, MetricType,
};
pub use quiz::{
    Answer, AnswerValue, Media, NewQuestion, NewQuiz, Question, QuestionType, Quiz, QuizResult,
    QuizSubmission,
};

use serde::{Deserialize, Deserializer};

/// Reads `null` as the type's default, for list fields that a server may
/// send as `null` instead of leaving them out or sending `[]`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::QuizResult;

    #[test]
    fn null_list_reads_as_empty() {
        let body = r#"{"score": 1, "total_points": 2, "percentage": 50.0, "passed": false,
                       "xp_earned": 10, "achievements_unlocked": null}"#;
        let result: QuizResult = serde_json::from_str(body).unwrap();
        assert!(result.achievements_unlocked.is_empty());
    }

    #[test]
    fn wrong_list_type_is_an_error() {
        let body = r#"{"score": 1, "total_points": 2, "percentage": 50.0, "passed": false,
                       "xp_earned": 10, "achievements_unlocked": "none"}"#;
        assert!(serde_json::from_str::<QuizResult>(body).is_err());
    }
}
