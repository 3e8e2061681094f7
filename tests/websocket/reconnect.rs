//! Reconnect, heartbeat, shutdown and buffer behaviour.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;

#[tokio::test]
async fn drop_reconnects_and_resubscribes() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    subscribe_and_wait(&socket, &mut events, "course_updates").await;

    assert_eq!(server.drop_sockets(), 1);
    within("a second connection", server.wait_for_socket_connections(2)).await;
    let expected = ServerEvent::Subscribed {
        channels: vec!["course_updates".to_owned()],
    };
    assert_eq!(next_event(&mut events).await, expected);

    server.notify(Some(common::STUDENT.0), "after the drop");
    let ServerEvent::Notification(notification) = next_event(&mut events).await else {
        panic!("expected the notification");
    };
    assert_eq!(notification.message, "after the drop");
    assert!(socket.state().is_connected());
}

#[tokio::test]
async fn recoverable_close_code_reconnects() {
    let (server, _client, socket, _events) = connected_student(fast_config()).await;
    assert_eq!(server.close_sockets(1011), 1);
    within("a second connection", server.wait_for_socket_connections(2)).await;
    wait_state(&socket, "Connected", ConnectionState::is_connected).await;
}

#[tokio::test]
async fn silent_server_detected_and_reconnected() {
    let config = fast_config()
        .heartbeat_interval(Duration::from_millis(30))
        .heartbeat_timeout(Duration::from_millis(60));
    let (server, _client, socket, mut events) = connected_student(config).await;

    server.set_socket_silent(true);
    let reconnecting =
        |state: &ConnectionState| matches!(state, ConnectionState::Reconnecting { .. });
    wait_state(&socket, "Reconnecting", reconnecting).await;
    server.set_socket_silent(false);
    within("a second connection", server.wait_for_socket_connections(2)).await;
    wait_state(&socket, "Connected", ConnectionState::is_connected).await;

    server.notify(None, "awake");
    let ServerEvent::Notification(notification) = next_event(&mut events).await else {
        panic!("expected the notification");
    };
    assert_eq!(notification.message, "awake");
}

#[tokio::test]
async fn silent_server_exhausts_attempts() {
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(20))
        .max_attempts(2);
    let config = fast_config()
        .heartbeat_interval(Duration::from_millis(30))
        .heartbeat_timeout(Duration::from_millis(60))
        .reconnect(policy);
    let (server, _client, socket, _events) = connected_student(config).await;
    server.set_socket_silent(true);

    let state = wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;
    let ConnectionState::Disconnected {
        reason: DisconnectReason::AttemptsExhausted { attempts, .. },
    } = state
    else {
        panic!("expected exhausted attempts, got {state:?}");
    };
    assert_eq!(attempts, 2);
    assert_eq!(server.socket_connections(), 3);
}

#[tokio::test]
async fn disconnect_does_not_reconnect() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    socket.disconnect().await;

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
    assert_eq!(within("the stream to end", events.next()).await, None);
    within("the socket to close", server.wait_for_socket_count(0)).await;
    // Several reconnect delays (10 to 50 ms) pass without a new connection.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(server.socket_connections(), 1);
    let error = socket.send("ping", json!({})).expect_err("disconnected");
    assert!(matches!(error, APIError::WebSocket(_)), "{error:?}");
}

#[tokio::test]
async fn server_close_1000_does_not_reconnect() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    assert_eq!(server.close_sockets(1000), 1);

    let state = wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;
    let ConnectionState::Disconnected {
        reason: DisconnectReason::ServerClosed { code, .. },
    } = state
    else {
        panic!("expected a server close, got {state:?}");
    };
    assert_eq!(code, 1000);
    assert_eq!(within("the stream to end", events.next()).await, None);
    assert_eq!(server.socket_connections(), 1);
}

#[tokio::test]
async fn send_fails_after_server_close() {
    let (server, _client, socket, _events) = connected_student(fast_config()).await;
    assert_eq!(server.close_sockets(1000), 1);
    wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;

    for number in 0..100 {
        let result = socket.send("note", json!({ "number": number }));
        assert!(
            result.is_err(),
            "send {number} was accepted after the run ended"
        );
    }
}

#[tokio::test]
async fn refresh_network_error_keeps_reconnecting() {
    let server = MockServer::start().await.expect("mock server starts");
    // Without HTTP retries each failed refresh counts as one attempt at once.
    let client = Client::builder()
        .base_url(server.url())
        .ws_url(server.ws_url())
        .websocket_config(fast_config())
        .retry_policy(toolboxai::RetryPolicy::none())
        .build()
        .expect("client builds");
    common::login(&client, common::STUDENT).await;
    let socket = client.websocket();
    socket.connect().await.expect("socket connects");
    server.inject(Fault::drop_connection("/api/auth/refresh").times(100));
    assert_eq!(server.close_sockets(4001), 1);

    let second_attempt = |state: &ConnectionState| matches!(state, ConnectionState::Reconnecting { attempt } if *attempt >= 2);
    wait_state(&socket, "a second attempt", second_attempt).await;
    server.clear_faults();
    wait_state(&socket, "Connected", ConnectionState::is_connected).await;
    assert_eq!(server.socket_connections(), 2);
}

#[tokio::test]
async fn auth_close_with_failing_refresh_stops() {
    let (server, _client, socket, _events) = connected_student(fast_config()).await;
    server.inject(Fault::status("/api/auth/refresh", 401).times(100));
    assert_eq!(server.close_sockets(4001), 1);

    let state = wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;
    let ConnectionState::Disconnected {
        reason: DisconnectReason::Failed(error),
    } = state
    else {
        panic!("expected an authentication failure, got {state:?}");
    };
    assert!(matches!(error, APIError::Authentication(_)), "{error:?}");
    let refreshes = server
        .requests()
        .iter()
        .filter(|request| request.path == "/api/auth/refresh")
        .count();
    assert_eq!(refreshes, 1);
    assert_eq!(server.socket_connections(), 1);
}

#[tokio::test]
async fn exhausted_attempts_end_stream() {
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(20))
        .max_attempts(2);
    let (server, _client, socket, mut events) =
        connected_student(fast_config().reconnect(policy)).await;
    server.inject(Fault::status("/ws/connect", 503).times(100));
    server.drop_sockets();

    assert_eq!(within("the stream to end", events.next()).await, None);
    let state = socket.state();
    let ConnectionState::Disconnected {
        reason:
            DisconnectReason::AttemptsExhausted {
                attempts,
                last_error,
            },
    } = state
    else {
        panic!("expected exhausted attempts, got {state:?}");
    };
    assert_eq!(attempts, 2);
    assert_eq!(last_error.status(), Some(503));
}

#[tokio::test]
async fn slow_consumer_skips_oldest_events() {
    let (server, _client, socket, mut events) =
        connected_student(fast_config().event_capacity(4)).await;
    let (handled, mut handled_receiver) = mpsc::unbounded_channel();
    socket.on("notification", move |_| {
        let _ = handled.send(());
    });

    for number in 0..20 {
        server.notify(None, &format!("message {number}"));
    }
    for _ in 0..20 {
        within("a handled notification", handled_receiver.recv()).await;
    }

    assert_eq!(
        next_event(&mut events).await,
        ServerEvent::Lagged { skipped: 16 }
    );
    for number in 16..20 {
        let ServerEvent::Notification(notification) = next_event(&mut events).await else {
            panic!("expected notification {number}");
        };
        assert_eq!(notification.message, format!("message {number}"));
    }
}

#[tokio::test]
async fn handlers_fire_and_stop_after_off() {
    let (server, _client, socket, mut events) = connected_student(fast_config()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    socket.on("notification", move |event| {
        assert!(matches!(event, ServerEvent::Notification(_)));
        counter.fetch_add(1, Ordering::SeqCst);
    });

    server.notify(None, "first");
    next_event(&mut events).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    assert!(socket.off("notification"));
    server.notify(None, "second");
    next_event(&mut events).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn messages_sent_while_reconnecting_arrive_in_order() {
    // Reconnect delays of 100 ms leave time to queue messages while the
    // connection is down.
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(100));
    let (server, _client, socket, _events) =
        connected_student(fast_config().reconnect(policy)).await;
    server.drop_sockets();
    let reconnecting =
        |state: &ConnectionState| matches!(state, ConnectionState::Reconnecting { .. });
    wait_state(&socket, "Reconnecting", reconnecting).await;

    for number in 0..5 {
        socket
            .send("note", json!({ "number": number }))
            .expect("message is queued");
    }
    within("the messages", server.wait_for_socket_messages(5)).await;

    let numbers: Vec<i64> = server
        .socket_messages()
        .iter()
        .map(|message| message["data"]["number"].as_i64().expect("numbered note"))
        .collect();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4]);
    assert_eq!(server.socket_connections(), 2);
}

#[tokio::test]
async fn full_queue_rejects_send() {
    let policy = ReconnectPolicy::default().initial_delay(Duration::from_secs(5));
    let config = fast_config().reconnect(policy).outgoing_queue_capacity(2);
    let (server, _client, socket, _events) = connected_student(config).await;
    server.drop_sockets();
    let reconnecting =
        |state: &ConnectionState| matches!(state, ConnectionState::Reconnecting { .. });
    wait_state(&socket, "Reconnecting", reconnecting).await;

    socket
        .send("note", json!({}))
        .expect("first message is queued");
    socket
        .send("note", json!({}))
        .expect("second message is queued");
    let error = socket.send("note", json!({})).expect_err("queue is full");
    assert!(matches!(error, APIError::WebSocket(_)), "{error:?}");
    assert!(error.message().contains("full"), "{error}");
    socket.disconnect().await;
}

#[tokio::test]
async fn mock_shutdown_closes_sockets() {
    let config = fast_config().reconnect(ReconnectPolicy::none());
    let (server, _client, socket, _events) = connected_student(config).await;
    server.shutdown().await;

    let state = wait_state(&socket, "Disconnected", ConnectionState::is_disconnected).await;
    let ConnectionState::Disconnected {
        reason: DisconnectReason::AttemptsExhausted { last_error, .. },
    } = state
    else {
        panic!("expected a lost connection, got {state:?}");
    };
    assert!(last_error.message().contains("1001"), "{last_error}");
}
