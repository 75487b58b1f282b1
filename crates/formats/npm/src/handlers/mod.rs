//! Request handling: one dispatcher per level that parses the tail (see `routes.rs`), then
//! the endpoint groups: `publish.rs`, `packument.rs` (packument and tarball), `tags.rs`,
//! `update.rs` (deprecate, unpublish), `whoami.rs` and `search.rs`.

mod packument;
mod publish;
mod search;
mod tags;
mod update;
mod whoami;

use std::collections::{BTreeMap, HashMap};

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use packyard_core::http::PackageCaller;
use packyard_core::model::{Package, PackageFile, PackageId, Project, ProjectId};
use packyard_core::policy::Action;
use packyard_core::scope::Scope;
use packyard_core::{ApiError, Principal, Registry, RouteClass};

use crate::error::{not_found, npm_error, npm_shape};
use crate::metadata::{self, NpmName};
use crate::routes::{self, Endpoint, Level};
use crate::{NpmConfig, FORMAT};

/// What every handler needs.
pub struct Ctx {
    pub req: HttpRequest,
    pub registry: web::Data<Registry>,
    pub principal: Principal,
    pub level: Level,
    /// `/api/v4/.../packages/npm` as the client wrote it, for tarball URLs.
    pub prefix: String,
    pub config: NpmConfig,
}

pub async fn dispatch(
    req: HttpRequest,
    caller: Result<PackageCaller, ApiError>,
    registry: web::Data<Registry>,
    config: web::Data<NpmConfig>,
    level: web::Data<Level>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.map_err(npm_shape)?.0;
    let Some((prefix, tail)) = routes::split_path(req.path()) else {
        return Err(not_found("Not found"));
    };
    let Some(endpoint) = routes::parse_tail(&tail) else {
        return Err(not_found("Not found"));
    };
    let ctx = Ctx {
        prefix: prefix.to_owned(),
        req: req.clone(),
        registry,
        principal,
        level: **level,
        config: config.get_ref().clone(),
    };
    let method = req.method().clone();
    let project_only = |ok: bool| {
        if ok && ctx.level == Level::Project {
            Ok(())
        } else if ok {
            Err(npm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "this endpoint is read-only: publish and change packages at the project level (/api/v4/projects/:id/packages/npm/)",
            ))
        } else {
            Err(npm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ))
        }
    };
    let get = method == Method::GET || method == Method::HEAD;
    let result = match endpoint {
        Endpoint::Packument(name) if get => packument::packument(&ctx, &name).await,
        Endpoint::Packument(name) if method == Method::PUT => {
            project_only(true)?;
            publish::put(&ctx, &name, body, false).await
        }
        Endpoint::Tarball { name, file } if get => packument::tarball(&ctx, &name, &file).await,
        Endpoint::Rev { name } if method == Method::PUT => {
            project_only(true)?;
            publish::put(&ctx, &name, body, true).await
        }
        Endpoint::Rev { name } if method == Method::DELETE => {
            project_only(true)?;
            update::delete_all(&ctx, &name).await
        }
        Endpoint::TarballRev { name, file } if method == Method::DELETE => {
            project_only(true)?;
            update::delete_version(&ctx, &name, &file).await
        }
        Endpoint::DistTags(name) if get => tags::list(&ctx, &name).await,
        Endpoint::DistTag { name, tag } if method == Method::PUT => {
            project_only(true)?;
            tags::add(&ctx, &name, &tag, body).await
        }
        Endpoint::DistTag { name, tag } if method == Method::DELETE => {
            project_only(true)?;
            tags::remove(&ctx, &name, &tag).await
        }
        Endpoint::Whoami if get => whoami::whoami(&ctx).await,
        Endpoint::Search if get => search::search(&ctx).await,
        Endpoint::Unknown => Err(not_found("Not found")),
        _ => {
            project_only(false)?;
            unreachable_ok()
        }
    };
    result.map_err(npm_shape)
}

fn unreachable_ok() -> Result<HttpResponse, ApiError> {
    Err(npm_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
    ))
}

impl Ctx {
    /// The `{id}` of the project or group level, raw.
    fn id(&self) -> Result<&str, ApiError> {
        self.req
            .match_info()
            .get("id")
            .ok_or_else(|| not_found("Not found"))
    }

    /// The project of a project-level write, checked for `action`.
    pub async fn project_for(&self, action: Action) -> Result<Project, ApiError> {
        self.registry
            .authorize_project_at(
                self.registry.request_stamp(&self.req),
                &self.principal,
                self.id()?,
                action,
                RouteClass::Package,
            )
            .await
    }

    /// The projects whose packages called `name` this caller may read at this level.
    pub async fn readable_projects(&self, name: &NpmName) -> Result<Vec<Project>, ApiError> {
        let scope = match self.level {
            Level::Project => Scope::Project(self.id()?),
            Level::Group => Scope::Group(self.id()?),
            // GitLab's convention: at the instance level the scope is a top-level group.
            Level::Instance => match &name.scope {
                Some(scope) => Scope::Instance { group: scope },
                None => {
                    return Err(not_found(format!(
                        "'{}' is not scoped: the instance-level endpoint serves only @scope/name packages whose scope is a top-level group",
                        name.full()
                    )))
                }
            },
        };
        self.registry
            .readable_projects(&self.req, &self.principal, scope)
            .await
    }

    /// Absolute URL of a tarball at this level.
    pub fn tarball_url(&self, name: &str, file: &str) -> String {
        self.registry
            .url(&format!("{}/{name}/-/{file}", self.prefix))
    }
}

/// Every visible version of a name across projects, with its tarball and the tags.
pub struct Versions {
    /// Oldest first; one per version (the newest package wins when projects share one).
    pub rows: Vec<(Package, PackageFile)>,
    /// tag → version
    pub tags: BTreeMap<String, String>,
}

pub async fn load_versions(
    registry: &Registry,
    projects: &[Project],
    name: &str,
) -> Result<Versions, ApiError> {
    let reads = registry.packages();
    let ids: Vec<ProjectId> = projects.iter().map(|p| p.id).collect();
    let packages = match ids.as_slice() {
        [] => Vec::new(),
        [one] => reads.packages_by_name(*one, FORMAT.0, name).await?,
        many => reads.packages_by_name_in(many, FORMAT.0, name).await?,
    };
    let mut by_version: HashMap<String, Package> = HashMap::new();
    for p in packages.into_iter().filter(|p| p.status.detailed()) {
        match by_version.get(&p.version) {
            Some(old) if old.created_at > p.created_at => {}
            _ => {
                by_version.insert(p.version.clone(), p);
            }
        }
    }
    let package_ids: Vec<PackageId> = by_version.values().map(|p| p.id).collect();
    let mut files: HashMap<PackageId, PackageFile> = HashMap::new();
    if !package_ids.is_empty() {
        for f in reads.package_files_of(&package_ids).await? {
            // Ordered by file id: the last one is the newest.
            files.insert(f.package_id, f);
        }
    }
    let mut rows: Vec<(Package, PackageFile)> = by_version
        .into_values()
        .filter_map(|p| files.remove(&p.id).map(|f| (p, f)))
        .collect();
    rows.sort_by(|a, b| metadata::compare_versions(&a.0.version, &b.0.version));
    let mut tags: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let with_rows: Vec<ProjectId> = {
        let mut v: Vec<ProjectId> = rows.iter().map(|(p, _)| p.project_id).collect();
        v.sort_by_key(|p| p.0);
        v.dedup();
        v
    };
    for project in with_rows {
        for (tag, package) in reads.package_tags_by_name(project, FORMAT.0, name).await? {
            if let Some((p, _)) = rows.iter().find(|(p, _)| p.id == package) {
                let newer = tags.get(&tag).is_none_or(|(at, _)| *at < p.created_at);
                if newer {
                    tags.insert(tag, (p.created_at, p.version.clone()));
                }
            }
        }
    }
    Ok(Versions {
        rows,
        tags: tags.into_iter().map(|(k, (_, v))| (k, v)).collect(),
    })
}

/// Parses a name from a read request; an invalid name cannot exist (404).
pub fn read_name(name: &str) -> Result<NpmName, ApiError> {
    routes::read_name(name)
        .ok_or_else(|| not_found(format!("package '{}' not found", metadata::printable(name))))
}
