//! Servers, fixtures and clients shared by the benchmarks and the memory
//! probe example.

// Each benchmark and the example compile this module on their own and use
// only some of its items.
#![allow(dead_code)]

pub mod clients;
pub mod fixtures;
pub mod http_server;
pub mod ws_server;
