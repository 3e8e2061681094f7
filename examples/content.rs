//! AI content generation: a lesson staged in a Roblox environment, then a
//! quiz generated for the same subject.
//!
//! Generation waits on an AI model, so each attempt may take up to the
//! client's content timeout (300 s by default) on a live server.
//!
//! ```text
//! cargo run --example content
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example content
//! ```

mod common;

use std::process::ExitCode;

use toolboxai::{ContentRequest, Difficulty, EnvironmentType, Role};

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("content example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let client = target.client;

    // Only teachers (and admins) may generate content.
    let email = common::register(&client, "Quinn Teacher", Role::Teacher).await?;
    client.auth().login(&email, common::PASSWORD).await?;

    // A lesson: one section per learning objective, a Roblox terrain script
    // for the chosen environment and the UI components that present it.
    let lesson_request = ContentRequest::lesson("Science", 8)
        .learning_objectives([
            "Explain how plants make food from light",
            "Name the inputs and outputs of photosynthesis",
        ])
        .environment_type(EnvironmentType::Laboratory)
        .difficulty(Difficulty::Medium)
        .include_quiz(true);
    let lesson = client.content().generate(&lesson_request).await?;
    println!("\nLesson {} ({})", lesson.title, lesson.id);
    println!(
        "  {} grade {}, {} objectives",
        lesson.subject,
        lesson.grade_level,
        lesson.learning_objectives.len()
    );
    for section in &lesson.sections {
        println!("  section  {}", section.title);
    }
    println!("  {} quiz questions included", lesson.questions.len());

    // The Roblox integration is optional in the protocol, so a server may
    // leave it out.
    match &lesson.roblox_integration {
        Some(roblox) => {
            println!("\nRoblox terrain script (first lines)");
            for line in roblox.terrain_script.lines().take(5) {
                println!("  | {line}");
            }
            println!("Roblox UI components");
            for component in &roblox.ui_components {
                println!("  {} ({})", component.name, component.component_type);
            }
        }
        None => println!("\nThe server sent no Roblox integration for the lesson."),
    }

    // A quiz: the same call with the content type `quiz`. The questions
    // come back with ids `q1..qN`, ready to be created as a quiz.
    let quiz_request = ContentRequest::quiz("Science", 8)
        .learning_objectives(["Photosynthesis"])
        .difficulty(Difficulty::Easy);
    let quiz = client.content().generate(&quiz_request).await?;
    println!("\nGenerated quiz {} ({})", quiz.title, quiz.id);
    for question in &quiz.questions {
        println!(
            "  {}  [{}, {} pt] {}",
            question.id, question.question_type, question.points, question.question_text
        );
        if !question.options.is_empty() {
            println!("      options: {}", question.options.join(" | "));
        }
    }
    Ok(())
}
