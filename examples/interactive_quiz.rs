//! A timed quiz attempt: `QuizAttempt` loads a quiz, records answers as the
//! learner gives them and submits them with the time taken since loading.
//!
//! ```text
//! cargo run --example interactive_quiz
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example interactive_quiz
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use toolboxai::{NewQuestion, NewQuiz, QuestionType, Role};

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("interactive quiz example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let client = target.client;
    let teacher = common::register(&client, "Quinn Teacher", Role::Teacher).await?;
    let student = common::register(&client, "Sam Student", Role::Student).await?;

    // A teacher creates a two-question quiz with a 60-second time limit.
    client.auth().login(&teacher, common::PASSWORD).await?;
    let questions = vec![
        NewQuestion::new(QuestionType::MultipleChoice, "What is 6 x 7?", "42", 1)
            .options(["36", "42", "48"]),
        NewQuestion::new(QuestionType::TrueFalse, "Is 0.5 equal to 1/2?", "True", 1)
            .options(["True", "False"]),
    ];
    let new_quiz = NewQuiz::new("Times Tables", "Mathematics", questions).time_limit(60);
    let quiz_id = client.quizzes().create(&new_quiz).await?.id;

    // The student starts an attempt: this loads the quiz (without correct
    // answers) and starts the clock.
    client.auth().login(&student, common::PASSWORD).await?;
    let mut attempt = client.quizzes().start_attempt(&quiz_id).await?;
    let quiz = attempt.quiz();
    println!("\n{} ({} questions)", quiz.title, quiz.questions.len());
    let time_limit = quiz
        .time_limit
        .map(|seconds| Duration::from_secs(seconds.into()));

    // Answers are recorded locally, one question at a time, and may be
    // changed until submission. The pause simulates the learner reading.
    let replies = [("q1", "48"), ("q2", "True"), ("q1", "42")];
    for (question_id, reply) in replies {
        tokio::time::sleep(Duration::from_millis(400)).await;
        attempt.answer(question_id, reply)?;
        println!(
            "  {question_id} <- {reply:<5} ({} answered, {:.1} s elapsed)",
            attempt.answered(),
            attempt.elapsed().as_secs_f64()
        );
    }

    // An answer to a question the quiz does not have fails locally, before
    // anything is sent.
    match attempt.answer("q9", "7") {
        Err(error) => println!("  q9 rejected: {error}"),
        Ok(()) => println!("  q9 was accepted, which this example did not expect"),
    }

    // The protocol defines no rejection of late submissions, and the
    // embedded mock scores them, so an application that enforces the time
    // limit checks it before submitting.
    if let Some(limit) = time_limit {
        if attempt.elapsed() > limit {
            println!("  time limit of {} s exceeded", limit.as_secs());
            return Ok(());
        }
    }

    // Submission sends the answers in question order with the elapsed time
    // in whole seconds.
    let result = attempt.submit().await?;
    let verdict = if result.passed {
        "passed"
    } else {
        "not passed"
    };
    println!(
        "\nScore {}/{} ({:.0} %, {verdict}) in {} s",
        result.score,
        result.total_points,
        result.percentage,
        result.time_taken.unwrap_or(attempt.elapsed().as_secs())
    );
    println!("XP earned {}", result.xp_earned);
    Ok(())
}
