//! The one list of package formats compiled into this binary, each behind its Cargo feature.

use std::sync::Arc;

use packyard_core::PackageFormat;

use crate::config::Config;

#[allow(clippy::vec_init_then_push)]
pub fn enabled(config: &Config) -> Vec<Arc<dyn PackageFormat>> {
    let _ = config;
    #[allow(unused_mut)]
    let mut formats: Vec<Arc<dyn PackageFormat>> = Vec::new();
    #[cfg(feature = "generic")]
    formats.push(Arc::new(packyard_format_generic::Generic::new(
        packyard_format_generic::GenericConfig {
            max_file_size: config.generic.max_file_size,
        },
    )));
    #[cfg(feature = "pypi")]
    formats.push(Arc::new(packyard_format_pypi::Pypi::new(
        packyard_format_pypi::PypiConfig::with_max_file_size(config.pypi.max_file_size),
    )));
    #[cfg(feature = "npm")]
    formats.push(Arc::new(packyard_format_npm::Npm::new(
        packyard_format_npm::NpmConfig::with_max_file_size(config.npm.max_file_size),
    )));
    #[cfg(feature = "cargo")]
    formats.push(Arc::new(packyard_format_cargo::Cargo::new(
        packyard_format_cargo::CargoConfig::with_max_file_size(config.cargo.max_file_size),
    )));
    formats
}
