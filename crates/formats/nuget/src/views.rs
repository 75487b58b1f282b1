//! The v3 documents (<https://learn.microsoft.com/en-us/nuget/api/overview>): the service
//! index, the flat container's version list, registration indexes, pages and leaves, search
//! and autocomplete answers; and the snippets of a package's page.
//!
//! Every function is pure: the handlers pass the base URL of the endpoint
//! (`{external}/api/v4/projects/:id/packages/nuget` or the group's) and an index.

use base64::Engine;
use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Value};

use packyard_core::model::Millis;
use packyard_core::{Snippet, SnippetContext};

use crate::index::{PackageIndex, VersionEntry};
use crate::nuspec::Nuspec;
use crate::version;

/// The content type of every v3 document.
pub const JSON: &str = "application/json; charset=utf-8";

/// `published` of an unlisted version: NuGet.Client treats 1900 as unlisted.
const UNLISTED_PUBLISHED: &str = "1900-01-01T00:00:00.000Z";

/// Where a document is served: the project's endpoints (push, symbols, v2) or a group's
/// (reads only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Project,
    Group,
}

/// A time as NuGet's documents write it (ISO 8601, UTC).
pub fn time(at: Millis) -> String {
    DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The service index (`index.json`): every resource with an absolute URL, under each
/// `@type` version NuGet.Client looks for.
pub fn service_index(base: &str, level: Level) -> Value {
    let mut resources = Vec::new();
    let mut add = |id: String, types: &[&str], comment: &str| {
        for t in types {
            resources.push(json!({ "@id": id, "@type": t, "comment": comment }));
        }
    };
    add(
        format!("{base}/query"),
        &[
            "SearchQueryService",
            "SearchQueryService/3.0.0-beta",
            "SearchQueryService/3.0.0-rc",
            "SearchQueryService/3.5.0",
        ],
        "Query endpoint of NuGet Search service (primary)",
    );
    add(
        format!("{base}/autocomplete"),
        &[
            "SearchAutocompleteService",
            "SearchAutocompleteService/3.0.0-beta",
            "SearchAutocompleteService/3.0.0-rc",
            "SearchAutocompleteService/3.5.0",
        ],
        "Autocomplete endpoint of NuGet Search service (primary)",
    );
    add(
        format!("{base}/metadata/"),
        &[
            "RegistrationsBaseUrl",
            "RegistrationsBaseUrl/3.0.0-beta",
            "RegistrationsBaseUrl/3.0.0-rc",
            "RegistrationsBaseUrl/3.4.0",
            "RegistrationsBaseUrl/3.6.0",
            "RegistrationsBaseUrl/Versioned",
        ],
        "Base URL of the registrations (package metadata); SemVer 2.0.0 versions included",
    );
    add(
        format!("{base}/download/"),
        &["PackageBaseAddress/3.0.0"],
        "Base URL of where NuGet packages are stored, in the format https://host/download/{id-lower}/{version-lower}/{id-lower}.{version-lower}.nupkg",
    );
    if level == Level::Project {
        add(
            base.to_owned(),
            &["PackagePublish/2.0.0"],
            "Push and delete (or unlist) packages",
        );
        add(
            format!("{base}/symbolpackage"),
            &["SymbolPackagePublish/4.9.0"],
            "Push symbol packages",
        );
    }
    json!({ "version": "3.0.0", "resources": resources })
}

/// The flat container's `index.json`: every version, lower case, ascending.
pub fn versions(index: &PackageIndex) -> Value {
    let versions: Vec<String> = index.versions.iter().map(VersionEntry::lower).collect();
    json!({ "versions": versions })
}

/// The flat-container URL of a version's `.nupkg`.
pub fn content_url(base: &str, index: &PackageIndex, v: &VersionEntry) -> String {
    format!(
        "{base}/download/{}/{}/{}",
        index.lower_id,
        v.lower(),
        v.nupkg_name(&index.lower_id)
    )
}

fn registration_url(base: &str, index: &PackageIndex) -> String {
    format!("{base}/metadata/{}/index.json", index.lower_id)
}

fn leaf_url(base: &str, index: &PackageIndex, v: &VersionEntry) -> String {
    format!("{base}/metadata/{}/{}.json", index.lower_id, v.lower())
}

fn page_url(
    base: &str,
    index: &PackageIndex,
    lower: &VersionEntry,
    upper: &VersionEntry,
) -> String {
    format!(
        "{base}/metadata/{}/page/{}/{}.json",
        index.lower_id,
        lower.lower(),
        upper.lower()
    )
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// The base64 SHA-512 of a stored file, as `packageHash` writes it.
pub fn package_hash(v: &VersionEntry) -> String {
    hex::decode(&v.nupkg.sha512)
        .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw))
        .unwrap_or_default()
}

fn dependency_groups(nuspec: &Nuspec, base: &str) -> Vec<Value> {
    nuspec
        .dependency_groups
        .iter()
        .map(|g| {
            let deps: Vec<Value> = g
                .dependencies
                .iter()
                .map(|d| {
                    let range = d
                        .range
                        .as_deref()
                        .filter(|r| !r.trim().is_empty())
                        .map(version::normalize_range)
                        .unwrap_or_else(|| "(, )".to_owned());
                    json!({
                        "@type": "PackageDependency",
                        "id": d.id,
                        "range": range,
                        "registration": format!("{base}/metadata/{}/index.json", d.id.to_ascii_lowercase()),
                    })
                })
                .collect();
            let mut group = json!({ "@type": "PackageDependencyGroup", "dependencies": deps });
            if let Some(tf) = &g.target_framework {
                group["targetFramework"] = json!(tf);
            }
            group
        })
        .collect()
}

/// A version's `catalogEntry`: the fields NuGet.Client reads (id, version, listed,
/// dependencyGroups, packageContent, published) and the rest of the manifest.
pub fn catalog_entry(base: &str, index: &PackageIndex, v: &VersionEntry) -> Value {
    let n = &v.meta.nuspec;
    let mut entry = json!({
        "@id": leaf_url(base, index, v),
        "@type": "PackageDetails",
        "id": index.id,
        "version": v.meta.full_version,
        "authors": n.authors,
        "description": n.description,
        "tags": n.tags,
        "requireLicenseAcceptance": n.require_license_acceptance,
        "listed": v.listed,
        "published": published(v),
        "packageContent": content_url(base, index, v),
        "packageHash": package_hash(v),
        "packageHashAlgorithm": "SHA512",
        "packageSize": v.size(),
        "dependencyGroups": dependency_groups(n, base),
    });
    // Optional fields only when the manifest has them: NuGet.Client parses URLs and
    // versions it finds, and an empty string is neither.
    for (key, value) in [
        ("summary", &n.summary),
        ("title", &n.title),
        ("language", &n.language),
        ("iconUrl", &n.icon_url),
        ("licenseUrl", &n.license_url),
        ("projectUrl", &n.project_url),
        ("releaseNotes", &n.release_notes),
        ("copyright", &n.copyright),
        ("minClientVersion", &n.min_client_version),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            entry[key] = json!(value);
        }
    }
    if let Some(l) = n.license.as_ref().filter(|l| l.kind == "expression") {
        entry["licenseExpression"] = json!(l.value);
    }
    entry
}

fn published(v: &VersionEntry) -> String {
    if v.listed {
        time(v.package.created_at)
    } else {
        UNLISTED_PUBLISHED.to_owned()
    }
}

/// A version as a registration page lists it.
fn page_item(base: &str, index: &PackageIndex, v: &VersionEntry) -> Value {
    json!({
        "@id": leaf_url(base, index, v),
        "@type": "Package",
        "commitTimeStamp": time(v.nupkg.created_at),
        "catalogEntry": catalog_entry(base, index, v),
        "packageContent": content_url(base, index, v),
        "registration": registration_url(base, index),
    })
}

/// The registration index: one page inlined when the package has at most `page_size`
/// versions; otherwise pages of `page_size` versions each, linked and not inlined, as
/// nuget.org serves large packages (GitLab answers at most 300 versions instead).
pub fn registration_index(base: &str, index: &PackageIndex, page_size: usize) -> Value {
    let page_size = page_size.max(1);
    let inline = index.versions.len() <= page_size;
    let pages: Vec<Value> = index
        .versions
        .chunks(page_size)
        .map(|chunk| page(base, index, chunk, inline))
        .collect();
    json!({
        "@id": registration_url(base, index),
        "@type": ["catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"],
        "count": pages.len(),
        "items": pages,
    })
}

fn page(base: &str, index: &PackageIndex, chunk: &[VersionEntry], inline: bool) -> Value {
    let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
        return json!({});
    };
    let mut page = json!({
        "@id": if inline {
            format!("{}#page/{}/{}", registration_url(base, index), first.lower(), last.lower())
        } else {
            page_url(base, index, first, last)
        },
        "@type": "catalog:CatalogPage",
        "count": chunk.len(),
        "lower": first.meta.version,
        "upper": last.meta.version,
        "parent": registration_url(base, index),
    });
    if inline {
        page["items"] = chunk.iter().map(|v| page_item(base, index, v)).collect();
    }
    page
}

/// Whether the index, paged by `page_size` versions, has a page with these bounds
/// (lower-cased versions).
pub fn has_registration_page(
    index: &PackageIndex,
    page_size: usize,
    lower: &str,
    upper: &str,
) -> bool {
    index.versions.chunks(page_size.max(1)).any(|chunk| {
        chunk.first().is_some_and(|v| v.lower() == lower)
            && chunk.last().is_some_and(|v| v.lower() == upper)
    })
}

/// One registration page (`page/{lower}/{upper}.json`) of a paged index, with its items;
/// `None` when no page of the index has these bounds.
pub fn registration_page(
    base: &str,
    index: &PackageIndex,
    page_size: usize,
    lower: &str,
    upper: &str,
) -> Option<Value> {
    index
        .versions
        .chunks(page_size.max(1))
        .find(|chunk| {
            chunk.first().is_some_and(|v| v.lower() == lower)
                && chunk.last().is_some_and(|v| v.lower() == upper)
        })
        .map(|chunk| {
            let mut p = page(base, index, chunk, true);
            p["@id"] = json!(page_url(base, index, &chunk[0], &chunk[chunk.len() - 1]));
            p
        })
}

/// A registration leaf (`{version}.json`).
pub fn registration_leaf(base: &str, index: &PackageIndex, v: &VersionEntry) -> Value {
    json!({
        "@id": leaf_url(base, index, v),
        "@type": ["Package", "http://schema.nuget.org/catalog#Permalink"],
        "catalogEntry": catalog_entry(base, index, v),
        "listed": v.listed,
        "packageContent": content_url(base, index, v),
        "published": published(v),
        "registration": registration_url(base, index),
    })
}

/// One search result: the newest of `visible` versions, and all of them.
pub fn search_result(base: &str, index: &PackageIndex, visible: &[&VersionEntry]) -> Option<Value> {
    let latest = visible.last()?;
    let n = &latest.meta.nuspec;
    let versions: Vec<Value> = visible
        .iter()
        .map(|v| {
            json!({
                "version": v.meta.full_version,
                "downloads": 0,
                "@id": leaf_url(base, index, v),
            })
        })
        .collect();
    let package_types: Vec<Value> = if n.package_types.is_empty() {
        vec![json!({ "name": "Dependency" })]
    } else {
        n.package_types
            .iter()
            .map(|t| json!({ "name": t.name }))
            .collect()
    };
    let authors: Vec<&str> = n
        .authors
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    let mut hit = json!({
        "@id": registration_url(base, index),
        "@type": "Package",
        "registration": registration_url(base, index),
        "id": index.id,
        "version": latest.meta.full_version,
        "description": n.description,
        "summary": opt(&n.summary),
        "title": n.title.clone().unwrap_or_else(|| index.id.clone()),
        "tags": n.tags,
        "authors": authors,
        "owners": n.owners.as_deref().map(|o| o.split(',').map(str::trim).collect::<Vec<_>>()).unwrap_or_default(),
        "totalDownloads": 0,
        "verified": false,
        "packageTypes": package_types,
        "versions": versions,
    });
    for (key, value) in [
        ("iconUrl", &n.icon_url),
        ("licenseUrl", &n.license_url),
        ("projectUrl", &n.project_url),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            hit[key] = json!(value);
        }
    }
    Some(hit)
}

/// The search answer.
pub fn search(total_hits: usize, data: Vec<Value>) -> Value {
    json!({ "totalHits": total_hits, "data": data })
}

/// Install and publish snippets shown on a package's page.
pub fn snippets(ctx: &SnippetContext<'_>) -> Vec<Snippet> {
    let base = format!(
        "{}/api/v4/projects/{}/packages/nuget",
        ctx.external_url, ctx.project_id
    );
    vec![
        Snippet {
            title: "Registry setup".into(),
            language: "shell",
            code: format!(
                "dotnet nuget add source \"{base}/index.json\" --name packyard --username <username> --password <personal_access_token>"
            ),
        },
        Snippet {
            title: "Install".into(),
            language: "shell",
            code: format!(
                "dotnet add package {} --version {}",
                ctx.package_name, ctx.package_version
            ),
        },
        Snippet {
            title: "Publish".into(),
            language: "shell",
            code: format!(
                "dotnet nuget push {}.{}.nupkg --source packyard --api-key <personal_access_token>",
                ctx.package_name, ctx.package_version
            ),
        },
    ]
}
