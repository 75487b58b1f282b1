//! packyard-core: the model, the access policy, the `PackageFormat` trait, the `Registry`
//! service and the ports (`Catalog`, `BlobStore`) that adapters implement.
//!
//! No I/O lives here except through the ports. The model follows GitLab's Package Registry
//! (<https://docs.gitlab.com/user/packages/package_registry/>); the REST contract is GitLab's
//! v4 API (<https://docs.gitlab.com/api/rest/>).

pub mod admin;
pub mod archive;
pub mod body;
pub mod cleanup;
pub mod conditional;
pub mod credentials;
pub mod documents;
pub mod error;
pub mod format;
pub mod format_config;
pub mod formats;
pub mod gitlab_json;
pub mod http;
pub mod model;
pub mod mount;
pub mod pagination;
pub mod passwords;
pub mod policy;
pub mod ports;
pub mod protection;
pub mod redirect;
pub mod registry;
pub mod scope;
pub mod serve;
#[cfg(test)]
mod snapshots;
pub mod staged;
pub mod stamped;

pub use archive::{ArchiveError, ArchiveLimits};
pub use error::{ApiError, RouteClass};
pub use format::{DuplicateRule, FormatError, PackageFormat, Snippet, SnippetContext};
pub use format_config::{ConfigKey, ConfigKind, FormatFactory, FormatSettings};
pub use formats::Formats;
pub use registry::{Principal, Registry, RegistryConfig};
pub use staged::Staged;
