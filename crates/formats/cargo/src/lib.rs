//! packyard-format-cargo: Cargo packages. (Being built: see issue.)

use std::cmp::Ordering;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{FormatError, PackageFormat, Snippet, SnippetContext};

pub const FORMAT: FormatId = FormatId("cargo");

/// Default upload limit.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10485760;

#[derive(Debug, Clone)]
pub struct CargoConfig {
    pub max_file_size: u64,
}

impl CargoConfig {
    /// `0` means the default.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        CargoConfig {
            max_file_size: if max_file_size == 0 {
                DEFAULT_MAX_FILE_SIZE
            } else {
                max_file_size
            },
        }
    }
}

pub struct Cargo {
    #[allow(dead_code)]
    config: CargoConfig,
}

impl Cargo {
    pub fn new(config: CargoConfig) -> Self {
        Cargo { config }
    }
}

impl PackageFormat for Cargo {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Cargo"
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        Ok(name.to_owned())
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        a.cmp(b)
    }
    fn configure_project(&self, _cfg: &mut web::ServiceConfig) {}
    fn snippets(&self, _ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        Vec::new()
    }
}
