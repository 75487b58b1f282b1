//! packyard-web: the web UI. Server-rendered HTML (maud) that works without JavaScript; one
//! small script adds copy buttons. Everything, styles and script included, is served by
//! Packyard itself: no CDN, no web font.
//!
//! Pages (paths as on GitLab):
//! - `/users/sign_in`, `/users/sign_out`: password sessions ([`session`], [`auth`]).
//! - `/explore`: the groups and projects the visitor may see ([`explore`]).
//! - `/-/user_settings/personal_access_tokens`: create and revoke tokens ([`tokens`]).
//! - `/:project_path/-/packages` and `/groups/:group_path/-/packages`: package registry
//!   listings with search, filters, order and pages in the URL query ([`packages`]).
//! - `/:project_path/-/packages/:id`: one package, its files, versions, CI activity and the
//!   format's snippets; delete a package or a file ([`package`]).
//! - `/:project_path/-/settings/packages_and_registries`,
//!   `/groups/:group_path/-/settings/packages_and_registries`,
//!   `/admin/application_settings/ci_cd`: settings ([`settings`]).
//!
//! What the visitor may not see answers the 404 page, never a 403 that reveals it exists.
//! Every handler reaches data through the `Registry`, as the REST API does.

pub mod assets;
pub mod auth;
pub mod error;
pub mod explore;
pub mod layout;
pub mod package;
pub mod packages;
pub mod session;
pub mod settings;
pub mod tokens;

use std::sync::Arc;

use actix_web::cookie::Key;
use actix_web::web;
use packyard_core::{ApiError, PackageFormat, Registry};

pub use error::{not_found_page, WebError};
pub use session::Visitor;

/// Web UI settings (`[web]` in packyard.toml).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// How long a sign-in lasts.
    pub session_ttl_secs: u64,
    /// Failed sign-ins of one username within `login_window_secs` that lock it.
    pub login_max_failures: i64,
    pub login_window_secs: u64,
    /// How long a locked username is refused.
    pub login_lockout_secs: u64,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_ttl_secs: 7 * 24 * 3600,
            login_max_failures: 5,
            login_window_secs: 600,
            login_lockout_secs: 600,
        }
    }
}

/// What every page handler shares: the formats (for names and snippets), the cookie key and
/// the settings. Put in `web::Data<WebState>`.
pub struct WebState {
    pub formats: Vec<Arc<dyn PackageFormat>>,
    pub config: WebConfig,
    key: Key,
    /// Cookies get `Secure` when the instance is served over https.
    secure_cookies: bool,
}

/// Name of the shared secret (settings table) that signs the cookies.
const COOKIE_KEY_SECRET: &str = "web_cookie_key";

impl WebState {
    /// Loads (or creates, at the first start) the cookie-signing key every process shares.
    pub async fn load(
        registry: &Registry,
        formats: Vec<Arc<dyn PackageFormat>>,
        config: WebConfig,
    ) -> Result<WebState, ApiError> {
        let fresh = hex::encode(Key::generate().master());
        let stored = registry
            .catalog()
            .shared_secret(COOKIE_KEY_SECRET, fresh)
            .await?;
        let bytes = hex::decode(stored.trim())
            .ok()
            .filter(|b| b.len() >= 64)
            .ok_or_else(|| {
                ApiError::internal(std::io::Error::other("unreadable web cookie key"))
            })?;
        let key = Key::try_from(bytes.as_slice())
            .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
        Ok(WebState {
            formats,
            config,
            key,
            secure_cookies: registry.config().external_url.starts_with("https://"),
        })
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The format with this id, when it is compiled in.
    pub fn format(&self, id: &str) -> Option<&Arc<dyn PackageFormat>> {
        self.formats.iter().find(|f| f.id().0 == id)
    }

    /// The human name of a format id ("PyPI"), or the id itself.
    pub fn format_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.format(id).map(|f| f.display_name()).unwrap_or(id)
    }
}

/// Mounts every page. Register it after `/api/v4` and the health routes: the project paths
/// (`/{path}/-/packages`) would otherwise match them.
pub fn configure(cfg: &mut web::ServiceConfig) {
    assets::configure(cfg);
    auth::configure(cfg);
    explore::configure(cfg);
    tokens::configure(cfg);
    settings::configure(cfg);
    packages::configure(cfg);
    package::configure(cfg);
}
