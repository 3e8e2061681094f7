//! Course progress and analytics.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::string_enum::string_enum;

/// A learner's progress in one course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseProgress {
    /// Id of the course.
    pub course_id: String,
    /// Id of the learner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Completed share of the course, 0 to 100.
    pub overall_progress: f64,
    /// Lessons completed.
    pub lessons_completed: u32,
    /// Lessons in the course.
    pub total_lessons: u32,
    /// Quizzes completed.
    pub quizzes_completed: u32,
    /// Quizzes in the course.
    pub total_quizzes: u32,
    /// Mean percentage over completed quizzes, 0 to 100.
    pub average_quiz_score: f64,
    /// Minutes spent.
    pub time_spent: u64,
    /// Achievements earned in the course.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub achievements: Vec<Achievement>,
}

/// An earned achievement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Achievement {
    /// Name.
    pub name: String,
    /// When it was earned.
    pub earned_at: DateTime<Utc>,
}

string_enum! {
    /// The family of metrics the analytics dashboard reports on.
    pub enum MetricType {
        /// Activity of users.
        Engagement => "engagement",
        /// Quiz results.
        Performance => "performance",
        /// Content and platform use.
        Usage => "usage",
    }
}

/// Query of `GET /analytics/dashboard`.
///
/// ```
/// use toolboxai::{AnalyticsQuery, MetricType};
///
/// let query = AnalyticsQuery::new(MetricType::Performance).last_days(7);
/// assert!(query.start_date.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsQuery {
    /// Metric family. Default is engagement.
    pub metric_type: MetricType,
    /// First day included, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Last day included, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
}

impl Default for AnalyticsQuery {
    fn default() -> Self {
        Self::new(MetricType::Engagement)
    }
}

impl AnalyticsQuery {
    /// Creates a query over all time.
    pub fn new(metric_type: MetricType) -> Self {
        Self {
            metric_type,
            start_date: None,
            end_date: None,
        }
    }

    /// Sets the first and last day included.
    pub fn between(mut self, start_date: NaiveDate, end_date: NaiveDate) -> Self {
        self.start_date = Some(start_date);
        self.end_date = Some(end_date);
        self
    }

    /// Sets the range to the `days` days up to and including today (UTC).
    pub fn last_days(self, days: u64) -> Self {
        let today = Utc::now().date_naive();
        let start = today.checked_sub_days(Days::new(days)).unwrap_or(today);
        self.between(start, today)
    }
}

/// Response of the analytics dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsDashboard {
    /// Metric family, as requested.
    pub metric_type: MetricType,
    /// First day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Last day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// Totals over the range.
    pub summary: AnalyticsSummary,
}

/// Totals of the analytics dashboard.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnalyticsSummary {
    /// Distinct users active in the range.
    pub active_users: u64,
    /// Content items generated in the range.
    pub content_generated: u64,
    /// Quiz submissions in the range.
    pub quizzes_completed: u64,
    /// Mean quiz percentage in the range, when any quiz was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_score: Option<f64>,
}
