//! `GET /:package_name` (packument) and `GET /:package_name/-/:file_name` (tarball).

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::Bytes;

use packyard_core::documents::serve_document;
use packyard_core::model::ProjectId;
use packyard_core::serve::{serve_file, Downloadable, FileCoordinates};
use packyard_core::ApiError;

use super::{load_versions, read_name, Ctx};
use crate::error::not_found;
use crate::views::{self, VersionView, ABBREVIATED};
use crate::FORMAT;

fn wants_abbreviated(ctx: &Ctx) -> bool {
    ctx.req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(ABBREVIATED))
}

pub async fn packument(ctx: &Ctx, raw_name: &str) -> Result<HttpResponse, ApiError> {
    let name = read_name(raw_name)?;
    let full_name = name.full();
    let projects = ctx.readable_projects(&name).await?;
    let ids: Vec<ProjectId> = projects.iter().map(|p| p.id).collect();
    let missing = || not_found(format!("package '{full_name}' not found"));
    if ids.is_empty() {
        return Err(missing());
    }
    let revisions = ctx
        .registry
        .package_revisions_at(
            ctx.registry.request_stamp(&ctx.req),
            &ids,
            FORMAT.0,
            Some(&full_name),
        )
        .await?;
    if revisions.is_empty() {
        return Err(missing());
    }
    let abbreviated = wants_abbreviated(ctx);
    let key = format!(
        "npm:packument:{}:{}:{full_name}",
        if abbreviated { "abbreviated" } else { "full" },
        ctx.prefix
    );
    let rev = format!(
        "{}-{}",
        revisions.iter().map(|r| r.revision).sum::<i64>(),
        revisions
            .iter()
            .map(|r| r.updated_at)
            .max()
            .unwrap_or_default()
    );
    let doc = ctx
        .registry
        .documents()
        .get_or_build(&key, &revisions, || async {
            let versions = load_versions(&ctx.registry, &projects, &full_name).await?;
            if versions.rows.is_empty() {
                return Err(missing());
            }
            let views: Vec<VersionView<'_>> = versions
                .rows
                .iter()
                .map(|(p, f)| VersionView {
                    package: p,
                    file: f,
                    tarball: ctx.tarball_url(&full_name, &f.file_name),
                })
                .collect();
            let value = views::packument(&full_name, &views, &versions.tags, abbreviated, &rev);
            let body = serde_json::to_vec(&value).map_err(ApiError::internal)?;
            let content_type = if abbreviated {
                ABBREVIATED
            } else {
                "application/json"
            };
            Ok((Bytes::from(body), content_type.to_owned()))
        })
        .await?;
    Ok(serve_document(&ctx.req, &doc))
}

pub async fn tarball(ctx: &Ctx, raw_name: &str, file: &str) -> Result<HttpResponse, ApiError> {
    let name = read_name(raw_name)?;
    let projects = ctx.readable_projects(&name).await?;
    // One project (the common case): one indexed query, the version read off the file name.
    if let ([project], Some(version)) = (
        projects.as_slice(),
        file.strip_prefix(&format!("{}-", name.bare))
            .and_then(|f| f.strip_suffix(".tgz")),
    ) {
        let full = name.full();
        let at = FileCoordinates {
            project: project.id,
            format: FORMAT.0,
            normalized_name: &full,
            version,
            file_name: file,
        };
        if let Some((package, found)) = ctx
            .registry
            .newest_downloadable_file(&at, Downloadable::Listed)
            .await?
        {
            return serve_file(
                &ctx.registry,
                &ctx.req,
                &package,
                &found,
                "application/octet-stream",
            )
            .await;
        }
    }
    let versions = load_versions(&ctx.registry, &projects, &name.full()).await?;
    let Some((package, file)) = versions
        .rows
        .iter()
        .rev()
        .find(|(p, f)| f.file_name == file && p.status.downloadable())
    else {
        return Err(not_found(format!(
            "tarball '{}' of '{}' not found",
            crate::metadata::printable(file),
            name.full()
        )));
    };
    serve_file(
        &ctx.registry,
        &ctx.req,
        package,
        file,
        "application/octet-stream",
    )
    .await
}
