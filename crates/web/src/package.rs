//! One package: `/:project_path/-/packages/:id` (the id of the REST API,
//! <https://docs.gitlab.com/api/packages/#get-a-project-package>), as GitLab's package
//! details page: name, format, version and the other versions, tags, files (size, sha256,
//! download), created and last downloaded times, the CI/CD activity of the last publishes,
//! and the format's set-up, install and publish snippets (`PackageFormat::snippets`) filled
//! with this instance's external URL.
//!
//! Deleting (Maintainer+, as `DELETE /projects/:id/packages/:package_id` and
//! `.../package_files/:file_id`): `GET .../delete` is a confirmation page whose form POSTs to
//! the same URL; the POST deletes through `Registry::delete_package` /
//! `Registry::delete_package_file` (which apply the package protection rules) and redirects
//! with a notice. Deleting the last file leaves the package without files, as the REST API
//! does.
//!
//! Files download through `.../files/:file_id/download`, authorized by the visitor's session:
//! the package-manager URLs take tokens only, so a link to them would fail (or ask for a
//! password) for a private project.
//!
//! Who sees what: a visitor who may not read the project's packages gets the 404 page on
//! every one of these URLs, whatever they ask; one who may read but not delete gets the 403
//! page when trying to delete, and an anonymous one is sent to sign in.

use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use packyard_core::model::{
    Package, PackageFile, PackageFileId, PackageId, PackageStatus, Page, Project, User, UserId,
};
use packyard_core::policy::Action;
use packyard_core::{Principal, Registry, SnippetContext};
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Crumb};
use crate::session::Visitor;
use crate::WebState;

/// Files listed per page of the files table (`?page=`).
const FILES_PER_PAGE: i64 = 100;
/// Deeper file pages than this are not offered.
const MAX_FILES_PAGE: i64 = 10_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{project_path:.+}/-/packages/{id}", web::get().to(show))
        .route(
            "/{project_path:.+}/-/packages/{id}/delete",
            web::get().to(confirm_delete),
        )
        .route(
            "/{project_path:.+}/-/packages/{id}/delete",
            web::post().to(delete),
        )
        .route(
            "/{project_path:.+}/-/packages/{id}/files/{file_id}/delete",
            web::get().to(confirm_delete),
        )
        .route(
            "/{project_path:.+}/-/packages/{id}/files/{file_id}/delete",
            web::post().to(delete),
        )
        .route(
            "/{project_path:.+}/-/packages/{id}/files/{file_id}/download",
            web::get().to(download),
        );
}

#[derive(Deserialize)]
pub struct PackagePath {
    project_path: String,
    id: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    project_path: String,
    id: String,
    file_id: String,
}

/// A delete URL: the package's own, or one of its files'.
#[derive(Deserialize)]
pub struct DeletePath {
    project_path: String,
    id: String,
    file_id: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    authenticity_token: String,
}

/// A package the visitor may see, with its project.
struct Found {
    project: Project,
    package: Package,
    principal: Principal,
}

impl Found {
    fn registry_url(&self) -> String {
        format!("/{}/-/packages", self.project.full_path)
    }
    fn url(&self) -> String {
        format!(
            "/{}/-/packages/{}",
            self.project.full_path, self.package.id.0
        )
    }
    fn file_url(&self, file: PackageFileId, action: &str) -> String {
        format!("{}/files/{}/{action}", self.url(), file.0)
    }
}

/// The project at `project_path` and its package `raw_id`, when the visitor may read the
/// project's packages; `NotFound` for everything else (unknown project or package, a package
/// of another project, one being destroyed, a project the visitor may not see, a registry
/// that is off).
async fn find(
    registry: &Registry,
    visitor: &Visitor,
    project_path: &str,
    raw_id: &str,
) -> Result<Found, WebError> {
    let principal = visitor.principal();
    let project = crate::packages::readable_project(registry, &principal, project_path).await?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let package = registry
        .catalog()
        .package_by_id(project.id, PackageId(id))
        .await?
        .filter(|p| p.status != PackageStatus::PendingDestruction)
        .ok_or(WebError::NotFound)?;
    Ok(Found {
        project,
        package,
        principal,
    })
}

async fn may_delete(registry: &Registry, found: &Found) -> Result<bool, WebError> {
    Ok(registry
        .decide(&found.principal, &found.project, Action::DeletePackage)
        .await?
        .is_allowed())
}

/// For the confirmation pages and the POSTs: a signed-in visitor who may delete, or the
/// sign-in redirect (anonymous) or the 403 page (a role below Maintainer).
async fn require_delete(
    registry: &Registry,
    visitor: &Visitor,
    req: &HttpRequest,
    found: &Found,
) -> Result<(), WebError> {
    visitor.require_user(req)?;
    if may_delete(registry, found).await? {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "Deleting packages of {} needs the Maintainer role or higher.",
            found.project.full_path
        )))
    }
}

fn status_badge(s: PackageStatus) -> Markup {
    let label = layout::status_label(s);
    html! {
        @match s {
            PackageStatus::Default => { span.badge { (label) } },
            PackageStatus::Error | PackageStatus::Deprecated => { span.badge.warn { (label) } },
            _ => { span.badge { (label) } },
        }
    }
}

/// Explore, the project's groups, the project's registry, then `last`.
fn crumbs(project: &Project, last: Vec<Crumb>) -> Vec<Crumb> {
    let mut crumbs = crate::packages::project_crumbs(project);
    crumbs.extend(last);
    crumbs
}

/// The name a file is shown and saved under (stored names keep folders as `%2F`).
fn display_name(file: &PackageFile) -> String {
    percent_encoding::percent_decode_str(&file.file_name)
        .decode_utf8_lossy()
        .into_owned()
}

/// `id` attribute for a snippet: `Registry setup` → `snippet-registry-setup`.
fn snippet_id(title: &str, n: usize) -> String {
    let mut slug = String::from("snippet-");
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug == "snippet" {
        format!("snippet-{n}")
    } else {
        slug.to_owned()
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    page: Option<String>,
}

/// `GET /:project_path/-/packages/:id`.
async fn show(
    visitor: Visitor,
    path: web::Path<PackagePath>,
    query: web::Query<ShowQuery>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let found = find(&registry, &visitor, &path.project_path, &path.id).await?;
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=MAX_FILES_PAGE).contains(p))
        .unwrap_or(1);
    let catalog = registry.catalog();
    let pkg = &found.package;
    let deletable = visitor.user.is_some() && may_delete(&registry, &found).await?;

    // The other versions: the same name and format in this project, newest first by the
    // format's own order; like the REST API, only versions a listing shows by default.
    let format = state.format(&pkg.format);
    let mut versions: Vec<Package> = catalog
        .packages_by_name(found.project.id, &pkg.format, &pkg.normalized_name)
        .await?
        .into_iter()
        .filter(|o| o.id == pkg.id || o.status.listed_by_default())
        .collect();
    versions.sort_by(|a, b| {
        let by_version = match format {
            Some(f) => f.compare_versions(&b.version, &a.version),
            None => std::cmp::Ordering::Equal,
        };
        by_version.then(b.created_at.cmp(&a.created_at))
    });

    let tags = catalog.package_tags(pkg.id).await?;
    let (files, files_total) = catalog
        .package_files(
            pkg.id,
            Page {
                page,
                per_page: FILES_PER_PAGE,
            },
        )
        .await?;
    // Snippets name the package's files; past the first page of the table, the first page's.
    let snippet_files: Vec<String> = if page == 1 {
        files.iter().map(|f| f.file_name.clone()).collect()
    } else {
        catalog
            .package_files(
                pkg.id,
                Page {
                    page: 1,
                    per_page: FILES_PER_PAGE,
                },
            )
            .await?
            .0
            .into_iter()
            .map(|f| f.file_name)
            .collect()
    };

    let builds = catalog.package_build_infos(pkg.id).await?;
    let mut user_ids: Vec<UserId> = builds.iter().filter_map(|b| b.user_id).collect();
    user_ids.sort();
    user_ids.dedup();
    let users: HashMap<UserId, User> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        catalog
            .users_by_ids(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };

    let snippets = format.map(|f| {
        f.snippets(&SnippetContext {
            external_url: registry.config().external_url.trim_end_matches('/'),
            project_id: found.project.id.0,
            project_path: &found.project.full_path,
            package_name: &pkg.name,
            package_version: &pkg.version,
            file_names: &snippet_files,
        })
    });
    let format_name = state.format_name(&pkg.format);
    let downloadable = pkg.status.downloadable();
    let page_url = found.url();

    let body = html! {
        div.package-head {
            h1 { (pkg.name) " " span.muted { (pkg.version) } }
            @if deletable {
                div.actions {
                    a.button.danger href=(format!("{page_url}/delete")) { "Delete package" }
                }
            }
        }
        dl.meta {
            dt { "Format" } dd { (format_name) }
            dt { "Version" } dd { (pkg.version) }
            dt { "Status" } dd { (status_badge(pkg.status)) }
            dt { "Project" } dd { a href=(found.registry_url()) { (found.project.full_path) } }
            dt { "Tags" }
            dd {
                @if tags.is_empty() {
                    span.muted { "None" }
                } @else {
                    @for t in &tags { span.badge { (t.name) } " " }
                }
            }
            dt { "Created" } dd { (layout::time(pkg.created_at)) }
            dt { "Last downloaded" }
            dd {
                @match pkg.last_downloaded_at {
                    Some(at) => { (layout::time(at)) },
                    None => { span.muted { "Never" } },
                }
            }
        }

        section aria-labelledby="snippets-title" {
            h2 #snippets-title { "Installation" }
            @match &snippets {
                Some(list) if !list.is_empty() => {
                    p.muted {
                        "Replace " code { "<your_access_token>" } " with a "
                        a href="/-/user_settings/personal_access_tokens" { "personal access token" }
                        " (scope " code { "read_api" } " to install, " code { "api" }
                        " to publish), a deploy token or, in CI/CD, the job token."
                    }
                    @for (n, s) in list.iter().enumerate() {
                        (layout::snippet(&snippet_id(&s.title, n), &s.title, s.language, &s.code))
                    }
                },
                _ => {
                    p.muted { "The " (format_name) " format is not enabled on this instance." }
                },
            }
        }

        section aria-labelledby="files-title" {
            h2 #files-title { "Files " span.muted { "(" (files_total) ")" } }
            @if files.is_empty() {
                p.muted { "This package has no files." }
            } @else {
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th scope="col" { "File" }
                                th.num scope="col" { "Size" }
                                th.hide-narrow scope="col" { "Created" }
                                th scope="col" { span.visually-hidden { "Actions" } }
                            }
                        }
                        tbody {
                            @for f in &files {
                                @let name = display_name(f);
                                tr {
                                    td.file-name {
                                        div { (name) }
                                        div.file-sha {
                                            span.muted { "SHA-256 " }
                                            code.mono { (f.sha256) }
                                        }
                                    }
                                    td.num { (layout::size(f.size)) }
                                    td.hide-narrow { (layout::time(f.created_at)) }
                                    td.file-actions {
                                        @if downloadable {
                                            a href=(found.file_url(f.id, "download"))
                                                download=(name.rsplit('/').next().unwrap_or(&name))
                                                aria-label=(format!("Download {name}")) { "Download" }
                                        }
                                        @if deletable {
                                            " "
                                            a.danger-link href=(found.file_url(f.id, "delete"))
                                                aria-label=(format!("Delete {name}")) { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if files_total > FILES_PER_PAGE {
                    (layout::pager(
                        |n| layout::url_with(&page_url, &[("page", n.to_string())]),
                        page,
                        FILES_PER_PAGE,
                        files_total,
                    ))
                }
            }
        }

        section aria-labelledby="versions-title" {
            h2 #versions-title { "Versions" }
            ul.cards.versions {
                @for v in &versions {
                    li {
                        @if v.id == pkg.id {
                            a href=(page_url) aria-current="page" { (v.version) }
                            " " span.badge { "This version" }
                        } @else {
                            a href=(format!("/{}/-/packages/{}", found.project.full_path, v.id.0)) { (v.version) }
                        }
                        @if v.status != PackageStatus::Default { " " (status_badge(v.status)) }
                        " " span.muted { "created " (layout::time(v.created_at)) }
                    }
                }
            }
        }

        section aria-labelledby="ci-title" {
            h2 #ci-title { "CI/CD activity" }
            @if builds.is_empty() {
                p.muted { "No publish of this package came from a CI/CD job." }
            } @else {
                p.muted {
                    @if builds.len() == 1 {
                        "The last publish from a CI/CD job."
                    } @else {
                        "The last " (builds.len()) " publishes from CI/CD jobs, newest first."
                    }
                }
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th scope="col" { "Pipeline" }
                                th scope="col" { "Job" }
                                th scope="col" { "Commit" }
                                th scope="col" { "Ref" }
                                th scope="col" { "User" }
                                th.hide-narrow scope="col" { "When" }
                            }
                        }
                        tbody {
                            @for b in &builds {
                                tr {
                                    td { "#" (b.build.pipeline_id) }
                                    td { "#" (b.build.job_id) }
                                    td { code.mono title=(b.build.sha) { (b.build.sha.get(..12).unwrap_or(&b.build.sha)) } }
                                    td { code { (b.build.git_ref) } }
                                    td {
                                        @match b.user_id.and_then(|id| users.get(&id)) {
                                            Some(u) => { (u.username) },
                                            None => { span.muted { "Unknown" } },
                                        }
                                    }
                                    td.hide-narrow { (layout::time(b.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = format!("{} {}", pkg.name, pkg.version);
    let crumbs = crumbs(
        &found.project,
        vec![Crumb::new(title.clone(), page_url.clone())],
    );
    Ok(layout::html_page(
        &visitor,
        layout::page(&visitor, &title, &crumbs, body),
    ))
}

/// A confirmation page: what will go, and a form that POSTs to `action`.
fn confirm_page(
    visitor: &Visitor,
    found: &Found,
    title: &str,
    explanation: Markup,
    action: &str,
) -> Markup {
    let pkg = &found.package;
    let body = html! {
        h1 { (title) }
        (explanation)
        p { "This cannot be undone." }
        form method="post" action=(action) {
            (layout::csrf_field(visitor))
            div.actions {
                button.danger type="submit" { "Delete" }
                a.button.secondary href=(found.url()) { "Cancel" }
            }
        }
    };
    let crumbs = crumbs(
        &found.project,
        vec![
            Crumb::new(format!("{} {}", pkg.name, pkg.version), found.url()),
            Crumb::new("Delete", action),
        ],
    );
    layout::page(visitor, title, &crumbs, body)
}

/// The file `raw_id` of the package.
async fn find_file(
    registry: &Registry,
    found: &Found,
    raw_id: &str,
) -> Result<PackageFile, WebError> {
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    registry
        .catalog()
        .package_file(found.package.id, PackageFileId(id))
        .await?
        .ok_or(WebError::NotFound)
}

/// `GET .../packages/:id/delete` and `GET .../packages/:id/files/:file_id/delete`: the
/// confirmation page, whose form POSTs to the same URL.
async fn confirm_delete(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<DeletePath>,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, WebError> {
    let found = find(&registry, &visitor, &path.project_path, &path.id).await?;
    // A file that is not the package's is the 404 page, whatever the visitor's role.
    let file = match &path.file_id {
        Some(raw_id) => Some(find_file(&registry, &found, raw_id).await?),
        None => None,
    };
    require_delete(&registry, &visitor, &req, &found).await?;
    let pkg = &found.package;
    let (title, explanation, action) = match file {
        None => {
            let (_, files) = registry
                .catalog()
                .package_files(
                    pkg.id,
                    Page {
                        page: 1,
                        per_page: 1,
                    },
                )
                .await?;
            let explanation = html! {
                p {
                    "Delete " strong { (pkg.name) " " (pkg.version) } " from " (found.project.full_path)
                    ", with its " (files) " file" @if files != 1 { "s" } ", tags and CI/CD records?"
                    " Package managers will no longer find this version."
                }
            };
            (
                "Delete package",
                explanation,
                format!("{}/delete", found.url()),
            )
        }
        Some(file) => {
            let explanation = html! {
                p {
                    "Delete the file " strong { (display_name(&file)) }
                    " (" (layout::size(file.size)) ") of " (pkg.name) " " (pkg.version) "?"
                }
            };
            (
                "Delete file",
                explanation,
                found.file_url(file.id, "delete"),
            )
        }
    };
    Ok(layout::html_page(
        &visitor,
        confirm_page(&visitor, &found, title, explanation, &action),
    ))
}

/// `POST .../packages/:id/delete` and `POST .../packages/:id/files/:file_id/delete`: deletes
/// the package or the file, then back to the registry page or the package with a notice.
async fn delete(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<DeletePath>,
    form: web::Form<TokenForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let found = find(&registry, &visitor, &path.project_path, &path.id).await?;
    visitor.check_csrf(&req, &form.authenticity_token)?;
    require_delete(&registry, &visitor, &req, &found).await?;
    let Some(raw_id) = &path.file_id else {
        registry
            .delete_package(&found.principal, &found.project, &found.package)
            .await?;
        tracing::info!(
            project = %found.project.full_path,
            package = found.package.id.0,
            "package deleted from the web UI"
        );
        return Ok(layout::redirect(
            &state,
            &found.registry_url(),
            Some("Package deleted."),
        ));
    };
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    if !registry
        .delete_package_file(
            &found.principal,
            &found.project,
            &found.package,
            PackageFileId(id),
        )
        .await?
    {
        return Err(WebError::NotFound);
    }
    tracing::info!(
        project = %found.project.full_path,
        package = found.package.id.0,
        file = id,
        "package file deleted from the web UI"
    );
    Ok(layout::redirect(
        &state,
        &found.url(),
        Some("File deleted."),
    ))
}

/// `GET /:project_path/-/packages/:id/files/:file_id/download`: the file, streamed (or a
/// presigned redirect) as the package-manager routes serve it, for the visitor's session.
async fn download(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<FilePath>,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, WebError> {
    let found = find(&registry, &visitor, &path.project_path, &path.id).await?;
    if !found.package.status.downloadable() {
        return Err(WebError::NotFound);
    }
    let file = find_file(&registry, &found, &path.file_id).await?;
    let mut resp = packyard_core::http::serve_file(
        &registry,
        &req,
        &found.package,
        &file,
        "application/octet-stream",
    )
    .await?;
    // Uploaded bytes are never run as a page of this site.
    let headers = resp.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(resp)
}
