//! The `PackageFormat` trait: what a format crate implements to plug into Packyard.
//!
//! A format crate sees only `packyard-core`. It mounts its package-manager endpoints with
//! actix-web's `ServiceConfig` and reaches data through the `Registry` (in `web::Data`).

use actix_web::web;
use std::cmp::Ordering;

use crate::model::{FormatId, Package};
use crate::ports::DuplicatePolicy;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

/// What a snippet is filled with on a package's page.
#[derive(Debug, Clone)]
pub struct SnippetContext<'a> {
    /// The instance's external URL, without a trailing slash.
    pub external_url: &'a str,
    pub project_id: i64,
    pub project_path: &'a str,
    pub package_name: &'a str,
    pub package_version: &'a str,
    pub file_names: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// "Registry setup", "Install", "Publish".
    pub title: String,
    /// Syntax name for highlighting ("shell", "toml", ...).
    pub language: &'static str,
    pub code: String,
}

pub trait PackageFormat: Send + Sync + 'static {
    /// Stable id used in URLs, config and the `packages.format` column.
    fn id(&self) -> FormatId;
    /// Human name for the UI ("Generic", "PyPI").
    fn display_name(&self) -> &'static str;
    /// The name as the package manager compares names.
    fn normalize_name(&self, name: &str) -> Result<String, FormatError>;
    /// Version order as the package manager sees it.
    fn compare_versions(&self, a: &str, b: &str) -> Ordering;
    /// Mounts the project-level endpoints under `/api/v4/projects/{id}/packages/`.
    fn configure_project(&self, cfg: &mut web::ServiceConfig);
    /// Mounts group-level endpoints under `/api/v4/groups/{id}/-/packages/`.
    fn configure_group(&self, _cfg: &mut web::ServiceConfig) {}
    /// Mounts instance-level endpoints under `/api/v4/packages/`.
    fn configure_instance(&self, _cfg: &mut web::ServiceConfig) {}
    /// Mounts endpoints at the root of the site, for the few that a package manager looks up
    /// outside `/api/v4` (Terraform's `/.well-known/terraform.json`). They come before the
    /// web UI's pages, so keep to paths the UI cannot have (`/.well-known/...`).
    fn configure_root(&self, _cfg: &mut web::ServiceConfig) {}
    /// Install and publish snippets shown on a package's page.
    fn snippets(&self, ctx: &SnippetContext<'_>) -> Vec<Snippet>;
    /// GitLab's `package_type` name of this format (the Packages API filter, protection
    /// rules); the id unless GitLab spells it differently.
    fn gitlab_package_type(&self) -> &'static str {
        self.id().0
    }
    /// Whether the format has GitLab's group duplicate setting
    /// (`<id>_duplicates_allowed`, `<id>_duplicate_exception_regex`; GitLab has it for maven,
    /// generic, nuget and terraform_module), its default, and how a refused duplicate is
    /// refused. `None` (the default): the format's own rule in `PublishRequest::duplicates`
    /// always applies. With `Some`, `Registry::commit` decides from the group's setting.
    fn duplicate_rule(&self) -> Option<DuplicateRule> {
        None
    }
    /// For formats that keep several builds of one version under distinct file names
    /// (Maven's timestamped SNAPSHOTs): the build a file belongs to, as a label. The cleanup
    /// policy's `keep_n_duplicated_package_files` then keeps the newest N builds of each
    /// such version (newest by their newest file) and deletes the files of older builds.
    /// `None` (the default, and for files outside any build): only the policy's same-name
    /// rule applies.
    fn file_build(&self, _package: &Package, _file_name: &str) -> Option<String> {
        None
    }
    /// Whether [`PackageFormat::file_build`] can answer `Some` (the cleanup reads this
    /// format's packages only then).
    fn has_builds(&self) -> bool {
        false
    }
}

/// A format's GitLab duplicate setting ([`PackageFormat::duplicate_rule`]).
#[derive(Debug, Clone)]
pub struct DuplicateRule {
    /// `<id>_duplicates_allowed` of a group that never set it.
    pub allowed_by_default: bool,
    /// What the catalog checks, in the publish transaction, when duplicates are not allowed
    /// and the exception regex matches neither the name nor the version.
    pub reject: DuplicatePolicy,
    /// Versions the setting never applies to: always allowed (Maven's SNAPSHOTs, which
    /// GitLab's `maven_duplicates_allowed` leaves alone).
    pub always_allowed: Option<fn(&str) -> bool>,
}

impl DuplicateRule {
    /// GitLab's message for a refused duplicate.
    pub const MESSAGE: &'static str = "Duplicate package is not allowed";

    /// Refuses a second file of the same name in one package version.
    pub fn same_file_name(allowed_by_default: bool) -> Self {
        DuplicateRule {
            allowed_by_default,
            reject: DuplicatePolicy::RejectSameFileName {
                message: Self::MESSAGE.into(),
            },
            always_allowed: None,
        }
    }

    /// The same rule, never applied to the versions `exempt` accepts.
    pub fn except_versions(mut self, exempt: fn(&str) -> bool) -> Self {
        self.always_allowed = Some(exempt);
        self
    }
}
