//! HTTP calls through the SDK against the same calls made with reqwest and
//! serde_json, both against one minimal local server in the same process.
//! The figure that matters is the ratio of the two medians.

mod support;

use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

use support::clients::{client_runtime, run_concurrently, sdk_client, RawClient};
use support::fixtures::{quiz_id, submission_answers, DEFAULT_QUESTIONS, SUBMISSION_TIME_TAKEN};
use support::http_server::{HttpServer, QUIZ_SIZES};

/// Calls per measured iteration of the throughput benchmark.
const THROUGHPUT_CALLS: usize = 10_000;
/// Concurrency levels of the throughput benchmark.
const CONCURRENCY: [usize; 4] = [1, 16, 64, 256];
/// Worker threads of the server runtime.
const SERVER_THREADS: usize = 1;

/// Measures one `GET /api/quiz/{id}` at a time.
fn get_quiz(c: &mut Criterion) {
    let server = HttpServer::start(SERVER_THREADS);
    let runtime = client_runtime();
    let sdk = sdk_client(&server.url(), "ws://127.0.0.1:9/unused");
    let raw = RawClient::new(&server.url());
    let id = quiz_id(DEFAULT_QUESTIONS);

    let mut group = c.benchmark_group("get_quiz");
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("sdk", |b| {
        b.to_async(&runtime)
            .iter(|| async { sdk.quizzes().get(&id).await.expect("SDK get") });
    });
    group.bench_function("raw", |b| {
        b.to_async(&runtime)
            .iter(|| async { raw.get_quiz(&id).await.expect("raw get") });
    });
    group.finish();
}

/// Measures one `POST /api/quiz/{id}/submit` with ten answers at a time.
fn submit_quiz(c: &mut Criterion) {
    let server = HttpServer::start(SERVER_THREADS);
    let runtime = client_runtime();
    let sdk = sdk_client(&server.url(), "ws://127.0.0.1:9/unused");
    let raw = RawClient::new(&server.url());
    let id = quiz_id(DEFAULT_QUESTIONS);

    let mut group = c.benchmark_group("submit_quiz");
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("sdk", |b| {
        b.to_async(&runtime).iter(|| async {
            sdk.quizzes()
                .submit(&id, submission_answers(), SUBMISSION_TIME_TAKEN)
                .await
                .expect("SDK submit")
        });
    });
    group.bench_function("raw", |b| {
        b.to_async(&runtime)
            .iter(|| async { raw.submit_quiz(&id).await.expect("raw submit") });
    });
    group.finish();
}

/// Measures [`THROUGHPUT_CALLS`] GETs per iteration at each concurrency level.
fn get_quiz_throughput(c: &mut Criterion) {
    let server = HttpServer::start(SERVER_THREADS);
    let runtime = client_runtime();
    let sdk = sdk_client(&server.url(), "ws://127.0.0.1:9/unused");
    let raw = RawClient::new(&server.url());
    let id = quiz_id(DEFAULT_QUESTIONS);

    let mut group = c.benchmark_group("get_quiz_throughput");
    // One iteration is 10 000 calls, so ten flat samples are enough and
    // keep the group within about two minutes.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(THROUGHPUT_CALLS as u64));
    for concurrency in CONCURRENCY {
        group.bench_with_input(
            BenchmarkId::new("sdk", concurrency),
            &concurrency,
            |b, &n| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let sdk = sdk.clone();
                    let id = id.clone();
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let sdk = sdk.clone();
                            let id = id.clone();
                            run_concurrently(THROUGHPUT_CALLS, n, move || {
                                let sdk = sdk.clone();
                                let id = id.clone();
                                async move {
                                    sdk.quizzes().get(&id).await.expect("SDK get");
                                }
                            })
                            .await;
                        }
                        start.elapsed()
                    }
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw", concurrency),
            &concurrency,
            |b, &n| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let raw = raw.clone();
                    let id = id.clone();
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let raw = raw.clone();
                            let id = id.clone();
                            run_concurrently(THROUGHPUT_CALLS, n, move || {
                                let raw = raw.clone();
                                let id = id.clone();
                                async move {
                                    raw.get_quiz(&id).await.expect("raw get");
                                }
                            })
                            .await;
                        }
                        start.elapsed()
                    }
                });
            },
        );
    }
    group.finish();
}

/// Measures one GET of a quiz of each size, decoded. Throughput is in
/// questions.
fn get_quiz_by_size(c: &mut Criterion) {
    let server = HttpServer::start(SERVER_THREADS);
    let runtime = client_runtime();
    let sdk = sdk_client(&server.url(), "ws://127.0.0.1:9/unused");
    let raw = RawClient::new(&server.url());

    let mut group = c.benchmark_group("get_quiz_by_size");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for size in QUIZ_SIZES {
        let id = quiz_id(size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("sdk", size), &id, |b, id| {
            b.to_async(&runtime)
                .iter(|| async { sdk.quizzes().get(id).await.expect("SDK get") });
        });
        group.bench_with_input(BenchmarkId::new("raw", size), &id, |b, id| {
            b.to_async(&runtime)
                .iter(|| async { raw.get_quiz(id).await.expect("raw get") });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    get_quiz,
    submit_quiz,
    get_quiz_throughput,
    get_quiz_by_size
);
criterion_main!(benches);
