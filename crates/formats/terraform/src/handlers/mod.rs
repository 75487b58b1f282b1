//! Request handlers, one module per group of endpoints.

pub mod files;
pub mod ping;
