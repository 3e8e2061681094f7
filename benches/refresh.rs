//! 1 000 concurrent calls that all meet an expired access token, against the
//! embedded mock server: the time until every call has succeeded, which
//! takes one shared token refresh, next to the same 1 000 calls with a valid
//! token.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use toolboxai::mock::MockServer;
use toolboxai::{Client, NewQuestion, NewQuiz, QuestionType};

/// Concurrent calls per iteration.
const CALLS: usize = 1_000;

/// Starts 1 000 `GET /api/quiz/{id}` calls at once and waits for all of them.
///
/// # Panics
///
/// Panics when a call fails.
async fn get_all(client: &Client, quiz_id: &str) {
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let quizzes = client.quizzes();
            let quiz_id = quiz_id.to_owned();
            tokio::spawn(async move { quizzes.get(&quiz_id).await })
        })
        .collect();
    for call in calls {
        call.await
            .expect("a call task panicked")
            .expect("a call after the token expired failed");
    }
}

fn token_refresh(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the runtime starts");
    let (server, client, quiz_id) = runtime.block_on(async {
        let server = MockServer::start().await.expect("the mock starts");
        let client = Client::new(&server.url()).expect("the mock URL is valid");
        client
            .auth()
            .login("teacher@example.com", "TeacherPass123!")
            .await
            .expect("the demo teacher logs in");
        let question = NewQuestion::new(QuestionType::MultipleChoice, "What is 2+2?", "4", 1)
            .options(["3", "4", "5", "6"]);
        let quiz = client
            .quizzes()
            .create(&NewQuiz::new(
                "Refresh benchmark",
                "Mathematics",
                vec![question],
            ))
            .await
            .expect("the teacher creates a quiz");
        (server, client, quiz.id)
    });

    let mut group = c.benchmark_group("token_refresh");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(CALLS as u64));
    group.bench_function("expired_1000", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (server, client, quiz_id) = (&server, &client, &quiz_id);
            async move {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    server.expire_access_tokens();
                    let refreshes_before = server.refresh_count();
                    let start = Instant::now();
                    get_all(client, quiz_id).await;
                    elapsed += start.elapsed();
                    let refreshes = server.refresh_count() - refreshes_before;
                    assert_eq!(
                        refreshes, 1,
                        "1 000 calls on one expired token refreshed it {refreshes} times"
                    );
                }
                elapsed
            }
        });
    });
    group.bench_function("valid_1000", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (server, client, quiz_id) = (&server, &client, &quiz_id);
            async move {
                let refreshes_before = server.refresh_count();
                let start = Instant::now();
                for _ in 0..iters {
                    get_all(client, quiz_id).await;
                }
                let elapsed = start.elapsed();
                assert_eq!(
                    server.refresh_count(),
                    refreshes_before,
                    "a valid token was refreshed"
                );
                elapsed
            }
        });
    });
    group.finish();
}

criterion_group!(benches, token_refresh);
criterion_main!(benches);
