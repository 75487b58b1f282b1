//! Request handlers, one file per endpoint group.

pub mod crates;
pub mod index;
pub mod publish;
