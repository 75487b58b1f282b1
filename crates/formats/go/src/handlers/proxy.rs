//! `GET`/`HEAD /api/v4/projects/:id/packages/go/$module/@v/list`, `@v/$version.info`,
//! `.mod`, `.zip`, `.sum` and `$module/@latest`: the GOPROXY protocol (`go help goproxy`).
//!
//! Every answer but the zip is a document cached under the module's catalog revisions in
//! this project (one indexed query per request when cached). The zip is the stored upload,
//! served by core (ETag, HEAD, 304, ranges, presigned redirects).
//!
//! The module path is compared exactly (Go is case-sensitive): the catalog finds the name
//! case-insensitively ([`crate::metadata::normalize_name`]) and a stored path spelled
//! otherwise is another module, answered 404.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::json;

use packyard_core::documents::serve_document;
use packyard_core::http::PackageCaller;
use packyard_core::model::{Package, Project};
use packyard_core::policy::Action;
use packyard_core::serve::{serve_file, Downloadable, FileCoordinates};
use packyard_core::{ApiError, Registry};

use crate::error::not_found;
use crate::handlers::{parse, tail, Target, Want};
use crate::metadata::{self, GoVersion};
use crate::FORMAT;

/// What the upload stores in the package's metadata.
pub const GO_MOD: &str = "go_mod";
pub const H1: &str = "h1";
pub const H1_MOD: &str = "h1_mod";

/// The file name of a version's zip.
pub fn zip_file_name(version: &str) -> String {
    format!("{version}.zip")
}

pub async fn read(
    req: HttpRequest,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let target = tail(&req)
        .ok_or_else(|| "the path is not UTF-8".to_owned())
        .and_then(|t| parse(&t))
        .map_err(not_found)?;
    let (project, decision) = registry
        .find_and_decide(&caller.0, &id, Action::ReadPackage)
        .await?;
    let project = match project {
        Some(p) if decision.is_allowed() => p,
        // Never 401/403 on a read: go would stop resolving (see crate::error).
        _ => return Err(not_found(format!("{} in this project", target.module))),
    };
    match &target.want {
        Want::Zip(v) => serve_zip(&req, &registry, &project, &target.module, v).await,
        _ => serve_doc(&req, &registry, &project, target).await,
    }
}

async fn serve_zip(
    req: &HttpRequest,
    registry: &Registry,
    project: &Project,
    module: &str,
    version: &GoVersion,
) -> Result<HttpResponse, ApiError> {
    let normalized = module.to_ascii_lowercase();
    let file_name = zip_file_name(&version.original);
    let at = FileCoordinates {
        project: project.id,
        format: FORMAT.0,
        normalized_name: &normalized,
        version: &version.original,
        file_name: &file_name,
    };
    match registry
        .newest_downloadable_file(&at, Downloadable::All)
        .await?
    {
        Some((package, file)) if package.name == module => {
            serve_file(registry, req, &package, &file, "application/zip").await
        }
        _ => Err(not_found(format!("{module}@{}", version.original))),
    }
}

/// The versions of `module` (exactly) a caller may download, with their parsed versions.
async fn versions(
    registry: &Registry,
    project: &Project,
    module: &str,
) -> Result<Vec<(GoVersion, Package)>, ApiError> {
    let statuses = Downloadable::All.statuses();
    let packages = registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &module.to_ascii_lowercase())
        .await?;
    let mut out: Vec<(GoVersion, Package)> = packages
        .into_iter()
        .filter(|p| p.name == module && statuses.contains(&p.status))
        .filter_map(|p| GoVersion::parse(&p.version).ok().map(|v| (v, p)))
        .collect();
    out.sort_by(|a, b| a.0.precedence(&b.0));
    Ok(out)
}

fn time_of(version: &GoVersion, package: &Package) -> String {
    version.pseudo_time().unwrap_or_else(|| {
        chrono::DateTime::from_timestamp_millis(package.created_at)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

fn info(version: &GoVersion, package: &Package) -> Result<(Bytes, String), ApiError> {
    let body = serde_json::to_vec(&json!({
        "Version": version.original,
        "Time": time_of(version, package),
    }))
    .map_err(ApiError::internal)?;
    Ok((Bytes::from(body), "application/json".into()))
}

fn meta<'p>(package: &'p Package, key: &str) -> Result<&'p str, ApiError> {
    package
        .metadata
        .get(key)
        .and_then(|v| v.as_str())
        .ok_or_else(|| ApiError::internal(format!("go package {} has no {key}", package.id.0)))
}

/// Builds the document `want` of `module` from the catalog.
pub async fn build(
    registry: &Registry,
    project: &Project,
    module: &str,
    want: &Want,
) -> Result<(Bytes, String), ApiError> {
    let all = versions(registry, project, module).await?;
    if all.is_empty() {
        return Err(not_found(module));
    }
    let text = "text/plain; charset=utf-8".to_owned();
    let one = |v: &GoVersion| {
        all.iter()
            .find(|(x, _)| x.original == v.original)
            .map(|(_, p)| p)
            .ok_or_else(|| not_found(format!("{module}@{}", v.original)))
    };
    match want {
        Want::List => {
            // Tagged versions only, as proxies list them; go finds pseudo-versions itself.
            let mut body = String::new();
            for (v, _) in all.iter().filter(|(v, _)| !v.is_pseudo()) {
                body.push_str(&v.original);
                body.push('\n');
            }
            Ok((Bytes::from(body), text))
        }
        Want::Latest => {
            let latest =
                metadata::latest(all.iter().map(|(v, _)| v)).ok_or_else(|| not_found(module))?;
            info(latest, one(latest)?)
        }
        Want::Info(v) => info(v, one(v)?),
        Want::Mod(v) => Ok((Bytes::from(meta(one(v)?, GO_MOD)?.to_owned()), text)),
        Want::Sum(v) => {
            let p = one(v)?;
            let body = format!(
                "{module} {v} {}\n{module} {v}/go.mod {}\n",
                meta(p, H1)?,
                meta(p, H1_MOD)?,
                v = v.original
            );
            Ok((Bytes::from(body), text))
        }
        Want::Zip(_) => Err(ApiError::internal("zip is not a document")),
    }
}

async fn serve_doc(
    req: &HttpRequest,
    registry: &Registry,
    project: &Project,
    target: Target,
) -> Result<HttpResponse, ApiError> {
    let normalized = target.module.to_ascii_lowercase();
    let revisions = registry
        .package_revisions(&[project.id], FORMAT.0, Some(&normalized))
        .await?;
    if revisions.is_empty() {
        return Err(not_found(&target.module));
    }
    let what = match &target.want {
        Want::List => "list".to_owned(),
        Want::Latest => "latest".to_owned(),
        Want::Info(v) => format!("info {}", v.original),
        Want::Mod(v) => format!("mod {}", v.original),
        Want::Sum(v) => format!("sum {}", v.original),
        Want::Zip(v) => format!("zip {}", v.original),
    };
    let key = format!("go\0{}\0{}\0{what}", project.id.0, target.module);
    let doc = registry
        .documents()
        .get_or_build(&key, &revisions, || {
            build(registry, project, &target.module, &target.want)
        })
        .await?;
    Ok(serve_document(req, &doc))
}
