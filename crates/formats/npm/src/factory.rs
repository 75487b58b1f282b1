//! How the binary builds this format: the keys of `[npm]` in packyard.toml
//! (`PACKYARD_NPM_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{Npm, NpmConfig, FORMAT};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            0,
            "Largest npm tarball accepted (after base64 decoding), in bytes; `0` means 500 MiB (GitLab's `npm_max_file_size`).",
        )],
        |s| {
            Arc::new(Npm::new(NpmConfig::with_max_file_size(
                s.uint("max_file_size"),
            )))
        },
    )
}
