//! Changes without a tarball: `npm deprecate` (the packument sent back with `deprecated`
//! set or removed), `npm unpublish name@version` (the packument rewritten without that
//! version through `PUT /:name/-rev/:rev`, then `DELETE /:name/-/:file/-rev/:rev`) and
//! `npm unpublish name --force` (`DELETE /:name/-rev/:rev`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

use packyard_core::model::{PackageStatus, PackageUpdate, Project};
use packyard_core::policy::Action;
use packyard_core::registry::Guarded;
use packyard_core::ApiError;

use super::Ctx;
use crate::body::PublishBody;
use crate::error::{bad_request, not_found};
use crate::metadata::{self, NpmName};
use crate::FORMAT;

fn ok() -> HttpResponse {
    packyard_core::http::json(StatusCode::OK, &json!({ "ok": true }))
}

/// Applies a document without attachment: deprecations, and with `rewrite` the removal of
/// the versions and tags it no longer lists.
pub async fn apply(
    ctx: &Ctx,
    project: &Project,
    name: &NpmName,
    body: &PublishBody,
    rewrite: bool,
) -> Result<HttpResponse, ApiError> {
    let reads = ctx.registry.packages();
    let full = name.full();
    let packages: Vec<_> = reads
        .packages_by_name(project.id, FORMAT.0, &full)
        .await?
        .into_iter()
        .filter(|p| p.status.detailed())
        .collect();
    if packages.is_empty() {
        return Err(not_found(format!("package '{full}' not found")));
    }
    // Deprecations and tag moves are guarded like a publish (the push level of the
    // protection rules), removed versions like a delete: refuse before the first change
    // rather than half-way. Each write is checked again by the Registry.
    let names = [full.as_str()];
    ctx.registry
        .authorize_name_write(&ctx.principal, project, FORMAT.0, &names, Guarded::Push)
        .await?;
    if rewrite {
        let gone: Vec<_> = packages
            .iter()
            .filter(|p| !body.versions.contains_key(&p.version))
            .collect();
        if !gone.is_empty() {
            ctx.registry
                .authorize_name_write(&ctx.principal, project, FORMAT.0, &names, Guarded::Delete)
                .await?;
            for p in gone {
                // Through the Registry, which enforces the protection rules.
                ctx.registry
                    .delete_package(&ctx.principal, project, p)
                    .await?;
            }
        }
    }
    for p in &packages {
        let Some(sent) = body.versions.get(&p.version) else {
            continue;
        };
        let wanted = sent
            .get("deprecated")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let current = p
            .metadata
            .get("deprecated")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if wanted == current {
            continue;
        }
        let mut metadata = p.metadata.as_object().cloned().unwrap_or_default();
        match wanted {
            Some(msg) => {
                if msg.len() > 4096 {
                    return Err(bad_request(
                        "the deprecation message is longer than 4096 bytes",
                    ));
                }
                metadata.insert("deprecated".into(), Value::String(msg.to_owned()));
            }
            None => {
                metadata.remove("deprecated");
            }
        }
        ctx.registry
            .update_package(
                &ctx.principal,
                project,
                p,
                PackageUpdate {
                    status: Some(if wanted.is_some() {
                        PackageStatus::Deprecated
                    } else {
                        PackageStatus::Default
                    }),
                    metadata: Some(Value::Object(metadata)),
                },
                Guarded::Push,
            )
            .await?;
    }
    if rewrite {
        // Tags the rewrite dropped are removed, tags it moved are moved.
        let remaining = reads.packages_by_name(project.id, FORMAT.0, &full).await?;
        let current: BTreeMap<String, i64> = reads
            .package_tags_by_name(project.id, FORMAT.0, &full)
            .await?
            .into_iter()
            .map(|(t, id)| (t, id.0))
            .collect();
        for (tag, id) in &current {
            let wanted = body.dist_tags.get(tag).and_then(Value::as_str);
            match wanted.and_then(|v| remaining.iter().find(|p| p.version == v)) {
                Some(p) if p.id.0 != *id => {
                    ctx.registry
                        .set_package_tag(&ctx.principal, project, p, tag)
                        .await?
                }
                Some(_) => {}
                None if tag == "latest" => {}
                None => {
                    ctx.registry
                        .delete_package_tag(&ctx.principal, project, FORMAT, &full, tag)
                        .await?;
                }
            }
        }
        super::tags::move_latest_if_missing(ctx, project, &full).await?;
    }
    Ok(ok())
}

/// `DELETE /:name/-rev/:rev`: every version of the package.
pub async fn delete_all(ctx: &Ctx, raw_name: &str) -> Result<HttpResponse, ApiError> {
    let project = ctx.project_for(Action::DeletePackage).await?;
    let name = metadata::parse_name(raw_name).map_err(bad_request)?;
    let packages = ctx
        .registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &name.full())
        .await?;
    if packages.is_empty() {
        return Err(not_found(format!("package '{}' not found", name.full())));
    }
    for p in &packages {
        ctx.registry
            .delete_package(&ctx.principal, &project, p)
            .await?;
    }
    Ok(ok())
}

/// `DELETE /:name/-/:file/-rev/:rev`: the version whose tarball this is.
pub async fn delete_version(
    ctx: &Ctx,
    raw_name: &str,
    file: &str,
) -> Result<HttpResponse, ApiError> {
    let project = ctx.project_for(Action::DeletePackage).await?;
    let name = metadata::parse_name(raw_name).map_err(bad_request)?;
    let full = name.full();
    let packages = ctx
        .registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &full)
        .await?;
    let Some(package) = packages
        .iter()
        .find(|p| name.tarball_name(&p.version) == file)
    else {
        return Err(not_found(format!(
            "tarball '{}' of '{full}' not found",
            metadata::printable(file)
        )));
    };
    ctx.registry
        .delete_package(&ctx.principal, &project, package)
        .await?;
    super::tags::move_latest_if_missing(ctx, &project, &full).await?;
    Ok(ok())
}
