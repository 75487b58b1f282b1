//! How the binary builds this format: the keys of `[nuget]` in packyard.toml
//! (`PACKYARD_NUGET_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{
    Nuget, NugetConfig, DEFAULT_INDEX_CACHE_BYTES, DEFAULT_MAX_FILE_SIZE, DEFAULT_PAGE_SIZE, FORMAT,
};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![
            ConfigKey::uint(
                "max_file_size",
                DEFAULT_MAX_FILE_SIZE,
                "Largest NuGet package accepted, in bytes (500 MiB, GitLab's `nuget_max_file_size`). Larger pushes get 413.",
            ),
            ConfigKey::uint(
                "index_cache_bytes",
                DEFAULT_INDEX_CACHE_BYTES,
                "Memory for cached package indexes (versions, manifests and files of a package id), in bytes.",
            ),
            ConfigKey::uint(
                "registration_page_size",
                DEFAULT_PAGE_SIZE,
                "Versions per registration page: a package with more versions gets paged registrations, as nuget.org serves them.",
            ),
        ],
        |s| {
            Arc::new(Nuget::new(NugetConfig {
                max_file_size: s.uint("max_file_size"),
                index_cache_bytes: s.uint("index_cache_bytes"),
                registration_page_size: s.uint("registration_page_size").max(1),
            }))
        },
    )
}
