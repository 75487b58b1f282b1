//! packyard-api: the GitLab REST v4 resource endpoints and the Packages API.
//!
//! Implements the parts of GitLab's API that clients (python-gitlab, CI scripts) call around
//! the package registry: `GET /version`, `GET /user`, `GET|HEAD /projects/:id`,
//! `POST|DELETE /projects/:id/ci/job_token`, and the Packages API
//! (<https://docs.gitlab.com/api/packages/>): list, show and delete packages and their files.
//! The compatibility contract is `specs/gitlab-api.md` §0, §1.3, §2.1, §2.4, §2.7 and §3.
//!
//! Every handler reaches data only through the `Registry` (in `web::Data<Registry>`), and every
//! failure, extractor failures included, is an `ApiError` with GitLab's JSON shape.
//!
//! Mounting (see [`routes`]): the binary registers
//! `web::scope("/api/v4/projects/{id}/packages")` (format routes first, then
//! [`configure_project_packages`]) **before** `web::scope("/api/v4").configure(configure)`,
//! because an actix scope that matches a prefix never falls through to a later one.

mod handlers;
pub mod routes;
#[cfg(test)]
mod snapshots;
mod views;

pub use routes::{configure, configure_project_packages};
