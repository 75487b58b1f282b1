//! `GET /-/whoami` (`npm whoami`) and `GET /-/v1/search` (`npm search`, the shape of
//! <https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md#get-v1search>).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use packyard_core::model::{Project, ProjectId};
use packyard_core::{ApiError, Principal, RouteClass};

use super::{load_versions, Ctx};
use crate::error::{bad_request, npm_error};
use crate::routes::Level;
use crate::FORMAT;

pub async fn whoami(ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let username = match &ctx.principal {
        Principal::Anonymous => {
            return Err(npm_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: set _authToken for this registry in .npmrc",
            ))
        }
        Principal::User { user, .. } | Principal::Job { user, .. } => user.username.clone(),
        Principal::Deploy(t) => t.username.clone(),
    };
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({ "username": username }),
    ))
}

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
    let projects: Vec<Project> = match ctx.level {
        Level::Project => vec![
            ctx.project_for(packyard_core::policy::Action::ReadPackage)
                .await?,
        ],
        Level::Group => {
            let id = ctx.req.match_info().get("id").unwrap_or_default();
            ctx.registry
                .readable_projects_in_group(&ctx.principal, id, RouteClass::Package)
                .await?
                .1
        }
        // The instance level searches the top-level group named by a `@scope` in the text.
        Level::Instance => match text
            .strip_prefix('@')
            .map(|s| s.split(['/', ' ']).next().unwrap_or_default())
        {
            Some(scope) if !scope.is_empty() => {
                match ctx
                    .registry
                    .readable_projects_in_group(&ctx.principal, scope, RouteClass::Package)
                    .await
                {
                    Ok((_, p)) => p,
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        },
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
