//! Payloads of the events the server pushes over the WebSocket.
//!
//! Each struct is the `data` member of an envelope
//! `{"type": ..., "data": ..., "timestamp": ...}`. The client decodes them
//! into [`ServerEvent`](crate::websocket::ServerEvent) variants and the mock
//! server encodes them, so both sides share one definition.

use serde::{Deserialize, Serialize};

/// Data of a `quiz_result` event, sent to the user who submitted a quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizResultEvent {
    /// Id of the submitted quiz.
    pub quiz_id: String,
    /// Points scored.
    pub score: u32,
    /// Points available.
    pub total: u32,
    /// Score as a percentage of the total, from 0 to 100.
    pub percentage: f64,
    /// Whether the score reached the pass mark.
    pub passed: bool,
}

/// Data of a `progress_update` event, sent when a user's course progress
/// changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressUpdateEvent {
    /// Id of the course.
    pub course_id: String,
    /// Overall progress in the course, from 0 to 100.
    pub percentage: f64,
}

/// Data of a `content_update` event, sent when content was generated or
/// changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentUpdateEvent {
    /// Id of the content.
    pub content_id: String,
    /// Title of the content.
    pub title: String,
    /// Subject of the content.
    pub subject: String,
}

/// Data of a `notification` event: a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    /// Text of the notification.
    pub message: String,
}
