//! Soak test: many concurrent calls through the mock while it injects random
//! faults and expires every access token every two seconds.
//!
//! Ignored by default because it runs for tens of seconds. Run it with
//!
//! ```sh
//! cargo test --release --test soak -- --ignored --nocapture
//! ```
//!
//! `TOOLBOXAI_SOAK_CALLS` sets the number of calls (default 20 000) and
//! `TOOLBOXAI_SOAK_SEED` the seed of the random faults (default random,
//! printed at the start).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use toolboxai::mock::{MockServer, RandomFaultKind, RandomFaults};
use toolboxai::{APIError, Answer, Client, NewQuestion, NewQuiz, QuestionType, Quiz, RetryPolicy};

/// Environment variable with the number of calls.
const CALLS_VAR: &str = "TOOLBOXAI_SOAK_CALLS";
/// Environment variable with the seed of the random faults.
const SEED_VAR: &str = "TOOLBOXAI_SOAK_SEED";
const DEFAULT_CALLS: usize = 20_000;
/// Calls in flight at once, across both clients.
const CONCURRENCY: usize = 32;
/// Share of requests that get a random fault.
const FAULT_PROBABILITY: f64 = 0.10;
/// Interval at which the mock expires every access token issued so far.
const TOKEN_EXPIRY_INTERVAL: Duration = Duration::from_secs(2);
/// Quizzes created before the faults start, which the submissions and gets
/// use.
const SETUP_QUIZZES: usize = 8;
/// Share of the calls run before the first memory reading, so that pools,
/// caches and allocator arenas have reached their working size.
const WARM_UP_DIVISOR: usize = 10;
/// Fixed part of the allowed growth of the resident set from the end of the
/// warm-up to the end of the run, in KiB, for allocator slack.
const RSS_GROWTH_BASE_KIB: u64 = 8 * 1024;
/// Allowed growth of the resident set per call after the warm-up, in KiB.
///
/// This is an estimate of what the mock keeps, not of the client. The mock
/// stores every request it receives (about 1.5 KiB each, headers included),
/// up to 10 000 idempotent responses, and every submission and created quiz.
/// A release build on a 2-core machine grew by about 2.4 KiB per call, 44 MiB
/// for 20 000 calls, so at that size a client leak of about 1 KiB per call
/// exceeds the limit.
const RSS_GROWTH_PER_CALL_KIB: u64 = 3;

/// Title prefix of the quizzes the soak creates.
const CREATED_TITLE: &str = "soak quiz";

/// The calls the soak mixes, chosen by call number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Operation {
    /// A student submits one of the setup quizzes, with the call number as
    /// `time_taken` so that the stored submission can be matched.
    Submit,
    /// A teacher creates a quiz titled with the call number.
    Create,
    /// A student fetches one of the setup quizzes.
    Get,
    /// A student reads the demo course's progress.
    Progress,
}

impl Operation {
    /// Returns the operation of call `index`: 50 % submissions, 10 %
    /// creations, 20 % gets and 20 % progress reads.
    fn of_call(index: usize) -> Self {
        match index % 10 {
            0..=4 => Self::Submit,
            5 => Self::Create,
            6 | 7 => Self::Get,
            _ => Self::Progress,
        }
    }
}

/// What one call returned.
#[derive(Debug)]
struct Outcome {
    index: usize,
    operation: Operation,
    /// On success, the id of the quiz the call submitted, created or fetched,
    /// and `None` for a progress read.
    result: Result<Option<String>, APIError>,
}

/// The clients and quizzes every worker shares.
struct Fixture {
    teacher: Client,
    student: Client,
    quiz_ids: Vec<String>,
}

/// Returns the number of calls from [`CALLS_VAR`], or the default.
fn configured_calls() -> usize {
    match std::env::var(CALLS_VAR) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{CALLS_VAR}={value:?} is not a whole number of calls")),
        Err(_) => DEFAULT_CALLS,
    }
}

/// Returns the fault seed from [`SEED_VAR`], or one drawn from a new UUID.
fn configured_seed() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VAR}={value:?} is not a whole number")),
        Err(_) => uuid::Uuid::new_v4().as_u64_pair().0,
    }
}

/// Returns the resident set size of this process in KiB, from `VmRSS` in
/// `/proc/self/status`, or `None` where that file does not exist.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Builds a client with short retry delays and a retry budget that the
/// faults cannot use up, so that each call gets all its retries.
fn soak_client(server: &MockServer) -> Client {
    let policy = RetryPolicy::default()
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20))
        .max_retries(6);
    Client::builder()
        .base_url(server.url())
        .retry_policy(policy)
        .retry_budget(u32::MAX)
        .build()
        .expect("soak client builds")
}

fn one_question_quiz(title: String) -> NewQuiz {
    let question = NewQuestion::new(QuestionType::MultipleChoice, "What is 2+2?", "4", 1)
        .options(["3", "4", "5"]);
    NewQuiz::new(title, "Mathematics", vec![question])
}

fn created_title(index: usize) -> String {
    format!("{CREATED_TITLE} {index}")
}

/// Returns the `time_taken` of the submission of call `index`, unique per
/// call.
fn submission_time(index: usize) -> u64 {
    index as u64 + 1
}

async fn run_call(fixture: &Fixture, index: usize) -> Outcome {
    let operation = Operation::of_call(index);
    let quiz_id = &fixture.quiz_ids[index % fixture.quiz_ids.len()];
    let result = match operation {
        Operation::Submit => {
            let answers = vec![Answer::new("q1", "4")];
            let time_taken = submission_time(index);
            fixture
                .student
                .quizzes()
                .submit(quiz_id, answers, time_taken)
                .await
                .map(|result| {
                    assert_eq!(result.time_taken, Some(time_taken), "call {index}");
                    result.quiz_id
                })
        }
        Operation::Create => fixture
            .teacher
            .quizzes()
            .create(&one_question_quiz(created_title(index)))
            .await
            .map(|quiz| {
                assert_eq!(quiz.title, created_title(index), "call {index}");
                Some(quiz.id)
            }),
        Operation::Get => fixture
            .student
            .quizzes()
            .get(quiz_id)
            .await
            .map(|quiz| Some(quiz.id)),
        Operation::Progress => {
            fixture
                .student
                .progress()
                .course("course-123")
                .await
                .map(|progress| {
                    assert_eq!(progress.course_id, "course-123", "call {index}");
                    None
                })
        }
    };
    Outcome {
        index,
        operation,
        result,
    }
}

/// Runs calls `range` on [`CONCURRENCY`] tasks, each taking the next call
/// number until none is left.
async fn run_calls(fixture: &Arc<Fixture>, range: std::ops::Range<usize>) -> Vec<Outcome> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let fixture = Arc::clone(fixture);
        let next = Arc::clone(&next);
        let end = range.end;
        workers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= end {
                    return outcomes;
                }
                outcomes.push(run_call(&fixture, index).await);
            }
        }));
    }
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.expect("soak worker does not panic"));
    }
    outcomes
}

/// Returns the variant name of an error, for the histogram.
fn variant_name(error: &APIError) -> &'static str {
    match error {
        APIError::Validation(_) => "Validation",
        APIError::Authentication(_) => "Authentication",
        APIError::Forbidden(_) => "Forbidden",
        APIError::NotFound(_) => "NotFound",
        APIError::RateLimited { .. } => "RateLimited",
        APIError::Server(_) => "Server",
        APIError::UnexpectedStatus(_) => "UnexpectedStatus",
        APIError::Decode(_) => "Decode",
        APIError::Network { .. } => "Network",
        APIError::Timeout(_) => "Timeout",
        APIError::WebSocket(_) => "WebSocket",
        APIError::InvalidInput(_) => "InvalidInput",
        APIError::Configuration(_) => "Configuration",
        _ => "unknown variant",
    }
}

/// Returns whether a call may end with this error under the soak's faults:
/// retries used up on 429, 503 or dropped connections, or a token expired a
/// second time after the one refresh and replay a call gets.
fn expected_failure(error: &APIError) -> bool {
    matches!(
        error,
        APIError::RateLimited { .. }
            | APIError::Server(_)
            | APIError::Network { .. }
            | APIError::Authentication(_)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak test of tens of seconds; run with --release -- --ignored"]
async fn soak_with_random_faults() {
    let calls = configured_calls();
    let seed = configured_seed();
    println!("soak: {calls} calls, concurrency {CONCURRENCY}, fault seed {seed}");

    let server = Arc::new(MockServer::start().await.expect("mock server starts"));
    let teacher = soak_client(&server);
    let student = soak_client(&server);
    common::login(&teacher, common::TEACHER).await;
    common::login(&student, common::STUDENT).await;
    let mut quiz_ids = Vec::new();
    for number in 0..SETUP_QUIZZES {
        let quiz = teacher
            .quizzes()
            .create(&one_question_quiz(format!("setup quiz {number}")))
            .await
            .expect("setup quiz is created before faults start");
        quiz_ids.push(quiz.id);
    }
    let fixture = Arc::new(Fixture {
        teacher,
        student,
        quiz_ids,
    });

    server.set_random_faults(
        RandomFaults::new(FAULT_PROBABILITY)
            .max_retry_after(1)
            .max_delay(Duration::from_millis(20))
            .seed(seed),
    );
    let expiring_server = Arc::clone(&server);
    let expiry = tokio::spawn(async move {
        let mut interval = tokio::time::interval(TOKEN_EXPIRY_INTERVAL);
        // The first tick completes at once.
        interval.tick().await;
        loop {
            interval.tick().await;
            expiring_server.expire_access_tokens();
        }
    });

    let started = Instant::now();
    let warm_up_end = calls / WARM_UP_DIVISOR;
    let mut outcomes = run_calls(&fixture, 0..warm_up_end).await;
    let rss_after_warm_up = resident_kib();
    outcomes.extend(run_calls(&fixture, warm_up_end..calls).await);
    let rss_at_end = resident_kib();
    let elapsed = started.elapsed();
    expiry.abort();
    server.clear_random_faults();

    println!(
        "soak: {} calls in {:.1} s ({:.0} calls/s), {} token refreshes",
        outcomes.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64(),
        server.refresh_count()
    );
    for kind in RandomFaultKind::ALL {
        println!(
            "soak: random fault {kind:?} applied {} times",
            server.random_fault_count(kind)
        );
    }
    assert_eq!(outcomes.len(), calls, "every call returned");

    // Every kind of fault happened, so the run exercised each recovery path.
    for kind in RandomFaultKind::ALL {
        assert!(
            server.random_fault_count(kind) > 0,
            "no random fault of kind {kind:?} was applied"
        );
    }
    assert!(server.refresh_count() > 0, "no token refresh happened");

    // Failures: a histogram by code and variant, and only expected variants.
    let mut histogram: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for outcome in &outcomes {
        if let Err(error) = &outcome.result {
            let key = (error.code().to_string(), variant_name(error));
            *histogram.entry(key).or_default() += 1;
        }
    }
    let failures: usize = histogram.values().sum();
    println!("soak: {failures} failed calls");
    for ((code, variant), count) in &histogram {
        println!("soak:   {code} / {variant}: {count}");
    }
    for outcome in &outcomes {
        if let Err(error) = &outcome.result {
            assert!(
                expected_failure(error),
                "call {} ({:?}) failed with an unexpected error: {error:?}",
                outcome.index,
                outcome.operation
            );
        }
    }

    // Submissions: each stored at most once, and each successful one stored.
    let mut stored_times: HashMap<u64, usize> = HashMap::new();
    for quiz_id in &fixture.quiz_ids {
        for submission in server.submissions_for(quiz_id) {
            *stored_times.entry(submission.time_taken).or_default() += 1;
        }
    }
    for (time_taken, count) in &stored_times {
        assert_eq!(
            *count, 1,
            "submission with time_taken {time_taken} stored {count} times"
        );
    }
    let mut unreported_submissions = 0;
    for outcome in &outcomes {
        if outcome.operation != Operation::Submit {
            continue;
        }
        let time_taken = submission_time(outcome.index);
        let stored = stored_times.get(&time_taken).copied().unwrap_or(0);
        match &outcome.result {
            Ok(quiz_id) => {
                let expected = &fixture.quiz_ids[outcome.index % fixture.quiz_ids.len()];
                assert_eq!(quiz_id.as_ref(), Some(expected), "call {}", outcome.index);
                assert_eq!(stored, 1, "successful submission of call {}", outcome.index);
            }
            Err(_) => unreported_submissions += stored,
        }
    }
    println!("soak: {unreported_submissions} submissions stored whose call failed");

    // Creations: each title stored at most once, and each successful one
    // stored under the id the call returned.
    let quizzes: Vec<Quiz> = server.quizzes();
    let mut ids_by_title: HashMap<&str, Vec<&str>> = HashMap::new();
    for quiz in &quizzes {
        ids_by_title
            .entry(quiz.title.as_str())
            .or_default()
            .push(quiz.id.as_str());
    }
    for (title, ids) in &ids_by_title {
        assert_eq!(ids.len(), 1, "quiz {title:?} stored {} times", ids.len());
    }
    let mut unreported_quizzes = 0;
    for outcome in &outcomes {
        if outcome.operation != Operation::Create {
            continue;
        }
        let title = created_title(outcome.index);
        let stored = ids_by_title.get(title.as_str());
        match &outcome.result {
            Ok(quiz_id) => {
                let quiz_id = quiz_id.as_deref().expect("a created quiz has an id");
                assert_eq!(stored, Some(&vec![quiz_id]), "{title}");
            }
            Err(_) => unreported_quizzes += usize::from(stored.is_some()),
        }
    }
    println!("soak: {unreported_quizzes} quizzes stored whose call failed");

    // Some submissions were sent again with the same idempotency key, so
    // the checks above covered retried POSTs.
    let mut attempts_by_key: HashMap<String, usize> = HashMap::new();
    for request in server.requests() {
        if request.method != "POST" || !request.path.ends_with("/submit") {
            continue;
        }
        if let Some(key) = request.header("idempotency-key") {
            *attempts_by_key.entry(key.to_owned()).or_default() += 1;
        }
    }
    let retried = attempts_by_key.values().filter(|&&count| count > 1).count();
    println!("soak: {retried} submissions sent more than once");
    assert!(retried > 0, "no submission was retried");

    // Gets returned the quiz they asked for.
    for outcome in &outcomes {
        if let (Operation::Get, Ok(quiz_id)) = (outcome.operation, &outcome.result) {
            let expected = &fixture.quiz_ids[outcome.index % fixture.quiz_ids.len()];
            assert_eq!(quiz_id.as_ref(), Some(expected), "call {}", outcome.index);
        }
    }

    // Memory: growth after the warm-up stays within the estimate.
    let measured_calls = (calls - warm_up_end) as u64;
    let growth_limit = RSS_GROWTH_BASE_KIB + RSS_GROWTH_PER_CALL_KIB * measured_calls;
    match (rss_after_warm_up, rss_at_end) {
        (Some(warm), Some(end)) => {
            let growth = end.saturating_sub(warm);
            println!(
                "soak: VmRSS {warm} KiB after warm-up, {end} KiB at end, growth {growth} KiB \
                 (limit {growth_limit} KiB)"
            );
            assert!(
                growth <= growth_limit,
                "resident set grew by {growth} KiB over {measured_calls} calls after the \
                 warm-up, more than {growth_limit} KiB"
            );
        }
        _ => println!("soak: /proc/self/status has no VmRSS here, memory not checked"),
    }
}
