//! Course progress and the analytics dashboard.

use std::time::Duration;

use futures_core::Stream;
use tokio::time::{Interval, MissedTickBehavior};

use crate::client::Client;
use crate::error::{APIError, Result};
use crate::models::{AnalyticsDashboard, AnalyticsQuery, CourseProgress};
use crate::transport::{require_id, Call};

/// Reads course progress and analytics.
///
/// ```no_run
/// # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
/// use toolboxai::{AnalyticsQuery, MetricType};
///
/// let progress = client.progress().course("course-123").await?;
/// println!("{:.1} % done", progress.overall_progress);
/// let week = AnalyticsQuery::new(MetricType::Performance).last_days(7);
/// let analytics = client.progress().analytics(&week).await?;
/// println!("{} active users", analytics.summary.active_users);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ProgressTracker {
    client: Client,
}

impl ProgressTracker {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Fetches the caller's progress in a course with
    /// `GET /progress/course/{id}`.
    ///
    /// # Errors
    ///
    /// [`APIError::NotFound`] for an unknown course, [`APIError::InvalidInput`]
    /// for an empty id, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn course(&self, course_id: &str) -> Result<CourseProgress> {
        let course_id = require_id("course id", course_id)?;
        let call = Call::get(&["progress", "course", course_id]);
        self.client.send(call).await
    }

    /// Fetches the analytics dashboard with
    /// `GET /analytics/dashboard?metric_type&start_date&end_date`.
    ///
    /// # Errors
    ///
    /// [`APIError::InvalidInput`] when the start date is after the end date,
    /// [`APIError::Validation`] when the server rejects the query, and the
    /// [errors of every call](crate#errors-of-every-call).
    pub async fn analytics(&self, query: &AnalyticsQuery) -> Result<AnalyticsDashboard> {
        if let (Some(start), Some(end)) = (query.start_date, query.end_date) {
            if start > end {
                return Err(APIError::InvalidInput(format!(
                    "analytics start date {start} is after end date {end}"
                )));
            }
        }
        let mut call =
            Call::get(&["analytics", "dashboard"]).query("metric_type", query.metric_type.as_str());
        if let Some(start) = query.start_date {
            call = call.query("start_date", start.format("%Y-%m-%d").to_string());
        }
        if let Some(end) = query.end_date {
            call = call.query("end_date", end.format("%Y-%m-%d").to_string());
        }
        self.client.send(call).await
    }

    /// Polls a course's progress: the first item comes at once, then one
    /// every `interval`. A failed poll yields its error and polling goes on,
    /// so the caller decides when to stop by dropping the stream.
    ///
    /// # Errors
    ///
    /// Each item is the result of one [`ProgressTracker::course`] call and
    /// has its errors. An error item does not end the stream.
    ///
    /// # Panics
    ///
    /// When `interval` is zero.
    pub fn watch_course(
        &self,
        course_id: impl Into<String>,
        interval: Duration,
    ) -> impl Stream<Item = Result<CourseProgress>> + Send + 'static {
        assert!(!interval.is_zero(), "polling interval must not be zero");
        let state = (self.clone(), course_id.into(), None);
        futures_util::stream::unfold(state, move |(tracker, course_id, ticker)| async move {
            // The ticker is created on first poll, inside the runtime.
            let mut ticker: Interval = ticker.unwrap_or_else(|| {
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
                ticker
            });
            ticker.tick().await;
            let progress = tracker.course(&course_id).await;
            Some((progress, (tracker, course_id, Some(ticker))))
        })
    }
}
