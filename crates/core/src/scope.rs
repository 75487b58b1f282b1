//! The scope of a package-manager read: a project, a group (with its subgroups), or the
//! instance, where GitLab's convention names a top-level group in the package name (npm's
//! `@scope/name`). [`Registry::readable_projects`] turns a scope into the projects whose
//! packages the caller may read, in a fixed number of queries whatever the number of
//! projects (`Registry::package_access_in_group`).

use actix_web::HttpRequest;

use crate::error::{ApiError, RouteClass};
use crate::model::{Project, ProjectId};
use crate::policy::Action;
use crate::registry::{Principal, Registry};

/// Where a package-manager read looks, as the route names it (raw ids or paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// `/projects/:id/...`: one project, by id or URL-encoded path.
    Project(&'a str),
    /// `/groups/:id/-/...`: every project in the group and its subgroups.
    Group(&'a str),
    /// `/packages/...` at the instance level: every project in the top-level group `group`
    /// (the format found its path in the request, e.g. npm's `@scope`).
    Instance { group: &'a str },
}

impl Registry {
    /// The projects of `scope` whose packages `principal` may read (`Action::ReadPackage` on
    /// package routes). Refusals are those of the project and group routes: 404 for what the
    /// caller may not see, 401 with `WWW-Authenticate` to an anonymous caller so that the
    /// client sends credentials. A project scope is checked under the request's stamp
    /// (`Registry::request_stamp`). A group whose projects are all closed to the caller but
    /// that it may see gives an empty list.
    pub async fn readable_projects(
        &self,
        req: &HttpRequest,
        principal: &Principal,
        scope: Scope<'_>,
    ) -> Result<Vec<Project>, ApiError> {
        match scope {
            Scope::Project(id) => Ok(vec![
                self.authorize_project_at(
                    self.request_stamp(req),
                    principal,
                    id,
                    Action::ReadPackage,
                    RouteClass::Package,
                )
                .await?,
            ]),
            Scope::Group(id) | Scope::Instance { group: id } => Ok(self
                .readable_projects_in_group(principal, id, RouteClass::Package)
                .await?
                .1),
        }
    }
}

impl Registry {
    /// The projects holding a package `normalized_name` of `format` whose packages
    /// `principal` may read: an instance-wide read looks the name up first (one indexed
    /// query) and then decides for each project that holds it, as GitLab's instance-level
    /// Maven endpoint does. Projects the caller may not read are left out silently (the
    /// answer is the format's miss); a failure of the catalog is an error.
    pub async fn readable_projects_holding(
        &self,
        req: &HttpRequest,
        principal: &Principal,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Project>, ApiError> {
        let ids = self
            .catalog()
            .projects_with_package(format, normalized_name)
            .await?;
        let stamp = self.request_stamp(req);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self
                .authorize_project_at(
                    stamp,
                    principal,
                    &id.0.to_string(),
                    Action::ReadPackage,
                    RouteClass::Package,
                )
                .await
            {
                Ok(project) => out.push(project),
                Err(e) if e.status().is_client_error() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// The ids of `projects`, in their order.
pub fn project_ids(projects: &[Project]) -> Vec<ProjectId> {
    projects.iter().map(|p| p.id).collect()
}
