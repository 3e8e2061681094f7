//! placeholder
pub mod models;
pub use models::*;
