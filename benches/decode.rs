//! Decoding a quiz response body into `toolboxai::Quiz`, as the SDK does
//! after every successful `GET /api/quiz/{id}`. Throughput is reported per
//! question, so a flat figure across sizes means decoding is linear.

#[path = "support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use toolboxai::Quiz;

use fixtures::quiz_body;

/// Quiz sizes, in questions.
const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn decode_quiz(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_quiz");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for size in SIZES {
        let body = quiz_body(size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| {
                let quiz: Quiz = serde_json::from_slice(black_box(body)).expect("quiz decodes");
                quiz
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decode_quiz);
criterion_main!(benches);
