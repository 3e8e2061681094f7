//! The whole ToolboxAI flow: accounts, a lesson, a quiz, a submission and
//! its result pushed over the WebSocket, progress and analytics.
//!
//! Runs against the embedded mock server, or against a live server when
//! `TOOLBOXAI_BASE_URL` is set. The WebSocket step then also needs
//! `TOOLBOXAI_WS_URL` and is skipped without it:
//!
//! ```text
//! cargo run --example quickstart
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example quickstart
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use toolboxai::{
    AnalyticsQuery, Client, ContentRequest, Difficulty, EnvironmentType, MetricType, NewQuestion,
    NewQuiz, QuestionType, RegisterRequest, Role,
};
use toolboxai::{EventStream, ServerEvent, WebSocketClient};

/// Password of the accounts the example registers.
const PASSWORD: &str = "QuickstartPass123!";

/// How long the example waits for the `quiz_result` event.
const SOCKET_EVENT_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            eprintln!("error code: {}", error.code());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let has_websocket = target.has_websocket;
    let client = target.client;
    let auth = client.auth();

    // Register a teacher and a student. Unique emails let the example run
    // again against the same server.
    let suffix = &unique_suffix();
    let teacher_email = format!("teacher-{suffix}@example.com");
    let student_email = format!("student-{suffix}@example.com");
    let teacher = auth
        .register(&RegisterRequest::new(
            &teacher_email,
            PASSWORD,
            "Quinn Teacher",
            Role::Teacher,
        ))
        .await?;
    let student = auth
        .register(
            &RegisterRequest::new(&student_email, PASSWORD, "Sam Student", Role::Student)
                .grade_level(7),
        )
        .await?;
    println!("\nRegistered");
    println!("  teacher  {} ({})", teacher.email, teacher.id);
    println!("  student  {} ({})", student.email, student.id);

    // The teacher generates a lesson staged in a Roblox classroom.
    auth.login(&teacher_email, PASSWORD).await?;
    let lesson_request = ContentRequest::lesson("Mathematics", 7)
        .learning_objectives([
            "Understand fractions and decimals",
            "Solve fraction addition problems",
            "Convert between fractions and decimals",
        ])
        .environment_type(EnvironmentType::Classroom)
        .include_quiz(true)
        .difficulty(Difficulty::Medium);
    let lesson = client.content().generate(&lesson_request).await?;
    println!("\nLesson");
    println!("  id       {}", lesson.id);
    println!("  title    {}", lesson.title);
    match &lesson.roblox_integration {
        Some(roblox) => {
            let first_line = roblox.terrain_script.lines().next().unwrap_or("(empty)");
            println!("  terrain  {first_line}");
            println!("  ui       {} components", roblox.ui_components.len());
        }
        None => println!("  terrain  (the server sent no Roblox integration)"),
    }

    // The teacher creates the three-question math quiz.
    let quiz = client.quizzes().create(&math_quiz()).await?;
    println!("\nQuiz");
    println!("  id       {}", quiz.id);
    println!("  title    {}", quiz.title);
    println!("  questions {}", quiz.questions.len());
    println!("  points   {} total", quiz.total_points);

    // The student logs in and opens the WebSocket before submitting, so the
    // server can push the result.
    auth.login(&student_email, PASSWORD).await?;
    let socket = if has_websocket {
        Some(open_socket(&client).await?)
    } else {
        println!("\nWebSocket step skipped: TOOLBOXAI_WS_URL is not set");
        None
    };

    // The student loads the quiz and submits timed answers.
    let mut attempt = client.quizzes().start_attempt(&quiz.id).await?;
    attempt.answer("q1", "42")?;
    attempt.answer("q2", "True")?;
    attempt.answer("q3", "0.75")?;
    let result = attempt.submit().await?;
    println!("\nResult");
    println!(
        "  score    {}/{} ({:.0} %, {})",
        result.score,
        result.total_points,
        result.percentage,
        if result.passed {
            "passed"
        } else {
            "not passed"
        }
    );
    println!("  xp       {}", result.xp_earned);
    for achievement in &result.achievements_unlocked {
        println!("  unlocked {achievement}");
    }
    if let Some((socket, events)) = socket {
        print_pushed_result(events).await;
        socket.disconnect().await;
    }

    print_progress(&client, quiz.course_id.as_deref().unwrap_or("course-123")).await?;

    let week = AnalyticsQuery::new(MetricType::Performance).last_days(7);
    let analytics = client.progress().analytics(&week).await?;
    println!("\nAnalytics, last 7 days");
    println!("  active users       {}", analytics.summary.active_users);
    println!(
        "  content generated  {}",
        analytics.summary.content_generated
    );
    println!(
        "  quizzes completed  {}",
        analytics.summary.quizzes_completed
    );
    Ok(())
}

/// Connects the student's WebSocket and subscribes to course updates.
async fn open_socket(client: &Client) -> toolboxai::Result<(WebSocketClient, EventStream)> {
    let socket = client.websocket();
    let events = socket.events();
    socket.connect().await?;
    socket.subscribe(["course_updates"])?;
    println!("\nWebSocket connected to {}", client.ws_url());
    Ok((socket, events))
}

/// Prints the `quiz_result` event the submission pushed, waiting at most
/// `SOCKET_EVENT_TIMEOUT`.
async fn print_pushed_result(mut events: EventStream) {
    let waiting = async {
        while let Some(event) = events.next().await {
            if let ServerEvent::QuizResult(result) = event {
                return Some(result);
            }
        }
        None
    };
    println!("\nPushed over the WebSocket");
    match tokio::time::timeout(SOCKET_EVENT_TIMEOUT, waiting).await {
        Ok(Some(result)) => println!(
            "  quiz_result  {}/{} ({:.0} %)",
            result.score, result.total, result.percentage
        ),
        Ok(None) => println!("  the connection ended before a quiz_result arrived"),
        Err(_) => println!(
            "  no quiz_result within {} s",
            SOCKET_EVENT_TIMEOUT.as_secs()
        ),
    }
}

async fn print_progress(client: &Client, course_id: &str) -> toolboxai::Result<()> {
    let progress = client.progress().course(course_id).await?;
    println!("\nCourse progress ({course_id})");
    println!("  overall  {:.1} %", progress.overall_progress);
    println!(
        "  lessons  {}/{}",
        progress.lessons_completed, progress.total_lessons
    );
    println!(
        "  quizzes  {}/{}",
        progress.quizzes_completed, progress.total_quizzes
    );
    println!("  average  {:.1} %", progress.average_quiz_score);
    println!("  time     {} min", progress.time_spent);
    Ok(())
}

/// Returns the reference's three-question quiz: 1 + 1 + 2 = 4 points.
fn math_quiz() -> NewQuiz {
    let questions = vec![
        NewQuestion::new(QuestionType::MultipleChoice, "What is 15 + 27?", "42", 1)
            .options(["42", "41", "43", "40"])
            .explanation("15 + 27 = 42"),
        NewQuestion::new(QuestionType::TrueFalse, "Is 7 a prime number?", "True", 1)
            .options(["True", "False"])
            .explanation("7 is only divisible by 1 and itself"),
        NewQuestion::new(
            QuestionType::ShortAnswer,
            "What is 3/4 as a decimal?",
            "0.75",
            2,
        )
        .explanation("3 divided by 4 equals 0.75"),
    ];
    NewQuiz::new("Math Basics Quiz", "Mathematics", questions)
        .grade_level(7)
        .difficulty(Difficulty::Medium)
        .time_limit(900)
}

/// Returns eight hexadecimal digits that differ on every run.
fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}
