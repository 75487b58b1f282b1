//! Packyard's blob stores: implementations of the core's
//! [`BlobStore`](packyard_core::ports::BlobStore) port.
//!
//! Blobs are content-addressed by their SHA-256 (`blobs/ab/cd/<sha256>`) and shared: the
//! same bytes uploaded twice are stored once. An upload streams to a temporary file while
//! all four digests are computed in the same pass ([`hashing`]); only a complete upload
//! within its size limit is moved to (or uploaded under) its content address.
//!
//! - [`FsBlobStore`]: a local folder (the default).
//! - [`S3BlobStore`] (feature `s3`): any S3-compatible store through rust-s3, with presigned
//!   download URLs.

mod fs;
pub mod hashing;
mod range;
#[cfg(feature = "s3")]
mod s3;

pub use fs::FsBlobStore;
#[cfg(feature = "s3")]
pub use s3::{S3BlobStore, S3Config};
