//! How the binary builds this format: the keys of `[maven]` in packyard.toml
//! (`PACKYARD_MAVEN_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{Maven, MavenConfig, DEFAULT_INDEX_CACHE_BYTES, DEFAULT_MAX_FILE_SIZE, FORMAT};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![
            ConfigKey::uint(
                "max_file_size",
                DEFAULT_MAX_FILE_SIZE,
                "Largest Maven file accepted, in bytes (3 GiB, GitLab's `maven_max_file_size`). Larger uploads get 413.",
            ),
            ConfigKey::uint(
                "index_cache_bytes",
                DEFAULT_INDEX_CACHE_BYTES,
                "Memory for cached artifact indexes (files and derived metadata of an artifact), in bytes.",
            ),
        ],
        |s| {
            Arc::new(Maven::new(MavenConfig {
                max_file_size: s.uint("max_file_size"),
                index_cache_bytes: s.uint("index_cache_bytes"),
            }))
        },
    )
}
