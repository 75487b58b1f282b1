//! The `packyard` binary's pieces, as a library so its tests can build the real application:
//! configuration, the server and its routes, metrics, logging, and the admin commands.

pub mod admin;
pub mod cleanup;
pub mod config;
pub mod formats;
pub mod logging;
pub mod metrics;
pub mod server;
pub mod tls;
