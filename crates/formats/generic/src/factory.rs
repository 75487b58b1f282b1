//! How the binary builds this format: the keys of `[generic]` in packyard.toml
//! (`PACKYARD_GENERIC_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{Generic, GenericConfig, DEFAULT_MAX_FILE_SIZE, FORMAT};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            DEFAULT_MAX_FILE_SIZE,
            "Largest generic package file accepted, in bytes (5 GiB, GitLab's `generic_packages_max_file_size`). Larger uploads get 413.",
        )],
        |s| {
            Arc::new(Generic::new(GenericConfig {
                max_file_size: s.uint("max_file_size"),
            }))
        },
    )
}
