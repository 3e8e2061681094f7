//! Quizzes: a teacher creates one, a student fetches and submits it.
//!
//! ```text
//! cargo run --example quiz
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example quiz
//! ```

mod common;

use std::process::ExitCode;

use toolboxai::{Answer, Difficulty, NewQuestion, NewQuiz, QuestionType, Role};

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("quiz example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let client = target.client;
    let teacher = common::register(&client, "Quinn Teacher", Role::Teacher).await?;
    let student = common::register(&client, "Sam Student", Role::Student).await?;

    // Only teachers may create quizzes. The server numbers the questions
    // q1, q2, ... in the order given and sums their points.
    client.auth().login(&teacher, common::PASSWORD).await?;
    let questions = vec![
        NewQuestion::new(QuestionType::MultipleChoice, "What is 15 + 27?", "42", 1)
            .options(["42", "41", "43", "40"])
            .explanation("15 + 27 = 42"),
        NewQuestion::new(QuestionType::TrueFalse, "Is 7 a prime number?", "True", 1)
            .options(["True", "False"]),
        NewQuestion::new(
            QuestionType::ShortAnswer,
            "What is 3/4 as a decimal?",
            "0.75",
            2,
        ),
    ];
    let new_quiz = NewQuiz::new("Math Basics Quiz", "Mathematics", questions)
        .grade_level(7)
        .difficulty(Difficulty::Medium)
        .time_limit(900);
    let quiz = client.quizzes().create(&new_quiz).await?;
    println!("\nCreated quiz {} ({})", quiz.title, quiz.id);
    println!(
        "  {} questions, {} points",
        quiz.questions.len(),
        quiz.total_points
    );

    // Students fetch the quiz without correct answers and explanations.
    client.auth().login(&student, common::PASSWORD).await?;
    let seen = client.quizzes().get(&quiz.id).await?;
    println!("\nAs the student sees it");
    for question in &seen.questions {
        let answer = match &question.correct_answer {
            Some(_) => "correct answer visible",
            None => "correct answer hidden",
        };
        println!("  {}  {} ({answer})", question.id, question.question_text);
    }

    // Submit answers by question id, with the time taken in seconds. Here
    // q3 is wrong: 2 of 4 points is 50 %, below the pass mark (70 % on the
    // embedded mock).
    let answers = vec![
        Answer::new("q1", "42"),
        Answer::new("q2", "True"),
        Answer::new("q3", "0.7"),
    ];
    let result = client.quizzes().submit(&quiz.id, answers, 245).await?;
    println!("\nFirst attempt");
    print_result(&result);

    // Submitting again is allowed, and each submission is scored.
    let answers = vec![
        Answer::new("q1", "42"),
        Answer::new("q2", "True"),
        Answer::new("q3", "0.75"),
    ];
    let result = client.quizzes().submit(&quiz.id, answers, 180).await?;
    println!("\nSecond attempt");
    print_result(&result);
    Ok(())
}

fn print_result(result: &toolboxai::QuizResult) {
    let verdict = if result.passed {
        "passed"
    } else {
        "not passed"
    };
    println!(
        "  score  {}/{} ({:.0} %, {verdict})",
        result.score, result.total_points, result.percentage
    );
    println!("  xp     {}", result.xp_earned);
    for achievement in &result.achievements_unlocked {
        println!("  unlocked {achievement}");
    }
}
