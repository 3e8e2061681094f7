//! Error handling: provokes the common failures and matches on the
//! `APIError` variant and on the protocol's error code.
//!
//! Every call returns `toolboxai::Result<T>`. Match on the variant for
//! control flow, or on `error.code()` to follow the protocol's codes
//! (`AUTHENTICATION_ERROR`, `VALIDATION_ERROR`, `NOT_FOUND`, `RATE_LIMIT`,
//! `SERVER_ERROR`, `NETWORK_ERROR`). Against the embedded mock the example
//! also injects 503 responses to show retries.
//!
//! ```text
//! cargo run --example error_handling
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example error_handling
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use toolboxai::mock::{Fault, MockServer};
use toolboxai::{
    APIError, Client, ContentRequest, ErrorCode, NewQuestion, NewQuiz, QuestionType, RetryPolicy,
    Role,
};

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("error handling example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let client = &target.client;
    let teacher = common::register(client, "Quinn Teacher", Role::Teacher).await?;
    let student = common::register(client, "Sam Student", Role::Student).await?;

    // 401: wrong credentials.
    let result = client.auth().login(&teacher, "not-the-password").await;
    let error = expect_error(
        "login with a wrong password",
        result,
        ErrorCode::AuthenticationError,
    )?;
    explain(&error);

    // 403: a student may not create quizzes.
    client.auth().login(&student, common::PASSWORD).await?;
    let question = NewQuestion::new(QuestionType::TrueFalse, "Is 2 even?", "True", 1);
    let quiz = NewQuiz::new("Not allowed", "Mathematics", vec![question]);
    let result = client.quizzes().create(&quiz).await;
    let error = expect_error(
        "quiz creation as a student",
        result,
        ErrorCode::AuthenticationError,
    )?;
    explain(&error);

    // 404: a quiz id that does not exist.
    let result = client.quizzes().get("quiz-does-not-exist").await;
    let error = expect_error("an unknown quiz", result, ErrorCode::NotFound)?;
    explain(&error);

    // 422: the server validates the request and names each invalid field.
    client.auth().login(&teacher, common::PASSWORD).await?;
    let result = client
        .content()
        .generate(&ContentRequest::lesson("Mathematics", 13))
        .await;
    let error = expect_error("a lesson for grade 13", result, ErrorCode::ValidationError)?;
    explain(&error);

    match target.mock() {
        Some(mock) => server_errors(client, mock).await?,
        None => println!("\n503 retries: skipped, because fault injection needs the embedded mock"),
    }
    Ok(())
}

/// Shows 503 responses: retried until one succeeds, and reported as
/// `APIError::Server` once the retries are used up.
async fn server_errors(client: &Client, mock: &MockServer) -> toolboxai::Result<()> {
    // Two 503 responses, then the real one: the default policy retries
    // (after about 0.5 s and 1 s), so the call succeeds.
    mock.inject(Fault::status("/api/progress/*", 503).times(2));
    let before = progress_requests(mock);
    let progress = client.progress().course("course-123").await?;
    println!("\n503 twice, then success");
    println!("  progress {:.1} %", progress.overall_progress);
    println!("  requests {}", progress_requests(mock) - before);

    // More 503 responses than retries: the call fails with the last one.
    // A short policy keeps the example quick.
    mock.inject(Fault::status("/api/progress/*", 503).times(10));
    let quick_retries = RetryPolicy::default()
        .max_retries(2)
        .initial_delay(Duration::from_millis(50));
    let result = client
        .with_retry_policy(quick_retries)
        .progress()
        .course("course-123")
        .await;
    mock.clear_faults();
    let error = expect_error("503 on every attempt", result, ErrorCode::ServerError)?;
    explain(&error);
    Ok(())
}

fn progress_requests(mock: &MockServer) -> usize {
    let requests = mock.requests();
    let progress = requests
        .iter()
        .filter(|request| request.path.starts_with("/api/progress/"));
    progress.count()
}

/// Returns the error of a call that should fail with `expected`, and fails
/// the example when the call succeeded or failed with another code.
fn expect_error<T>(
    case: &str,
    result: toolboxai::Result<T>,
    expected: ErrorCode,
) -> toolboxai::Result<APIError> {
    println!("\n{case}");
    match result {
        Ok(_) => Err(APIError::InvalidInput(format!(
            "{case}: the call succeeded, but it should fail with {expected}"
        ))),
        Err(error) if error.code() == expected => Ok(error),
        Err(error) => {
            eprintln!("{case}: expected {expected}, got {}", error.code());
            Err(error)
        }
    }
}

/// Prints what failed and what to do about it, by variant.
fn explain(error: &APIError) {
    println!("  error   {error}");
    println!("  code    {}", error.code());
    if let Some(status) = error.status() {
        println!("  status  {status}");
    }
    if let Some(request_id) = error.request_id() {
        println!("  request {request_id}");
    }
    let advice = match error {
        APIError::Authentication(_) => "check the credentials, or log in again".to_owned(),
        APIError::Forbidden(_) => "this account's role may not do this".to_owned(),
        APIError::NotFound(_) => "check the id".to_owned(),
        APIError::Validation(details) => {
            for field in &details.field_errors {
                println!("  field   {}: {}", field.location(), field.msg);
            }
            "fix the fields above; the same request fails again".to_owned()
        }
        APIError::RateLimited { retry_after, .. } => match retry_after {
            Some(wait) => format!("wait {} s before the next request", wait.as_secs()),
            None => "wait before the next request".to_owned(),
        },
        APIError::Server(details) => {
            format!(
                "the server failed {} times; try again later",
                details.attempts
            )
        }
        APIError::Network { .. } | APIError::Timeout(_) => {
            "check the network and the server URL".to_owned()
        }
        // `APIError` is non-exhaustive: later versions may add variants.
        other if other.is_retryable() => "try again later".to_owned(),
        _ => "see the error message".to_owned(),
    };
    println!("  advice  {advice}");
}
