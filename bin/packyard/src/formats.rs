//! The package formats compiled into this binary: one line each, behind the feature of the
//! same name (a renamed optional dependency in Cargo.toml). `cargo xtask new-format <id>`
//! adds the line.

use std::sync::Arc;

use packyard_core::{FormatFactory, PackageFormat};

use crate::config::Config;

/// Every installed format's factory, in the order the server mounts their routes: one line
/// per format.
#[rustfmt::skip]
pub fn factories() -> Vec<FormatFactory> {
    vec![
        #[cfg(feature = "generic")] generic::factory(),
        #[cfg(feature = "pypi")] pypi::factory(),
        #[cfg(feature = "npm")] npm::factory(),
        #[cfg(feature = "cargo")] cargo::factory(),
        #[cfg(feature = "maven")] maven::factory(),
        #[cfg(feature = "nuget")] nuget::factory(),
        #[cfg(feature = "go")] go::factory(),
    ]
}

/// The formats built from their sections of `config` (checked when it was loaded).
pub fn enabled(config: &Config) -> Vec<Arc<dyn PackageFormat>> {
    factories()
        .iter()
        .map(|f| {
            let settings = config.format_settings(f);
            (f.build)(&settings)
        })
        .collect()
}
