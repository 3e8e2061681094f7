//! A live progress dashboard: course progress polled with
//! `ProgressTracker::watch_course` and drawn as terminal progress bars while
//! a student submits quizzes, then the analytics summary of the last 7 days.
//!
//! The dashboard polls a fixed number of times, so the example ends on its
//! own in about two seconds. Bars are drawn only when stderr is a terminal,
//! and otherwise each poll is printed as one line.
//!
//! ```text
//! cargo run --example progress_dashboard
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example progress_dashboard
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use toolboxai::{
    AnalyticsQuery, Answer, Client, ContentRequest, CourseProgress, MetricType, NewQuestion,
    NewQuiz, QuestionType, Role,
};

/// Course the example's lesson and quizzes are filed under. The embedded
/// mock contains only this course.
const COURSE_ID: &str = "course-123";
/// Quizzes the teacher creates and the student submits, one at a time.
const QUIZ_COUNT: usize = 4;
/// Time between two progress polls.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Polls before the dashboard stops: 9 polls 250 ms apart span 2 s.
const POLL_ROUNDS: usize = 9;
/// Time between two quiz submissions, so that polls see them one by one.
const SUBMIT_INTERVAL: Duration = Duration::from_millis(400);

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("progress dashboard example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let client = target.client;
    let teacher = common::register(&client, "Quinn Teacher", Role::Teacher).await?;
    let student = common::register(&client, "Sam Student", Role::Student).await?;

    // The teacher fills the course: a lesson and a few one-question quizzes
    // of the same subject. The course's progress counts both.
    client.auth().login(&teacher, common::PASSWORD).await?;
    let lesson = ContentRequest::lesson("Mathematics", 7)
        .learning_objectives(["Add fractions"])
        .course_id(COURSE_ID);
    client.content().generate(&lesson).await?;
    let mut quiz_ids = Vec::new();
    for number in 1..=QUIZ_COUNT {
        let quiz = client.quizzes().create(&fraction_quiz(number)).await?;
        quiz_ids.push(quiz.id);
    }

    // The student submits the quizzes in the background while the
    // dashboard below polls. Both share the client and so the login.
    client.auth().login(&student, common::PASSWORD).await?;
    let submitter = tokio::spawn(submit_all(client.clone(), quiz_ids));

    // `watch_course` yields at once and then once per interval. A failed
    // poll yields its error and polling goes on. The stream never ends by
    // itself, so `take` bounds it.
    let dashboard = Dashboard::new();
    let polls = client
        .progress()
        .watch_course(COURSE_ID, POLL_INTERVAL)
        .take(POLL_ROUNDS);
    let mut polls = std::pin::pin!(polls);
    let mut round = 0;
    let mut last_error = None;
    while let Some(poll) = polls.next().await {
        round += 1;
        match poll {
            Ok(progress) => dashboard.draw(round, &progress),
            Err(error) => {
                dashboard.println(&format!("poll {round} failed: {error}"));
                last_error = Some(error);
            }
        }
    }
    dashboard.finish();
    let submitted = submitter.await.map_err(|error| {
        toolboxai::APIError::InvalidInput(format!("quiz submission task failed: {error}"))
    })??;
    println!("\nThe student submitted {submitted} quizzes during {round} polls.");
    if let Some(error) = last_error {
        return Err(error);
    }

    // The analytics dashboard sums activity over a date range.
    let week = AnalyticsQuery::new(MetricType::Performance).last_days(7);
    let analytics = client.progress().analytics(&week).await?;
    let summary = &analytics.summary;
    println!("\nAnalytics, last 7 days");
    println!("  active users       {}", summary.active_users);
    println!("  content generated  {}", summary.content_generated);
    println!("  quizzes completed  {}", summary.quizzes_completed);
    if let Some(average) = summary.average_score {
        println!("  average score      {average:.1} %");
    }
    Ok(())
}

/// Submits a correct answer to each quiz, pausing before each, and returns
/// how many were submitted.
async fn submit_all(client: Client, quiz_ids: Vec<String>) -> toolboxai::Result<usize> {
    for quiz_id in &quiz_ids {
        tokio::time::sleep(SUBMIT_INTERVAL).await;
        let answers = vec![Answer::new("q1", "True")];
        client.quizzes().submit(quiz_id, answers, 30).await?;
    }
    Ok(quiz_ids.len())
}

/// A one-question quiz whose correct answer is `True`.
fn fraction_quiz(number: usize) -> NewQuiz {
    let question = NewQuestion::new(
        QuestionType::TrueFalse,
        format!("Is 1/{number} + 1/{number} equal to 2/{number}?"),
        "True",
        1,
    )
    .options(["True", "False"]);
    NewQuiz::new(format!("Fractions {number}"), "Mathematics", vec![question]).course_id(COURSE_ID)
}

/// Four progress bars, one per figure of [`CourseProgress`].
struct Dashboard {
    bars: MultiProgress,
    overall: ProgressBar,
    quizzes: ProgressBar,
    lessons: ProgressBar,
    average: ProgressBar,
}

impl Dashboard {
    fn new() -> Self {
        let bars = MultiProgress::new();
        let add = |label: &str, length: u64| {
            let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {msg}")
                .expect("the bar template is valid")
                .progress_chars("=> ");
            let bar = bars.add(ProgressBar::new(length).with_style(style));
            bar.set_prefix(label.to_owned());
            bar
        };
        Self {
            overall: add("overall", 100),
            quizzes: add("quizzes", 0),
            lessons: add("lessons", 0),
            average: add("average", 100),
            bars,
        }
    }

    /// Sets every bar from one poll, or prints the poll as a line when the
    /// bars are hidden.
    fn draw(&self, round: usize, progress: &CourseProgress) {
        if self.bars.is_hidden() {
            println!(
                "poll {round}: overall {:.1} %, quizzes {}/{}, lessons {}/{}, average {:.1} %",
                progress.overall_progress,
                progress.quizzes_completed,
                progress.total_quizzes,
                progress.lessons_completed,
                progress.total_lessons,
                progress.average_quiz_score
            );
            return;
        }
        set_percent(&self.overall, progress.overall_progress);
        set_count(
            &self.quizzes,
            progress.quizzes_completed,
            progress.total_quizzes,
        );
        set_count(
            &self.lessons,
            progress.lessons_completed,
            progress.total_lessons,
        );
        set_percent(&self.average, progress.average_quiz_score);
    }

    fn println(&self, line: &str) {
        if self.bars.is_hidden() || self.bars.println(line).is_err() {
            eprintln!("{line}");
        }
    }

    /// Leaves the bars on screen at their last values.
    fn finish(&self) {
        for bar in [&self.overall, &self.quizzes, &self.lessons, &self.average] {
            bar.abandon();
        }
    }
}

fn set_percent(bar: &ProgressBar, percent: f64) {
    bar.set_position(percent.clamp(0.0, 100.0).round() as u64);
    bar.set_message(format!("{percent:.1} %"));
}

fn set_count(bar: &ProgressBar, done: u32, total: u32) {
    bar.set_length(total.into());
    bar.set_position(done.into());
    bar.set_message(format!("{done}/{total}"));
}
