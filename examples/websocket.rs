//! Real-time updates over the WebSocket: a student registers event
//! handlers, connects, subscribes to course updates, submits a quiz over
//! HTTP and prints the events that the submission pushes.
//!
//! Runs against the embedded mock server, or against a live server when
//! `TOOLBOXAI_BASE_URL` and `TOOLBOXAI_WS_URL` are set:
//!
//! ```text
//! cargo run --example websocket
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use toolboxai::websocket::ServerEvent;
use toolboxai::{Answer, Client, NewQuestion, NewQuiz, QuestionType};

/// How long the example waits for the events of its submission.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("websocket example failed: {error}");
            eprintln!("error code: {}", error.code());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    if !target.has_websocket {
        println!("TOOLBOXAI_WS_URL is not set, so there is no WebSocket to connect to.");
        return Ok(());
    }
    let client = target.client;

    // A teacher creates the quiz that the student submits below.
    client
        .auth()
        .login("teacher@example.com", "TeacherPass123!")
        .await?;
    let quiz = client.quizzes().create(&fractions_quiz()).await?;

    client
        .auth()
        .login("student@example.com", "StudentPass123!")
        .await?;
    let socket = client.websocket();
    socket.on("content_update", |event| {
        if let ServerEvent::ContentUpdate(update) = event {
            println!("Content updated: {} ({})", update.title, update.subject);
        }
    });
    socket.on("quiz_result", |event| {
        if let ServerEvent::QuizResult(result) = event {
            println!(
                "Quiz result received: Score {}/{}",
                result.score, result.total
            );
        }
    });
    socket.on("progress_update", |event| {
        if let ServerEvent::ProgressUpdate(progress) = event {
            println!("Progress update: {:.0}% complete", progress.percentage);
        }
    });
    socket.on("notification", |event| {
        if let ServerEvent::Notification(notification) = event {
            println!("Notification: {}", notification.message);
        }
    });

    let mut events = socket.events();
    socket.connect().await?;
    println!("WebSocket connected to {}", client.ws_url());
    socket.subscribe(["course_updates"])?;

    submit_answers(&client, &quiz.id).await?;
    wait_for_progress(&mut events).await;

    socket.disconnect().await;
    println!("WebSocket disconnected");
    Ok(())
}

/// Submits one correct answer, which makes the server push `quiz_result` and
/// `progress_update` to this student's sockets.
async fn submit_answers(client: &Client, quiz_id: &str) -> toolboxai::Result<()> {
    let answers = vec![Answer::new("q1", "0.5")];
    let result = client.quizzes().submit(quiz_id, answers, 45).await?;
    println!("Submitted over HTTP: {} points", result.score);
    Ok(())
}

/// Waits until the `progress_update` of the submission arrives, printing
/// the acknowledgements on the way. The handlers print the events.
async fn wait_for_progress(events: &mut toolboxai::EventStream) {
    let waiting = async {
        while let Some(event) = events.next().await {
            match event {
                ServerEvent::Subscribed { channels } => println!("Subscribed to {channels:?}"),
                ServerEvent::ProgressUpdate(_) => return,
                _ => {}
            }
        }
    };
    if tokio::time::timeout(EVENT_TIMEOUT, waiting).await.is_err() {
        println!(
            "No progress_update arrived within {} s",
            EVENT_TIMEOUT.as_secs()
        );
    }
}

/// Returns a one-question quiz worth one point.
fn fractions_quiz() -> NewQuiz {
    let question = NewQuestion::new(
        QuestionType::ShortAnswer,
        "What is 1/2 as a decimal?",
        "0.5",
        1,
    );
    NewQuiz::new("Fractions check", "Mathematics", vec![question]).grade_level(7)
}
