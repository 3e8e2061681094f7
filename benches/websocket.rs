//! Server-pushed WebSocket events consumed through the SDK's
//! `WebSocketClient::events()` against a plain tokio-tungstenite read loop
//! that decodes the same frames, both from one minimal local server in the
//! same process.

mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use toolboxai::WebSocketConfig;

use support::clients::{
    client_runtime, raw_consume_events, sdk_client_with_websocket, sdk_consume_events,
};
use support::ws_server::WsServer;

/// Events the server pushes per connection, one connection per iteration.
const EVENTS: usize = 100_000;
/// Worker threads of the server runtime.
const SERVER_THREADS: usize = 1;

fn websocket_events(c: &mut Criterion) {
    let server = WsServer::start(SERVER_THREADS);
    let runtime = client_runtime();
    let url = server.url(EVENTS);
    // With the default capacity of 1024 events the stream lags behind a
    // server that pushes as fast as loopback allows, and skipped events
    // would make the SDK look faster. A buffer as large as the burst makes
    // every event arrive. The memory probe measures the default.
    let config = WebSocketConfig::default().event_capacity(EVENTS);
    let sdk = sdk_client_with_websocket("http://127.0.0.1:9", &url, config);

    let mut group = c.benchmark_group("websocket_events");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("sdk", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let sdk = sdk.clone();
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let tally = sdk_consume_events(&sdk).await;
                    assert_eq!(tally.skipped, 0, "the SDK stream lagged");
                    assert_eq!(tally.quiz_results, EVENTS as u64);
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("raw", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let url = url.clone();
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let tally = raw_consume_events(&url).await;
                    assert_eq!(tally.quiz_results, EVENTS as u64);
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

criterion_group!(benches, websocket_events);
criterion_main!(benches);
