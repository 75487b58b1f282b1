//! `GET .../nuget/query` (`SearchQueryService`: `q`, `skip`, `take`, `prerelease`,
//! `semVerLevel`) and `GET .../nuget/autocomplete` (`SearchAutocompleteService`: ids by
//! `q`, or the versions of one `id`). Answered afresh from the cached package indexes.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::{ApiError, Principal, Registry};

use crate::error::bad_request;
use crate::handlers::{load, place, Place, ScopePath, State};
use crate::index;
use crate::views::{self, Level, JSON};

/// Most results of one search page.
pub const MAX_TAKE: usize = 1000;
/// Longest search text.
const MAX_QUERY: usize = 256;

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    id: Option<String>,
    skip: Option<usize>,
    take: Option<usize>,
    prerelease: Option<String>,
    #[serde(rename = "semVerLevel")]
    sem_ver_level: Option<String>,
}

struct Parsed {
    text: String,
    id: Option<String>,
    skip: usize,
    take: usize,
    prerelease: bool,
    semver2: bool,
}

fn parse(req: &HttpRequest) -> Result<Parsed, ApiError> {
    let q = web::Query::<SearchQuery>::from_query(req.query_string())
        .map_err(|_| {
            bad_request(
                "Invalid search",
                "q, id, skip, take, prerelease and semVerLevel are the search parameters; skip and take are numbers",
            )
        })?
        .into_inner();
    let text = q.q.unwrap_or_default().trim().to_ascii_lowercase();
    if text.len() > MAX_QUERY {
        return Err(bad_request(
            "Invalid search",
            format!("the search text is longer than {MAX_QUERY} characters"),
        ));
    }
    let truthy = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // NuGet: `semVerLevel=2.0.0` (or higher) includes SemVer 2.0.0 versions.
    let semver2 = q
        .sem_ver_level
        .as_deref()
        .and_then(|v| v.split('.').next())
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 2);
    Ok(Parsed {
        text,
        id: q.id,
        skip: q.skip.unwrap_or(0),
        take: q.take.unwrap_or(20).min(MAX_TAKE),
        prerelease: truthy(&q.prerelease),
        semver2,
    })
}

/// An anonymous search of a group that finds nothing is challenged: the group may be
/// public while its projects are private, and NuGet sends credentials only after a 401, so
/// an empty 200 would hide them for good (a miss at group level is answered the same way).
fn no_hits(principal: &Principal, place: &Place) -> Result<(), ApiError> {
    if principal.is_anonymous() && place.level == Level::Group {
        return Err(ApiError::unauthorized_basic());
    }
    Ok(())
}

fn answer(req: &HttpRequest, value: &serde_json::Value) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    Ok(serve_document(
        req,
        &Document::of_bytes(Bytes::from(body), JSON)?,
    ))
}

pub async fn query(
    req: HttpRequest,
    path: web::Path<ScopePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let q = parse(&req)?;
    let place = place(&req, &registry, &caller.0, &path.id).await?;
    let ids = index::matching_ids(&registry, &place.projects, &q.text).await?;
    let mut hits = Vec::new();
    for id in ids {
        let loaded = load(&req, &registry, &state, &place, &id).await?;
        let visible: Vec<_> = loaded.index.visible(q.prerelease, q.semver2).collect();
        if !visible.is_empty() {
            hits.push((loaded.index.clone(), visible.len()));
        }
    }
    let total = hits.len();
    if total == 0 {
        no_hits(&caller.0, &place)?;
    }
    let data = hits
        .iter()
        .skip(q.skip)
        .take(q.take)
        .filter_map(|(index, _)| {
            let visible: Vec<_> = index.visible(q.prerelease, q.semver2).collect();
            views::search_result(&place.base, index, &visible)
        })
        .collect();
    answer(&req, &views::search(total, data))
}

pub async fn autocomplete(
    req: HttpRequest,
    path: web::Path<ScopePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let q = parse(&req)?;
    let place = place(&req, &registry, &caller.0, &path.id).await?;
    if let Some(id) = &q.id {
        crate::nuspec::validate_id(id).map_err(|e| bad_request("Invalid package id", e.0))?;
        let loaded = load(&req, &registry, &state, &place, id).await?;
        let versions: Vec<&str> = loaded
            .index
            .visible(q.prerelease, q.semver2)
            .map(|v| v.meta.full_version.as_str())
            .collect();
        if versions.is_empty() {
            no_hits(&caller.0, &place)?;
        }
        return answer(
            &req,
            &serde_json::json!({ "totalHits": versions.len(), "data": versions }),
        );
    }
    let ids = index::matching_ids(&registry, &place.projects, &q.text).await?;
    let mut names = Vec::new();
    for id in ids {
        let loaded = load(&req, &registry, &state, &place, &id).await?;
        if loaded
            .index
            .visible(q.prerelease, q.semver2)
            .next()
            .is_some()
        {
            names.push(loaded.index.id.clone());
        }
    }
    let total = names.len();
    if total == 0 {
        no_hits(&caller.0, &place)?;
    }
    let data: Vec<String> = names.into_iter().skip(q.skip).take(q.take).collect();
    answer(
        &req,
        &serde_json::json!({ "totalHits": total, "data": data }),
    )
}
