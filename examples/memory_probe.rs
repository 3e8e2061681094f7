//! Runs a fixed number of SDK calls or WebSocket events against minimal
//! local servers, so that peak memory can be compared across counts:
//!
//! ```sh
//! cargo build --release --example memory_probe
//! /usr/bin/time -v target/release/examples/memory_probe calls 100000
//! /usr/bin/time -v target/release/examples/memory_probe events 1000000
//! ```
//!
//! `calls N` sends N `GET /api/quiz/{id}` calls, 16 at a time unless
//! `--concurrency C` sets another number. `events N` consumes N
//! server-pushed events through `WebSocketClient::events()`, with the
//! default event capacity unless `--event-capacity K` sets another one, and
//! reports how many the stream skipped. `--raw` runs the reqwest or
//! tokio-tungstenite baseline instead of the SDK. The servers run in the
//! same process, so the peak includes them.

#[path = "../benches/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::Instant;

use support::clients::{
    raw_consume_events, run_concurrently, sdk_client, sdk_client_with_websocket,
    sdk_consume_events, RawClient,
};
use support::fixtures::{quiz_id, DEFAULT_QUESTIONS};
use support::http_server::HttpServer;
use support::ws_server::WsServer;
use toolboxai::WebSocketConfig;

const USAGE: &str =
    "usage: memory_probe (calls|events) COUNT [--concurrency C] [--event-capacity K] [--raw]";
const DEFAULT_CONCURRENCY: usize = 16;
const WORKER_THREADS: usize = 2;

struct Options {
    mode: String,
    count: usize,
    concurrency: usize,
    event_capacity: Option<usize>,
    raw: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().ok_or("missing mode")?;
    let count = args
        .next()
        .ok_or("missing COUNT")?
        .parse()
        .map_err(|error| format!("COUNT is not a number: {error}"))?;
    let mut options = Options {
        mode,
        count,
        concurrency: DEFAULT_CONCURRENCY,
        event_capacity: None,
        raw: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--raw" => options.raw = true,
            "--concurrency" => {
                options.concurrency = args
                    .next()
                    .ok_or("--concurrency needs a value")?
                    .parse()
                    .map_err(|error| format!("--concurrency is not a number: {error}"))?;
            }
            "--event-capacity" => {
                let capacity = args
                    .next()
                    .ok_or("--event-capacity needs a value")?
                    .parse()
                    .map_err(|error| format!("--event-capacity is not a number: {error}"))?;
                options.event_capacity = Some(capacity);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.concurrency == 0 {
        return Err("--concurrency must be at least 1".to_owned());
    }
    Ok(options)
}

/// Returns the process's peak resident set size in KiB, from
/// `/proc/self/status` (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run_calls(options: &Options, runtime: &tokio::runtime::Runtime) {
    let server = HttpServer::start(WORKER_THREADS);
    let id = quiz_id(DEFAULT_QUESTIONS);
    let (total, concurrency) = (options.count, options.concurrency);
    if options.raw {
        let raw = RawClient::new(&server.url());
        runtime.block_on(run_concurrently(total, concurrency, move || {
            let (raw, id) = (raw.clone(), id.clone());
            async move {
                raw.get_quiz(&id).await.expect("raw get");
            }
        }));
    } else {
        let sdk = sdk_client(&server.url(), "ws://127.0.0.1:9/unused");
        runtime.block_on(run_concurrently(total, concurrency, move || {
            let (sdk, id) = (sdk.clone(), id.clone());
            async move {
                sdk.quizzes().get(&id).await.expect("SDK get");
            }
        }));
    }
    println!("calls: {total} at concurrency {concurrency}");
}

fn run_events(options: &Options, runtime: &tokio::runtime::Runtime) {
    let server = WsServer::start(WORKER_THREADS);
    let url = server.url(options.count);
    let tally = if options.raw {
        runtime.block_on(raw_consume_events(&url))
    } else {
        let mut config = WebSocketConfig::default();
        if let Some(capacity) = options.event_capacity {
            config = config.event_capacity(capacity);
        }
        let sdk = sdk_client_with_websocket("http://127.0.0.1:9", &url, config);
        runtime.block_on(sdk_consume_events(&sdk))
    };
    println!(
        "events: {} pushed, {} received, {} skipped by the stream",
        options.count, tally.quiz_results, tally.skipped
    );
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("the client runtime starts");
    let started = Instant::now();
    match options.mode.as_str() {
        "calls" => run_calls(&options, &runtime),
        "events" => run_events(&options, &runtime),
        other => {
            eprintln!("unknown mode {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let client = if options.raw { "raw baseline" } else { "SDK" };
    println!("client: {client}, elapsed: {:.2?}", started.elapsed());
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS (VmHWM): {kib} KiB"),
        None => println!("peak RSS: /proc/self/status is not readable"),
    }
    ExitCode::SUCCESS
}
