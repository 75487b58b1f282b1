//! The v2 (OData) feed's reads: `GET .../nuget/v2` and everything under it, for nuget.exe
//! 2.x (see [`crate::v2`] for the protocol and the documents).
//!
//! Every read, the service document and `$metadata` included, is authorized like the v3
//! reads: nuget 2.x sends its stored credentials only after a 401 with
//! `WWW-Authenticate: Basic`, and its first request is always the source URL itself.

use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::model::ProjectId;
use packyard_core::scope::{project_ids, Scope};
use packyard_core::{ApiError, Registry};

use crate::error::{bad_request, not_found};
use crate::handlers::State;
use crate::index::{self, PackageIndex};
use crate::v2::{self, Collection, Feed, Links, Options, QueryError, Resource, Row};
use crate::version;

#[derive(Deserialize)]
pub struct ProjectPath {
    pub id: String,
}

/// The status line of a refused v2 query (nuget.exe prints only that line).
const REFUSED: &str = "Unsupported v2 feed query";

/// The part of the request path after `/packages/nuget`, and what follows `v2` in it.
const NUGET: &str = "/packages/nuget";

fn refusal(e: QueryError) -> ApiError {
    match e {
        QueryError::Bad(m) => bad_request(REFUSED, m),
        QueryError::NotFound(m) => {
            ApiError::message(StatusCode::NOT_FOUND, format!("404 Not Found - {m}"))
        }
    }
}

pub async fn read(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    // The raw path: the project id as the client wrote it (an encoded full path stays
    // encoded in the URLs we hand back) and the OData resource, decoded by `v2`.
    let raw = req.uri().path();
    let at = raw.find(&format!("{NUGET}/v2")).ok_or_else(not_found)?;
    let prefix = &raw[..at + NUGET.len()];
    let rest = &raw[at + NUGET.len() + "/v2".len()..];
    let request = v2::parse_request(rest, req.uri().query().unwrap_or("")).map_err(refusal)?;
    // An id that NuGet would never accept is a 400, not an empty feed.
    let named = match &request.resource {
        Resource::Package { id, .. } => Some(id.as_str()),
        _ => request.options.id.as_deref(),
    };
    if let Some(id) = named {
        crate::nuspec::validate_id(id).map_err(|e| bad_request("Invalid package id", e.0))?;
    }
    let projects = registry
        .readable_projects(&req, &caller.0, Scope::Project(&path.id))
        .await?;
    let projects = project_ids(&projects);
    let links = Links {
        v2: registry.url(&format!("{prefix}/v2")),
        download: registry.url(&format!("{prefix}/download")),
    };
    match &request.resource {
        Resource::Service => respond(&req, v2::service_document(&links), v2::XML_CONTENT_TYPE),
        Resource::Metadata => respond(&req, v2::metadata_document(), v2::XML_CONTENT_TYPE),
        Resource::Package { id, version } => {
            let lower = index::lower_id(id);
            let loaded = index::load(&registry, &state.indexes, &req, &projects, &lower).await?;
            let idx = &loaded.index;
            let rows = v2::rows(&idx.id, &idx.lower_id, &idx.versions);
            let wanted = version::parse(version).map_err(|e| {
                bad_request(REFUSED, format!("'{version}' is not a NuGet version: {e}"))
            })?;
            let row = rows
                .iter()
                .find(|r| r.entry.version == wanted)
                .ok_or_else(not_found)?;
            respond(
                &req,
                v2::entry_document(row, &links),
                v2::ENTRY_CONTENT_TYPE,
            )
        }
        Resource::Collection(c) => {
            collection(&req, &registry, &state, &projects, *c, &request, &links).await
        }
    }
}

/// An answer of `body`, with its ETag, and the OData version WCF clients check.
fn respond(req: &HttpRequest, body: String, content_type: &str) -> Result<HttpResponse, ApiError> {
    let doc = Document::of_bytes(Bytes::from(body), content_type)?;
    let mut resp = serve_document(req, &doc);
    resp.headers_mut().insert(
        HeaderName::from_static("dataserviceversion"),
        HeaderValue::from_static("2.0;"),
    );
    Ok(resp)
}

/// Which versions of an id a collection shows before `$filter`.
fn visible(c: Collection, o: &Options, row: &Row<'_>) -> bool {
    let v = &row.entry.version;
    if v.is_semver2() && !o.semver2 {
        return false;
    }
    match c {
        Collection::Packages | Collection::FindPackagesById => true,
        Collection::Search | Collection::GetUpdates => {
            row.entry.listed && (o.include_prerelease || !v.is_prerelease())
        }
    }
}

/// Whether the order of a collection is ids ascending then versions ascending, the order
/// in which indexes are loaded, so that loading can stop once the page is full.
fn loads_in_order(o: &Options) -> bool {
    matches!(
        o.orderby.as_slice(),
        [] | [v2::OrderKey {
            field: v2::Field::Id,
            descending: false
        }]
    )
}

async fn collection(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    projects: &[ProjectId],
    c: Collection,
    request: &v2::Request,
    links: &Links,
) -> Result<HttpResponse, ApiError> {
    let o = &request.options;
    let ids: Vec<String> = match c {
        Collection::FindPackagesById => vec![index::lower_id(o.id.as_deref().unwrap_or(""))],
        Collection::GetUpdates => {
            let mut ids: Vec<String> = o.updates.iter().map(|u| index::lower_id(&u.id)).collect();
            ids.sort();
            ids.dedup();
            ids
        }
        Collection::Search => {
            let words: Vec<String> = o
                .search_term
                .split_whitespace()
                .map(str::to_lowercase)
                .collect();
            let text = match words.as_slice() {
                [one] => one.as_str(),
                _ => "",
            };
            index::matching_ids(registry, projects, text)
                .await?
                .into_iter()
                .filter(|id| words.is_empty() || words.iter().any(|w| id.contains(w)))
                .collect()
        }
        Collection::Packages => match o.filter.as_ref().and_then(v2::Expr::pinned_ids) {
            Some(mut ids) => {
                ids.sort();
                ids.dedup();
                ids
            }
            None => index::matching_ids(registry, projects, "").await?,
        },
    };
    let installed = if c == Collection::GetUpdates {
        let mut v = Vec::with_capacity(o.updates.len());
        for u in &o.updates {
            let parsed = version::parse(&u.version).map_err(|e| {
                bad_request(
                    REFUSED,
                    format!(
                        "GetUpdates(): '{}' of {} is not a NuGet version: {e}",
                        u.version, u.id
                    ),
                )
            })?;
            if u.constraint.is_some() {
                return Err(bad_request(
                    REFUSED,
                    "GetUpdates(): versionConstraints are not supported by this feed; \
                     leave them empty",
                ));
            }
            v.push((index::lower_id(&u.id), parsed));
        }
        v
    } else {
        Vec::new()
    };
    let matches =
        |row: &Row<'_>| visible(c, o, row) && o.filter.as_ref().is_none_or(|f| f.matches(row));
    // Load the indexes; when the order is the load order, stop once the page and one
    // more entry (to know of a next page) are there.
    let stop_at =
        (loads_in_order(o) && !request.count && !o.inline_count && c != Collection::GetUpdates)
            .then(|| {
                let wanted = o.top.unwrap_or(u64::MAX).min(v2::PAGE_SIZE);
                usize::try_from(o.skip.saturating_add(wanted).saturating_add(1))
                    .unwrap_or(usize::MAX)
            });
    let mut indexes: Vec<Arc<PackageIndex>> = Vec::new();
    let mut seen = 0usize;
    for id in &ids {
        let loaded = index::load(registry, &state.indexes, req, projects, id).await?;
        if loaded.index.is_empty() {
            continue;
        }
        let idx = loaded.index;
        seen += v2::rows(&idx.id, &idx.lower_id, &idx.versions)
            .iter()
            .filter(|r| matches(r))
            .count();
        indexes.push(idx);
        if stop_at.is_some_and(|n| seen >= n) {
            break;
        }
    }
    let mut rows: Vec<Row<'_>> = Vec::new();
    for idx in &indexes {
        let all = v2::rows(&idx.id, &idx.lower_id, &idx.versions);
        let mut kept: Vec<Row<'_>> = all.into_iter().filter(|r| matches(r)).collect();
        if c == Collection::GetUpdates {
            let floors: Vec<&version::NugetVersion> = installed
                .iter()
                .filter(|(id, _)| *id == idx.lower_id)
                .map(|(_, v)| v)
                .collect();
            kept.retain(|r| floors.iter().any(|f| r.entry.version > **f));
            if !o.include_all_versions {
                kept = kept.split_off(kept.len().saturating_sub(1));
            }
        }
        rows.extend(kept);
    }
    if !o.orderby.is_empty() {
        v2::sort(&mut rows, &o.orderby);
    }
    if request.count {
        let n = rows
            .len()
            .saturating_sub(usize::try_from(o.skip).unwrap_or(usize::MAX))
            .min(usize::try_from(o.top.unwrap_or(u64::MAX)).unwrap_or(usize::MAX));
        return respond(req, n.to_string(), v2::COUNT_CONTENT_TYPE);
    }
    let page = v2::page(rows.len(), o);
    let updated = rows
        .iter()
        .map(|r| r.entry.package.updated_at)
        .max()
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let shown = &rows[page.skip..page.skip + page.take];
    let feed = Feed {
        collection: c,
        rows: shown,
        updated,
        count: o.inline_count.then_some(rows.len()),
        next: page.next.map(|(skip, top)| v2::next_query(o, skip, top)),
    };
    respond(req, v2::feed_document(&feed, links), v2::FEED_CONTENT_TYPE)
}
