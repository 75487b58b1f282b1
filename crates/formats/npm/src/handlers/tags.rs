//! `GET /-/package/:name/dist-tags`, `PUT|DELETE /-/package/:name/dist-tags/:tag`
//! (`npm dist-tag ls|add|rm`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use packyard_core::body::read_bounded;
use packyard_core::documents::{serve_document, Document};
use packyard_core::model::Project;
use packyard_core::policy::Action;
use packyard_core::ApiError;

use super::{read_name, Ctx};
use crate::error::{bad_request, not_found};
use crate::metadata;
use crate::FORMAT;

pub async fn list(ctx: &Ctx, raw_name: &str) -> Result<HttpResponse, ApiError> {
    let name = read_name(raw_name)?;
    let projects = ctx.readable_projects(&name).await?;
    let versions = super::load_versions(&ctx.registry, &projects, &name.full()).await?;
    if versions.rows.is_empty() {
        return Err(not_found(format!("package '{}' not found", name.full())));
    }
    // A derived document like the packument: revalidated by its bytes, and HEAD.
    let body = serde_json::to_vec(&versions.tags).map_err(ApiError::internal)?;
    let doc = Document::of_bytes(body.into(), "application/json")?;
    Ok(serve_document(&ctx.req, &doc))
}

/// Largest body of `npm dist-tag add` (a version as a JSON string).
const MAX_TAG_BODY: usize = 1024;

pub async fn add(
    ctx: &Ctx,
    raw_name: &str,
    tag: &str,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let project = ctx.project_for(Action::PublishPackage).await?;
    let name = metadata::parse_name(raw_name).map_err(bad_request)?;
    metadata::validate_tag(tag).map_err(bad_request)?;
    // The body is the version as a JSON string: tiny, so read it with a small bound.
    let body = read_bounded(payload, MAX_TAG_BODY).await?;
    let version = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::String(v)) => v,
        _ => {
            return Err(bad_request(
                "the body must be a version as a JSON string, e.g. \"1.2.3\"",
            ))
        }
    };
    let full = name.full();
    let packages = ctx
        .registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &full)
        .await?;
    let Some(package) = packages
        .iter()
        .find(|p| p.version == version && p.status.detailed())
    else {
        return Err(not_found(format!(
            "version '{}' of '{full}' not found",
            metadata::printable(&version)
        )));
    };
    // Through the Registry, which checks the push protection rules: moving `latest` back
    // to an old version is as strong as publishing one.
    ctx.registry
        .set_package_tag(&ctx.principal, &project, package, tag)
        .await?;
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({ "ok": true }),
    ))
}

pub async fn remove(ctx: &Ctx, raw_name: &str, tag: &str) -> Result<HttpResponse, ApiError> {
    let project = ctx.project_for(Action::DeletePackage).await?;
    let name = metadata::parse_name(raw_name).map_err(bad_request)?;
    if tag == "latest" {
        return Err(bad_request("the 'latest' tag cannot be removed"));
    }
    let removed = ctx
        .registry
        .delete_package_tag(&ctx.principal, &project, FORMAT, &name.full(), tag)
        .await?;
    if !removed {
        return Err(not_found(format!(
            "tag '{}' of '{}' not found",
            metadata::printable(tag),
            name.full()
        )));
    }
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({ "ok": true }),
    ))
}

/// Points `latest` at the newest version that is not a prerelease (or the newest of all
/// when every version is a prerelease); removes it when no version is left.
pub async fn move_latest(ctx: &Ctx, project: &Project, name: &str) -> Result<(), ApiError> {
    let packages = ctx
        .registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, name)
        .await?;
    let visible: Vec<_> = packages.iter().filter(|p| p.status.detailed()).collect();
    let newest = |stable: bool| {
        visible
            .iter()
            .filter(|p| {
                !stable || semver::Version::parse(&p.version).is_ok_and(|v| v.pre.is_empty())
            })
            .max_by(|a, b| metadata::compare_versions(&a.version, &b.version))
            .copied()
    };
    match newest(true).or_else(|| newest(false)) {
        Some(p) => {
            ctx.registry
                .set_package_tag(&ctx.principal, project, p, "latest")
                .await?
        }
        None => {
            ctx.registry
                .delete_package_tag(&ctx.principal, project, FORMAT, name, "latest")
                .await?;
        }
    }
    Ok(())
}

/// After versions were removed: `latest` follows [`move_latest`] when it no longer points
/// anywhere.
pub async fn move_latest_if_missing(
    ctx: &Ctx,
    project: &Project,
    name: &str,
) -> Result<(), ApiError> {
    let has_latest = ctx
        .registry
        .packages()
        .package_tags_by_name(project.id, FORMAT.0, name)
        .await?
        .iter()
        .any(|(t, _)| t == "latest");
    if !has_latest {
        move_latest(ctx, project, name).await?;
    }
    Ok(())
}
