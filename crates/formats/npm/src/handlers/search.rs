//! `GET /-/v1/search` (`npm search`, the shape of
//! <https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md#get-v1search>).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use packyard_core::model::{Project, ProjectId};
use packyard_core::scope::Scope;
use packyard_core::ApiError;

use super::{load_versions, Ctx};
use crate::error::bad_request;
use crate::routes::Level;
use crate::FORMAT;

#[derive(Deserialize)]
struct SearchQuery {
    text: Option<String>,
    size: Option<usize>,
    from: Option<usize>,
}

pub async fn search(ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let q = actix_web::web::Query::<SearchQuery>::from_query(ctx.req.query_string())
        .map_err(|_| bad_request("text, size and from are the search parameters"))?
        .into_inner();
    let text = q.text.unwrap_or_default().trim().to_lowercase();
    if text.len() > 256 {
        return Err(bad_request("the search text is longer than 256 characters"));
    }
    let size = q.size.unwrap_or(20).clamp(1, 250);
    let from = q.from.unwrap_or(0);
    let scope = match ctx.level {
        Level::Project => Some(Scope::Project(ctx.id()?)),
        Level::Group => Some(Scope::Group(ctx.id()?)),
        // The instance level searches the top-level group named by a `@scope` in the text.
        Level::Instance => text
            .strip_prefix('@')
            .map(|s| s.split(['/', ' ']).next().unwrap_or_default())
            .filter(|s| !s.is_empty())
            .map(|group| Scope::Instance { group }),
    };
    let projects: Vec<Project> = match scope {
        // An instance search names a group only loosely: one the caller may not read gives
        // no results rather than a refusal.
        Some(scope @ Scope::Instance { .. }) => ctx
            .registry
            .readable_projects(&ctx.req, &ctx.principal, scope)
            .await
            .unwrap_or_default(),
        Some(scope) => {
            ctx.registry
                .readable_projects(&ctx.req, &ctx.principal, scope)
                .await?
        }
        None => Vec::new(),
    };
    let ids: Vec<ProjectId> = projects.iter().map(|p| p.id).collect();
    let mut names: Vec<String> = if ids.is_empty() {
        Vec::new()
    } else {
        ctx.registry
            .packages()
            .package_names(&ids, FORMAT.0)
            .await?
            .into_iter()
            .map(|n| n.normalized_name)
            .filter(|n| text.is_empty() || n.contains(&text))
            .collect()
    };
    names.dedup();
    let total = names.len();
    let mut objects = Vec::new();
    for name in names.into_iter().skip(from).take(size) {
        let versions = load_versions(&ctx.registry, &projects, &name).await?;
        let latest = versions
            .tags
            .get("latest")
            .and_then(|l| versions.rows.iter().find(|(p, _)| &p.version == l))
            .or(versions.rows.last());
        let Some((package, file)) = latest else {
            continue;
        };
        let m = &package.metadata;
        let date = chrono::DateTime::from_timestamp_millis(file.created_at)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        objects.push(json!({
            "package": {
                "name": name,
                "version": package.version,
                "description": m.get("description").cloned().unwrap_or(Value::Null),
                "keywords": m.get("keywords").cloned().unwrap_or(json!([])),
                "date": date,
                "links": {},
                "publisher": { "username": "" },
                "maintainers": [],
            },
            "score": { "final": 1.0, "detail": { "quality": 1.0, "popularity": 1.0, "maintenance": 1.0 } },
            "searchScore": 1.0,
        }));
    }
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({
            "objects": objects,
            "total": total,
            "time": chrono::Utc::now().to_rfc2822(),
        }),
    ))
}
