//! Request handlers, one file per endpoint group.

pub mod files;
