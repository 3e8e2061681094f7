//! Course progress and the analytics dashboard.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::NaiveDate;
use serde_json::json;

use super::authenticate;
use crate::mock::error::{ApiError, ValidationIssue};
use crate::mock::state::Shared;
use crate::mock::state::{lock, ActivityKind, Store};
use crate::models::{
    AnalyticsDashboard, AnalyticsSummary, ContentType, CourseProgress, MetricType,
};

/// `GET /progress/course/{course_id}`: returns the caller's progress in a
/// known course.
pub(super) async fn course_progress(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(course_id): Path<String>,
) -> Result<Json<CourseProgress>, ApiError> {
    let user = authenticate(&shared, &headers)?;
    let store = lock(&shared.store);
    if !store.courses.contains(&course_id) {
        return Err(ApiError::not_found("Course not found"));
    }
    Ok(Json(compute_course_progress(&store, &user.id, &course_id)))
}

/// Computes a user's progress in a course from stored quizzes, lessons and
/// submissions.
///
/// - `quizzes_completed` counts distinct quizzes of the course the user
///   submitted, and `average_quiz_score` is the mean of the user's best
///   percentage on each of them.
/// - `lessons_completed` counts lessons of the course whose subject equals
///   the subject of a quiz of the course that the user passed, because the
///   API has no call that marks a lesson as viewed.
/// - `overall_progress` is completed lessons and quizzes over all lessons and
///   quizzes of the course, times 100, and 0 for an empty course.
/// - `time_spent` is the total `time_taken` of the user's submissions in the
///   course, in minutes rounded up.
/// - `achievements` lists all of the user's achievements, because
///   achievements are not tied to a course.
pub(crate) fn compute_course_progress(
    store: &Store,
    user_id: &str,
    course_id: &str,
) -> CourseProgress {
    let in_course = |id: &Option<String>| id.as_deref() == Some(course_id);
    let course_quizzes: HashMap<&str, &str> = store
        .quizzes
        .values()
        .filter(|quiz| in_course(&quiz.course_id))
        .map(|quiz| (quiz.id.as_str(), quiz.subject.as_str()))
        .collect();

    let mut best_percentage: HashMap<&str, f64> = HashMap::new();
    let mut passed_subjects: HashSet<&str> = HashSet::new();
    let mut seconds_spent: u64 = 0;
    let user_submissions = store
        .submissions
        .iter()
        .filter(|submission| submission.user_id == user_id);
    for submission in user_submissions {
        let Some(subject) = course_quizzes.get(submission.quiz_id.as_str()) else {
            continue;
        };
        let best = best_percentage
            .entry(submission.quiz_id.as_str())
            .or_insert(submission.percentage);
        *best = best.max(submission.percentage);
        if submission.passed {
            passed_subjects.insert(subject);
        }
        seconds_spent = seconds_spent.saturating_add(submission.time_taken);
    }

    let lessons: Vec<&str> = store
        .contents
        .iter()
        .filter(|content| in_course(&content.course_id))
        .filter(|content| content.content_type == ContentType::Lesson)
        .map(|content| content.subject.as_str())
        .collect();
    let lessons_completed = lessons
        .iter()
        .filter(|subject| passed_subjects.contains(*subject))
        .count();

    let total_lessons = lessons.len();
    let total_quizzes = course_quizzes.len();
    let quizzes_completed = best_percentage.len();
    let total_items = total_lessons + total_quizzes;
    let overall_progress = if total_items == 0 {
        0.0
    } else {
        (lessons_completed + quizzes_completed) as f64 / total_items as f64 * 100.0
    };
    let average_quiz_score = if best_percentage.is_empty() {
        0.0
    } else {
        best_percentage.values().sum::<f64>() / best_percentage.len() as f64
    };

    CourseProgress {
        course_id: course_id.to_owned(),
        user_id: Some(user_id.to_owned()),
        overall_progress,
        lessons_completed: to_u32(lessons_completed),
        total_lessons: to_u32(total_lessons),
        quizzes_completed: to_u32(quizzes_completed),
        total_quizzes: to_u32(total_quizzes),
        average_quiz_score,
        time_spent: seconds_spent.div_ceil(60),
        achievements: store.achievements.get(user_id).cloned().unwrap_or_default(),
    }
}

fn to_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// `GET /analytics/dashboard`: counts recorded activity of all users between
/// `start_date` and `end_date`, both included and in UTC. A missing date
/// leaves that end of the range open.
pub(super) async fn analytics_dashboard(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<AnalyticsDashboard>, ApiError> {
    authenticate(&shared, &headers)?;

    let mut metric_type = MetricType::Engagement;
    let mut start_date = None;
    let mut end_date = None;
    let mut issues = Vec::new();
    let pairs = url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes());
    for (name, value) in pairs {
        match name.as_ref() {
            "metric_type" => metric_type = MetricType::from(value.as_ref()),
            "start_date" => start_date = parse_date("start_date", &value, &mut issues),
            "end_date" => end_date = parse_date("end_date", &value, &mut issues),
            _ => {}
        }
    }
    if let (Some(start), Some(end)) = (start_date, end_date) {
        if start > end {
            let msg = format!("start_date {start} must not be after end_date {end}");
            issues.push(query_issue("start_date", msg));
        }
    }
    ApiError::check(issues)?;

    let store = lock(&shared.store);
    let in_range = store.activity.iter().filter(|activity| {
        let day = activity.at.date_naive();
        start_date.is_none_or(|start| day >= start) && end_date.is_none_or(|end| day <= end)
    });
    let mut active_users = HashSet::new();
    let mut summary = AnalyticsSummary::default();
    let mut percentages = Vec::new();
    for activity in in_range {
        active_users.insert(activity.user_id.as_str());
        match activity.kind {
            ActivityKind::ContentGenerated => summary.content_generated += 1,
            ActivityKind::QuizSubmitted => {
                summary.quizzes_completed += 1;
                percentages.extend(activity.percentage);
            }
            ActivityKind::Login | ActivityKind::QuizCreated => {}
        }
    }
    summary.active_users = active_users.len() as u64;
    summary.average_score = (!percentages.is_empty())
        .then(|| percentages.iter().sum::<f64>() / percentages.len() as f64);

    Ok(Json(AnalyticsDashboard {
        metric_type,
        start_date,
        end_date,
        summary,
    }))
}

fn query_issue(field: &str, msg: String) -> ValidationIssue {
    ValidationIssue::new(vec![json!("query"), json!(field)], msg)
}

/// Parses a date in the form `YYYY-MM-DD`, with exactly that many digits,
/// and records a 422 issue otherwise.
fn parse_date(field: &str, value: &str, issues: &mut Vec<ValidationIssue>) -> Option<NaiveDate> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    if date.is_none() {
        let msg = format!("{field} must be a date in the form YYYY-MM-DD, got {value:?}");
        issues.push(query_issue(field, msg));
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_parsing_table() {
        let cases = [
            ("2024-03-01", true),
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2024-3-1", false),
            ("2024/03/01", false),
            ("03-01-2024", false),
            ("2024-03-01T00:00:00", false),
            ("", false),
        ];
        for (value, valid) in cases {
            let mut issues = Vec::new();
            let parsed = parse_date("start_date", value, &mut issues);
            assert_eq!(parsed.is_some(), valid, "{value:?}");
            assert_eq!(issues.is_empty(), valid, "{value:?}");
        }
    }
}
