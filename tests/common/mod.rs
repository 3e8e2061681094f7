//! Helpers shared by the tests that run against the embedded mock server.

#![allow(dead_code)]

use toolboxai::mock::MockServer;
use toolboxai::Client;

pub const STUDENT: (&str, &str) = ("student@example.com", "StudentPass123!");
pub const TEACHER: (&str, &str) = ("teacher@example.com", "TeacherPass123!");
pub const TEST_TEACHER: (&str, &str) = ("test@example.com", "TestPass123!");

/// Starts a mock server and a client pointed at it.
pub async fn start() -> (MockServer, Client) {
    let server = MockServer::start().await.expect("mock server starts");
    let client = Client::builder()
        .base_url(server.url())
        .ws_url(server.ws_url())
        .build()
        .expect("client builds");
    (server, client)
}

/// Starts a mock server and a client logged in with `account`.
pub async fn start_as(account: (&str, &str)) -> (MockServer, Client) {
    let (server, client) = start().await;
    login(&client, account).await;
    (server, client)
}

/// Logs `client` in with `account`.
pub async fn login(client: &Client, account: (&str, &str)) {
    client
        .auth()
        .login(account.0, account.1)
        .await
        .expect("demo login succeeds");
}
