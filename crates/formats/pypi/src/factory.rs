//! How the binary builds this format: the keys of `[pypi]` in packyard.toml
//! (`PACKYARD_PYPI_<KEY>` in the environment), documented in docs/configuration.md.

use std::sync::Arc;

use packyard_core::{ConfigKey, FormatFactory};

use crate::{Pypi, PypiConfig, FORMAT};

pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            0,
            "Largest wheel or sdist accepted, in bytes; `0` means 5 GiB.",
        )],
        |s| {
            Arc::new(Pypi::new(PypiConfig::with_max_file_size(
                s.uint("max_file_size"),
            )))
        },
    )
}
