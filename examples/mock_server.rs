//! Serves the embedded mock server standalone, so that clients in any
//! language can be tried against it.
//!
//! ```text
//! cargo run --example mock_server                    # HTTP 8008, WebSocket 9876
//! cargo run --example mock_server -- --http-port 18008 --ws-port 19876
//! ```
//!
//! Demo accounts: student@example.com / StudentPass123!,
//! teacher@example.com / TeacherPass123!, test@example.com / TestPass123!.
//! Demo course: course-123. Stop with Ctrl-C.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use toolboxai::mock::MockServer;

const USAGE: &str = "usage: mock_server [--http-port PORT] [--ws-port PORT]
  --http-port PORT  port of the HTTP API on 127.0.0.1 (default 8008)
  --ws-port PORT    port of the WebSocket endpoint on 127.0.0.1 (default 9876)";

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let (http_port, ws_port) = match parse_ports(std::env::args().skip(1)) {
        Ok(ports) => ports,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = MockServer::builder()
        .http_addr(SocketAddr::from((Ipv4Addr::LOCALHOST, http_port)))
        .ws_addr(Some(SocketAddr::from((Ipv4Addr::LOCALHOST, ws_port))))
        .start()
        .await;
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            eprintln!("mock server could not start on ports {http_port} and {ws_port}: {error}");
            eprintln!("pick free ports with --http-port and --ws-port");
            return ExitCode::FAILURE;
        }
    };
    println!("Base URL   {}  (TOOLBOXAI_BASE_URL)", server.url());
    println!("API        {}/api", server.url());
    println!("WebSocket  {}  (TOOLBOXAI_WS_URL)", server.ws_url());
    println!("Press Ctrl-C to stop.");
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {error}");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}

fn parse_ports(mut args: impl Iterator<Item = String>) -> Result<(u16, u16), String> {
    let (mut http_port, mut ws_port) = (8008, 9876);
    while let Some(flag) = args.next() {
        let target = match flag.as_str() {
            "--http-port" => &mut http_port,
            "--ws-port" => &mut ws_port,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a port number"))?;
        *target = value
            .parse()
            .map_err(|_| format!("{flag} {value:?} is not a port number (1-65535)"))?;
    }
    Ok((http_port, ws_port))
}
