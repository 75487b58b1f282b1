//! How the binary builds this format: the keys of `[cargo]` in packyard.toml
//! (`PACKYARD_CARGO_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{Cargo, CargoConfig, FORMAT};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            0,
            "Largest `.crate` accepted, in bytes; `0` means 10 MiB (crates.io's limit).",
        )],
        |s| {
            Arc::new(Cargo::new(CargoConfig::with_max_file_size(
                s.uint("max_file_size"),
            )))
        },
    )
}
