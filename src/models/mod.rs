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
