//! Peers the mock cannot imitate, served by a raw tokio-tungstenite server:
//! one that never reads, one that closes right after the upgrade, one that
//! never responds to the upgrade request, and one that floods the client.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::*;

type RawSocket = WebSocketStream<TcpStream>;

/// Starts a WebSocket server on 127.0.0.1 that runs `serve` on every
/// upgraded connection. Returns its URL and a receiver of the instant of
/// each upgrade.
async fn raw_server<F, Fut>(serve: F) -> (String, mpsc::UnboundedReceiver<Instant>)
where
    F: Fn(RawSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener binds");
    let address = listener.local_addr().expect("listener has an address");
    let (upgraded, upgrades) = mpsc::unbounded_channel();
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let serve = Arc::clone(&serve);
            let upgraded = upgraded.clone();
            tokio::spawn(async move {
                let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let _ = upgraded.send(Instant::now());
                serve(socket).await;
            });
        }
    });
    (format!("ws://{address}/ws/connect"), upgrades)
}

/// Starts a mock for the login and returns a client logged in as the demo
/// student whose socket connects to `ws_url`.
async fn student_for(ws_url: &str, config: WebSocketConfig) -> (MockServer, Client) {
    let server = MockServer::start().await.expect("mock server starts");
    let client = Client::builder()
        .base_url(server.url())
        .ws_url(ws_url)
        .websocket_config(config)
        .build()
        .expect("client builds");
    common::login(&client, common::STUDENT).await;
    (server, client)
}

/// Queues `count` messages of 1 MB each.
fn queue_megabyte_messages(socket: &WebSocketClient, count: usize) {
    let text = "x".repeat(1024 * 1024);
    for number in 0..count {
        socket
            .send("note", json!({ "number": number, "text": text }))
            .expect("message is queued");
    }
}

#[tokio::test]
async fn peer_that_never_reads_is_declared_dead() {
    let (url, _upgrades) = raw_server(|socket| async move {
        let _socket = socket;
        std::future::pending::<()>().await;
    })
    .await;
    let config = fast_config()
        .heartbeat_interval(Duration::from_millis(50))
        .heartbeat_timeout(Duration::from_millis(200));
    let (_server, client) = student_for(&url, config).await;
    let socket = client.websocket();
    socket.connect().await.expect("socket connects");

    queue_megabyte_messages(&socket, 32);
    let not_connected = |state: &ConnectionState| !state.is_connected();
    wait_state(&socket, "the state to leave Connected", not_connected).await;

    let started = Instant::now();
    within("disconnect", socket.disconnect()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "disconnect took {elapsed:?}"
    );
}

#[tokio::test]
async fn dropped_client_stops_blocked_writes() {
    let (first_read, mut first_read_receiver) = mpsc::unbounded_channel();
    let (url, _upgrades) = raw_server(move |mut socket| {
        let first_read = first_read.clone();
        async move {
            // Reads one frame, then stops reading with the socket open.
            let _ = socket.next().await;
            let _ = first_read.send(());
            std::future::pending::<()>().await;
        }
    })
    .await;
    // The heartbeat never fires, so only the shutdown can end the run.
    let (_server, client) = student_for(&url, fast_config()).await;
    let socket = client.websocket();
    socket.connect().await.expect("socket connects");
    let mut states = socket.watch_state();

    queue_megabyte_messages(&socket, 32);
    within("the first message", first_read_receiver.recv()).await;
    // Lets the client fill the socket buffers so that its write blocks.
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(socket);

    let stopped = within(
        "the run to end",
        states.wait_for(ConnectionState::is_disconnected),
    )
    .await;
    let state = stopped.map(|state| state.clone());
    assert!(
        matches!(
            state,
            Ok(ConnectionState::Disconnected {
                reason: DisconnectReason::Requested
            })
        ),
        "{state:?}"
    );
}

#[tokio::test]
async fn peer_closing_after_upgrade_exhausts_attempts() {
    let (url, mut upgrades) = raw_server(|socket| async move { drop(socket) }).await;
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_secs(1))
        .multiplier(2.0)
        .jitter(0.0)
        .max_attempts(3);
    let (_server, client) = student_for(&url, fast_config().reconnect(policy)).await;
    let socket = client.websocket();
    socket.connect().await.expect("socket connects");

    let state = wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;
    let ConnectionState::Disconnected {
        reason: DisconnectReason::AttemptsExhausted { attempts, .. },
    } = state
    else {
        panic!("expected exhausted attempts, got {state:?}");
    };
    assert_eq!(attempts, 3);

    let mut instants = Vec::new();
    while let Ok(instant) = upgrades.try_recv() {
        instants.push(instant);
    }
    // The connection of `connect` and one for each reconnect attempt.
    assert_eq!(instants.len(), 4);
    let expected_delays = [50, 100, 200].map(Duration::from_millis);
    for (pair, expected) in instants.windows(2).zip(expected_delays) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= expected,
            "gap {gap:?} is below the delay {expected:?}"
        );
    }
}

#[tokio::test]
async fn cancelled_connect_restores_state() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener binds");
    let url = format!("ws://{}/ws/connect", listener.local_addr().unwrap());
    let (accepted, mut accepted_receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Accepts TCP connections and never responds to the upgrade request.
        let mut open_streams = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open_streams.push(stream);
            let _ = accepted.send(());
        }
    });
    let (_server, client) = student_for(&url, fast_config()).await;
    let socket = client.websocket();
    let mut events = socket.events();

    let timed_out = tokio::time::timeout(Duration::from_millis(200), socket.connect()).await;
    assert!(timed_out.is_err(), "connect returned {timed_out:?}");
    assert!(
        accepted_receiver.try_recv().is_ok(),
        "connect did not reach the server"
    );

    let state = socket.state();
    assert!(state.is_disconnected(), "{state:?}");
    assert_eq!(within("the stream to end", events.next()).await, None);
}

#[tokio::test]
async fn disconnect_aborts_a_pending_connect() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener binds");
    let url = format!("ws://{}/ws/connect", listener.local_addr().unwrap());
    tokio::spawn(async move {
        // Accepts TCP connections and never responds to the upgrade request.
        let mut open_streams = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open_streams.push(stream);
        }
    });
    let (_server, client) = student_for(&url, fast_config()).await;
    let socket = client.websocket();
    let connecting = tokio::spawn({
        let socket = socket.clone();
        async move { socket.connect().await }
    });
    let mut states = socket.watch_state();
    within(
        "the connect to start",
        states.wait_for(|state| matches!(state, ConnectionState::Connecting)),
    )
    .await
    .expect("state sender is alive");

    within("disconnect to return", socket.disconnect()).await;
    let connected = within("connect to return", connecting).await.unwrap();

    assert!(connected.is_err(), "{connected:?}");
    let state = socket.state();
    assert!(
        matches!(
            state,
            ConnectionState::Disconnected {
                reason: DisconnectReason::Requested
            }
        ),
        "{state:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_is_written_during_incoming_flood() {
    let (received, mut received_receiver) = mpsc::unbounded_channel();
    let (url, _upgrades) = raw_server(move |socket| {
        let received = received.clone();
        async move {
            let (mut sink, mut stream) = socket.split();
            let flood = async move {
                let frame = r#"{"type":"flood","data":{}}"#;
                loop {
                    for _ in 0..100 {
                        if sink.feed(Message::text(frame)).await.is_err() {
                            return;
                        }
                    }
                    if sink.flush().await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            };
            let read = async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Text(text) = message {
                        let _ = received.send(text.to_string());
                    }
                }
            };
            tokio::select! {
                () = flood => {}
                () = read => {}
            }
        }
    })
    .await;
    let (_server, client) = student_for(&url, fast_config()).await;
    let socket = client.websocket();
    let mut events = socket.events();
    socket.connect().await.expect("socket connects");
    // The flood has reached the client once an event or a report of
    // skipped events arrives, because a reader this slow may lag at once.
    let first = next_event(&mut events).await;
    assert!(
        matches!(first.event_type(), "flood" | "lagged"),
        "{first:?}"
    );

    socket.send("note", json!({})).expect("message is queued");
    let arrived = tokio::time::timeout(Duration::from_secs(2), received_receiver.recv()).await;
    let text = arrived
        .expect("the message arrives within 2 s")
        .expect("server is running");
    assert!(text.contains(r#""type":"note""#), "{text}");
}
