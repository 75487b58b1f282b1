//! Packyard test helpers.
//!
//! - [`s3`]: a real S3-compatible server (`s3s-fs`) that checks AWS Signature Version 4,
//!   started in-process by tests ([`start_s3`]) or as the `packyard-test-s3` binary by CI
//!   scripts for the end-to-end run on S3.
//! - `conformance` (feature `conformance`): the conformance kit every format's
//!   `tests/conformance.rs` runs (see the module and `docs/writing-a-format.md`).
//! - `scale` (feature `scale`): counting the catalog's SQL statements and bulk package rows
//!   in SQLite, for the tests that run the catalog at scale.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod s3;
#[cfg(feature = "scale")]
pub mod scale;

pub use s3::{start_s3, try_start_s3, S3Server, TEST_ACCESS_KEY, TEST_BUCKET, TEST_SECRET_KEY};
