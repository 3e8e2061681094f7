//! Accept loop and per-connection serving with hyper-util.
//!
//! The mock serves connections itself instead of through `axum::serve`, so
//! that a `drop_connection` fault can close the TCP connection before any
//! response is written. Each connection puts a [`ConnectionCloser`] in the
//! extensions of its requests, and the connection task drops the connection
//! when the closer fires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

/// Pause after a failed `accept`, such as one that ran out of file
/// descriptors, before the loop accepts again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// A handle that closes the connection a request arrived on.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionCloser(Arc<Notify>);

impl ConnectionCloser {
    /// Closes the connection without sending a response to any request on
    /// it. A request that calls this never gets a response.
    pub(crate) fn close(&self) {
        // `notify_one` stores a permit when the connection task is not
        // waiting yet, so a close is never lost.
        self.0.notify_one();
    }
}

/// Spawns a task that accepts connections on `listener` and serves `app` on
/// each of them.
///
/// Aborting the returned task also aborts every connection task, because the
/// `JoinSet` holding them is dropped with it. WebSocket connections that were
/// upgraded run in tasks of their own and are not aborted.
pub(crate) fn spawn_listener(listener: TcpListener, app: Router) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, app))
}

async fn accept_loop(listener: TcpListener, app: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, app.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "mock server failed to accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, app: Router) {
    let closer = ConnectionCloser(Arc::new(Notify::new()));
    let request_closer = closer.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(request_closer.clone());
        app.clone().oneshot(request)
    });

    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "mock connection ended with an error");
            }
        }
        () = closer.0.notified() => {
            tracing::debug!(%peer, "closing mock connection for an injected fault");
        }
    }
}
