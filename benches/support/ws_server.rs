//! A minimal WebSocket server that pushes a fixed number of `quiz_result`
//! frames to each connection and then closes it with code 1000.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::fixtures::{BEARER, QUIZ_RESULT_FRAME};

/// Accepts WebSockets on `ws://127.0.0.1:<port>/events/<count>` that carry
/// the benchmark bearer token, and sends `<count>` copies of
/// [`QUIZ_RESULT_FRAME`] to each, from a runtime of its own. Upgrades
/// without the token get 401.
pub struct WsServer {
    addr: SocketAddr,
    // Dropping the runtime stops the server, so it lives as long as the handle.
    _runtime: Runtime,
}

impl WsServer {
    /// Starts the server on a runtime with `worker_threads` threads.
    ///
    /// # Panics
    ///
    /// Panics when the runtime cannot start or the listener cannot bind.
    pub fn start(worker_threads: usize) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .thread_name("bench-ws-server")
            .enable_all()
            .build()
            .expect("the server runtime starts");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("the server binds 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        runtime.spawn(accept_loop(listener));
        Self {
            addr,
            _runtime: runtime,
        }
    }

    /// Returns the URL of a WebSocket that receives `count` events.
    pub fn url(&self, count: usize) -> String {
        format!("ws://{}/events/{count}", self.addr)
    }
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(push_events(stream));
            }
            Err(error) => eprintln!("benchmark WebSocket server failed to accept: {error}"),
        }
    }
}

/// Handshake callback that accepts upgrades to `/events/<count>` with the
/// benchmark bearer token and stores `<count>`.
struct CheckUpgrade<'a> {
    count: &'a mut usize,
}

impl Callback for CheckUpgrade<'_> {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        let reject = |status: StatusCode, text: &str| {
            let mut response = ErrorResponse::new(Some(text.to_owned()));
            *response.status_mut() = status;
            response
        };
        let authorized = request
            .headers()
            .get("authorization")
            .is_some_and(|value| value.as_bytes() == BEARER.as_bytes());
        if !authorized {
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token",
            ));
        }
        *self.count = request
            .uri()
            .path()
            .strip_prefix("/events/")
            .and_then(|count| count.parse().ok())
            .ok_or_else(|| reject(StatusCode::NOT_FOUND, "expected /events/<count>"))?;
        Ok(response)
    }
}

async fn push_events(stream: TcpStream) {
    let mut count = 0;
    let callback = CheckUpgrade { count: &mut count };
    let mut socket = match tokio_tungstenite::accept_hdr_async(stream, callback).await {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("benchmark WebSocket upgrade failed: {error}");
            return;
        }
    };
    let frame = Message::Text(Utf8Bytes::from_static(QUIZ_RESULT_FRAME));
    // `feed` only buffers, and tungstenite writes the buffer out once it
    // grows past its write buffer size, so frames leave in large batches.
    for _ in 0..count {
        if socket.feed(frame.clone()).await.is_err() {
            return;
        }
    }
    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: Utf8Bytes::from_static("done"),
    };
    if socket.send(Message::Close(Some(close))).await.is_err() {
        return;
    }
    // Reads until the client's close reply, which completes the handshake.
    while let Some(Ok(_)) = socket.next().await {}
}
