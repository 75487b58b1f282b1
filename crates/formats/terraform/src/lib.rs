//! packyard-format-terraform: Terraform packages for Packyard.
//!
//! Overview (fill in as the format grows):
//! - Spec: the package manager's protocol documentation, and GitLab's if it has this format.
//! - Routes ([`routes`]): mounted under `/api/v4/projects/{id}/packages/terraform/`; today one
//!   placeholder, `GET .../terraform/ping`, which authorizes a read through the `Registry`.
//! - Names and versions ([`metadata`]): how the package manager compares them.
//! - Documents ([`views`]): what the package manager reads (indexes, metadata).
//! - Errors ([`error`]): the client's error shape.
//! - Configuration ([`factory`]): the `[terraform]` section of packyard.toml and its
//!   `PACKYARD_TERRAFORM_<KEY>` environment names, documented in docs/configuration.md.
//!
//! The crate sees `packyard-core` only and reaches data through the `Registry`.

pub mod error;
mod handlers;
pub mod metadata;
pub mod routes;
pub mod views;

use std::cmp::Ordering;
use std::sync::Arc;

use actix_web::web;
use packyard_core::model::FormatId;
use packyard_core::{
    ConfigKey, FormatError, FormatFactory, PackageFormat, Snippet, SnippetContext,
};

pub const FORMAT: FormatId = FormatId("terraform");

/// Default upload limit, in bytes.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// The format's settings (`[terraform]`).
#[derive(Debug, Clone)]
pub struct TerraformConfig {
    /// Bodies larger than this are refused with 413.
    pub max_file_size: u64,
}

impl Default for TerraformConfig {
    fn default() -> Self {
        TerraformConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

pub struct Terraform {
    config: TerraformConfig,
}

impl Terraform {
    pub fn new(config: TerraformConfig) -> Self {
        Terraform { config }
    }

    pub fn config(&self) -> &TerraformConfig {
        &self.config
    }
}

/// How the binary builds this format from its `[terraform]` section; registered in
/// bin/packyard/src/formats.rs.
pub fn factory() -> FormatFactory {
    FormatFactory::new(
        FORMAT.0,
        vec![ConfigKey::uint(
            "max_file_size",
            DEFAULT_MAX_FILE_SIZE,
            "Largest Terraform module archive accepted, in bytes.",
        )],
        |s| {
            Arc::new(Terraform::new(TerraformConfig {
                max_file_size: s.uint("max_file_size"),
            }))
        },
    )
}

impl PackageFormat for Terraform {
    fn id(&self) -> FormatId {
        FORMAT
    }
    fn display_name(&self) -> &'static str {
        "Terraform"
    }
    fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
        metadata::normalize_name(name)
    }
    fn compare_versions(&self, a: &str, b: &str) -> Ordering {
        metadata::compare_versions(a, b)
    }
    fn configure_project(&self, cfg: &mut web::ServiceConfig) {
        routes::configure(cfg, self.config.clone());
    }
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet> {
        views::snippets(ctx)
    }
}
