//! Settings pages of the package registry, at GitLab's paths:
//!
//! - `/:project_path/-/settings/packages_and_registries` (project Maintainers and above): who
//!   may use the package registry (`package_registry_access_level`, as `PUT /projects/:id`)
//!   and the cleanup policy (`keep_n_duplicated_package_files`, as
//!   `PUT /projects/:id/packages/cleanup_policy`;
//!   <https://docs.gitlab.com/user/packages/package_registry/reduce_package_registry_storage/#cleanup-policy>).
//! - `/groups/:group_path/-/settings/packages_and_registries` (group Owners, as on GitLab,
//!   whose settings menu needs `admin_group`): whether each format accepts duplicate
//!   packages, with an exception regex (as `PUT /groups/:id/packages/settings`;
//!   <https://docs.gitlab.com/user/packages/package_registry/supported_functionality/#allow-or-prevent-duplicates>).
//! - `/admin/application_settings/ci_cd` (admins): the instance option "Allow anyone to pull
//!   from Package Registry" (as `PUT /application/settings`).
//!
//! GitLab hides settings from everyone below the role they need, so those visitors get the
//! 404 page, like visitors who cannot see the project or group at all; anonymous visitors are
//! sent to sign in (which tells nothing about what exists). Every save goes through the same
//! `Registry` functions as the REST API, then answers 303 back to the page with a notice.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use packyard_core::cleanup::{parse_keep, validate_exception_regex};
use packyard_core::model::{
    AccessLevel, CleanupPolicy, Group, NamespacePackageSettings, Project, ProjectUpdate,
    RegistryAccess,
};
use packyard_core::Registry;
use serde::Deserialize;

use crate::error::WebError;
use crate::explore::visibility_badge;
use crate::layout::{self, Crumb};
use crate::session::Visitor;
use crate::WebState;

const SAVED: &str = "Settings saved.";
const ADMIN_PATH: &str = "/admin/application_settings/ci_cd";

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The group route first: `groups/x` would also match the project pattern.
    cfg.route(ADMIN_PATH, web::get().to(admin_page))
        .route(ADMIN_PATH, web::post().to(admin_save))
        .route(
            "/groups/{group_path:.+}/-/settings/packages_and_registries",
            web::get().to(group_page),
        )
        .route(
            "/groups/{group_path:.+}/-/settings/packages_and_registries",
            web::post().to(group_save),
        )
        .route(
            "/{project_path:.+}/-/settings/packages_and_registries",
            web::get().to(project_page),
        )
        .route(
            "/{project_path:.+}/-/settings/packages_and_registries",
            web::post().to(project_save),
        );
}

/// A full path from the URL. A number would be read as an id by `find_project`/`find_group`,
/// and no page lives at `/123/-/settings/...`.
fn full_path(raw: &str) -> Result<&str, WebError> {
    let path = raw.trim_matches('/');
    if path.is_empty() || path.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebError::NotFound);
    }
    Ok(path)
}

fn project_settings_url(project: &Project) -> String {
    format!("/{}/-/settings/packages_and_registries", project.full_path)
}

fn group_settings_url(group: &Group) -> String {
    format!(
        "/groups/{}/-/settings/packages_and_registries",
        group.full_path
    )
}

/// The signed-in visitor's project, when they are Maintainer or above; 404 otherwise.
async fn maintained_project(
    registry: &Registry,
    visitor: &Visitor,
    req: &HttpRequest,
    raw_path: &str,
) -> Result<Project, WebError> {
    let user = visitor.require_user(req)?;
    let path = full_path(raw_path)?;
    let (project, role) = registry
        .authorize_project_role(Some(user), path, None)
        .await
        .map_err(WebError::from)?;
    if role.is_none_or(|r| r < AccessLevel::Maintainer) {
        return Err(WebError::NotFound);
    }
    Ok(project)
}

/// The signed-in visitor's group, when they are its Owner (or an admin); 404 otherwise.
async fn owned_group(
    registry: &Registry,
    visitor: &Visitor,
    req: &HttpRequest,
    raw_path: &str,
) -> Result<Group, WebError> {
    let user = visitor.require_user(req)?;
    let path = full_path(raw_path)?;
    let (group, role) = registry
        .authorize_group(Some(user), path, None)
        .await
        .map_err(WebError::from)?;
    if role.is_none_or(|r| r < AccessLevel::Owner) {
        return Err(WebError::NotFound);
    }
    Ok(group)
}

// ------------------------------------------------------------------ project

fn access_label(a: RegistryAccess) -> &'static str {
    match a {
        RegistryAccess::Disabled => "Disabled",
        RegistryAccess::Private => "Private",
        RegistryAccess::Enabled => "Enabled",
        RegistryAccess::Public => "Allow anyone to pull",
    }
}

fn access_hint(a: RegistryAccess) -> &'static str {
    match a {
        RegistryAccess::Disabled => {
            "Nobody can pull or publish packages. Stored packages are kept."
        }
        RegistryAccess::Private => {
            "Only project members (Reporter and above) can pull, even when the project is public."
        }
        RegistryAccess::Enabled => {
            "Everyone who can see the project can pull: its members, and signed-in users or \
             everyone for an internal or public project."
        }
        RegistryAccess::Public => {
            "Anyone can pull, even anonymous visitors and non-members of a private project. \
             Publishing still needs the Developer role."
        }
    }
}

fn keep_label(keep: &str) -> String {
    match keep {
        "all" => "All duplicated files (no cleanup)".to_owned(),
        "1" => "1 file (the newest)".to_owned(),
        n => format!("{n} files"),
    }
}

/// A problem with one of the project page's forms, shown above it.
#[derive(Default)]
struct ProjectErrors {
    access: Option<String>,
    cleanup: Option<String>,
}

fn project_body(
    visitor: &Visitor,
    project: &Project,
    anyone_option: bool,
    policy: &CleanupPolicy,
    errors: &ProjectErrors,
) -> Markup {
    let action = project_settings_url(project);
    let registry_url = format!("/{}/-/packages", project.full_path);
    let current = project.registry_access;
    let choices: Vec<RegistryAccess> = RegistryAccess::ALL
        .into_iter()
        .filter(|a| *a != RegistryAccess::Public || anyone_option || current == *a)
        .collect();
    let keep = policy.keep_as_str();
    let keep_values: Vec<String> = std::iter::once("all".to_owned())
        .chain(CleanupPolicy::KEEP_VALUES.iter().map(i64::to_string))
        .collect();
    html! {
        h1 { "Packages and registries settings" }
        p {
            (project.full_path) " " (visibility_badge(project.visibility)) " · "
            a href=(registry_url) { "Back to the package registry" }
        }
        section aria-labelledby="access-title" {
            h2 #access-title { "Package registry access" }
            @if let Some(e) = &errors.access {
                div.error role="alert" { (e) }
            }
            form method="post" action=(action) {
                (layout::csrf_field(visitor))
                input type="hidden" name="section" value="access";
                fieldset {
                    legend { "Who can use the package registry" }
                    @for a in &choices {
                        @let id = format!("access-{}", a.as_str());
                        div.choice {
                            input id=(id) type="radio" name="package_registry_access_level"
                                value=(a.as_str()) checked[*a == current]
                                aria-describedby=(format!("{id}-hint"));
                            label for=(id) {
                                (access_label(*a))
                                span.hint id=(format!("{id}-hint")) { (access_hint(*a)) }
                            }
                        }
                    }
                    @if current == RegistryAccess::Public && !anyone_option {
                        p.hint #anyone-off {
                            span.badge.warn { "No effect" } " "
                            "An administrator has turned off \u{201c}Allow anyone to pull from Package \
                             Registry\u{201d} for this instance, so this choice works like \u{201c}Enabled\u{201d}. \
                             Once you choose another level, it is no longer offered."
                        }
                    }
                }
                button type="submit" { "Save access level" }
            }
        }
        section aria-labelledby="cleanup-title" {
            h2 #cleanup-title { "Cleanup policy" }
            p.muted {
                "When a package holds several files with the same name (a version published again), "
                "older copies beyond this number are deleted on a schedule."
            }
            @if let Some(e) = &errors.cleanup {
                div.error role="alert" { (e) }
            }
            form method="post" action=(action) {
                (layout::csrf_field(visitor))
                input type="hidden" name="section" value="cleanup";
                div.field {
                    label for="keep_n_duplicated_package_files" {
                        "Number of duplicated package files to keep"
                    }
                    select #keep_n_duplicated_package_files name="keep_n_duplicated_package_files"
                        aria-describedby="keep-hint" {
                        @for v in &keep_values {
                            option value=(v) selected[*v == keep] { (keep_label(v)) }
                        }
                    }
                    div.hint #keep-hint {
                        @match policy.next_run_at {
                            Some(at) => { "Next cleanup: " (layout::time(at)) "." }
                            None => { "Cleanup is off." }
                        }
                    }
                }
                button type="submit" { "Save cleanup policy" }
            }
        }
    }
}

async fn render_project(
    registry: &Registry,
    visitor: &Visitor,
    project: &Project,
    errors: &ProjectErrors,
) -> Result<Markup, WebError> {
    let anyone_option = registry
        .catalog()
        .instance_settings()
        .await?
        .package_registry_allow_anyone_to_pull_option;
    let policy = registry.cleanup_policy(project).await?;
    let body = project_body(visitor, project, anyone_option, &policy, errors);
    // The same trail as the registry page, then Settings.
    let mut crumbs = crate::packages::project_crumbs(project);
    crumbs.push(Crumb::new("Settings", project_settings_url(project)));
    Ok(layout::page(
        visitor,
        &format!("Packages and registries settings · {}", project.full_path),
        &crumbs,
        body,
    ))
}

async fn project_page(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, WebError> {
    let project = maintained_project(&registry, &visitor, &req, &path).await?;
    let markup = render_project(&registry, &visitor, &project, &ProjectErrors::default()).await?;
    Ok(layout::html_page(&visitor, markup))
}

/// A form as the name/value pairs it posts, in order: for forms whose fields are not known
/// up front (one per format) or repeat (check boxes of one name). Also used by `tokens`.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// The last value posted for `name`, as posted.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value posted for `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Deserialize)]
pub struct ProjectForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    section: String,
    package_registry_access_level: Option<String>,
    keep_n_duplicated_package_files: Option<String>,
}

async fn project_save(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<ProjectForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    visitor.check_csrf(&req, &form.authenticity_token)?;
    let project = maintained_project(&registry, &visitor, &req, &path).await?;
    let mut errors = ProjectErrors::default();
    match form.section.as_str() {
        "access" => {
            let chosen = form
                .package_registry_access_level
                .as_deref()
                .and_then(RegistryAccess::parse);
            let anyone_option = registry
                .catalog()
                .instance_settings()
                .await?
                .package_registry_allow_anyone_to_pull_option;
            match chosen {
                None => errors.access = Some("Choose one of the access levels.".into()),
                // Not offered while the instance option is off (unless already chosen).
                Some(RegistryAccess::Public)
                    if !anyone_option && project.registry_access != RegistryAccess::Public =>
                {
                    errors.access = Some(
                        "\u{201c}Allow anyone to pull\u{201d} is turned off for this instance. \
                         Choose another access level."
                            .into(),
                    )
                }
                Some(level) => {
                    registry
                        .update_project_as(
                            &project,
                            ProjectUpdate {
                                registry_access: Some(level),
                                ..ProjectUpdate::default()
                            },
                        )
                        .await?;
                }
            }
        }
        "cleanup" => {
            let keep = form
                .keep_n_duplicated_package_files
                .as_deref()
                .and_then(parse_keep);
            match keep {
                Some(keep) => {
                    registry.set_cleanup_policy(&project, keep).await?;
                }
                None => {
                    errors.cleanup = Some(
                        "Choose how many duplicated files to keep: all, 1, 10, 20, 30, 40 or 50."
                            .into(),
                    )
                }
            }
        }
        _ => {
            return Err(WebError::BadRequest(
                "The form is not one of this page's.".into(),
            ))
        }
    }
    if errors.access.is_some() || errors.cleanup.is_some() {
        let markup = render_project(&registry, &visitor, &project, &errors).await?;
        return Ok(layout::respond(StatusCode::BAD_REQUEST, markup));
    }
    Ok(layout::redirect(
        &state,
        &project_settings_url(&project),
        Some(SAVED),
    ))
}

// ------------------------------------------------------------------ group

/// A format's display name (its id if it is not installed, which the settings never list).
fn format_name<'a>(state: &'a WebState, id: &'a str) -> &'a str {
    state.format(id).map_or(id, |f| f.display_name())
}

/// The group form as it was submitted, to show again with its errors.
struct GroupFormView<'a> {
    settings: &'a NamespacePackageSettings,
    /// Field name -> error text.
    errors: &'a [(String, String)],
}

fn group_body(
    visitor: &Visitor,
    state: &WebState,
    group: &Group,
    view: &GroupFormView<'_>,
) -> Markup {
    let action = group_settings_url(group);
    let error_of = |field: &str| {
        view.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, e)| e.clone())
    };
    html! {
        h1 { "Packages and registries settings" }
        p {
            (group.full_path) " " (visibility_badge(group.visibility)) " · "
            a href=(format!("/groups/{}/-/packages", group.full_path)) { "Back to the package registry" }
        }
        section aria-labelledby="duplicates-title" {
            h2 #duplicates-title { "Duplicate packages" }
            p.muted {
                "Whether projects in this group and its subgroups may publish a package whose name "
                "and version already exist. An exception is a regular expression matched against "
                "the whole package name or version; a match is treated the opposite way "
                "(allowed when duplicates are refused)."
            }
            @if !view.errors.is_empty() {
                div.error role="alert" {
                    "The settings were not saved. "
                    @for (field, text) in view.errors {
                        a href=(format!("#{field}")) { (text) } " "
                    }
                }
            }
            @if view.settings.formats.is_empty() {
                p { "No package format installed here has a duplicate setting: each refuses a version that exists." }
            }
            form method="post" action=(action) {
                (layout::csrf_field(visitor))
                div.table-wrap {
                    table.duplicates {
                        caption.muted { "Duplicate settings per package format" }
                        thead {
                            tr {
                                th scope="col" { "Format" }
                                th scope="col" { "Allow duplicates" }
                                th scope="col" { "Exceptions (regex)" }
                            }
                        }
                        tbody {
                            @for (format, s) in &view.settings.formats {
                                @let name = format_name(state, format);
                                @let allowed_id = format!("{format}_duplicates_allowed");
                                @let regex_id = format!("{format}_duplicate_exception_regex");
                                @let error = error_of(&regex_id);
                                tr {
                                    th scope="row" { (name) }
                                    td {
                                        input id=(allowed_id) type="checkbox" name=(allowed_id)
                                            value="true" checked[s.allowed];
                                        label.visually-hidden for=(allowed_id) {
                                            "Allow duplicate " (name) " packages"
                                        }
                                    }
                                    td {
                                        label.visually-hidden for=(regex_id) {
                                            (name) " exceptions (regular expression)"
                                        }
                                        input id=(regex_id) type="text" name=(regex_id)
                                            value=(s.exception_regex) maxlength="255"
                                            spellcheck="false" autocapitalize="none"
                                            aria-invalid=[error.as_ref().map(|_| "true")]
                                            aria-describedby=[error.as_ref().map(|_| format!("{regex_id}-error"))];
                                        @if let Some(e) = &error {
                                            div.field-error id=(format!("{regex_id}-error")) { (e) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div.actions {
                    button type="submit" { "Save duplicate settings" }
                }
            }
        }
    }
}

fn render_group(
    visitor: &Visitor,
    state: &WebState,
    group: &Group,
    view: &GroupFormView<'_>,
) -> Markup {
    let body = group_body(visitor, state, group, view);
    let crumbs = [
        Crumb::new(
            group.full_path.clone(),
            format!("/groups/{}/-/packages", group.full_path),
        ),
        Crumb::new(
            "Package registry",
            format!("/groups/{}/-/packages", group.full_path),
        ),
        Crumb::new("Settings", group_settings_url(group)),
    ];
    layout::page(
        visitor,
        &format!("Packages and registries settings · {}", group.full_path),
        &crumbs,
        body,
    )
}

async fn group_page(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let group = owned_group(&registry, &visitor, &req, &path).await?;
    let settings = registry.namespace_package_settings(&group).await?;
    let view = GroupFormView {
        settings: &settings,
        errors: &[],
    };
    let markup = render_group(&visitor, &state, &group, &view);
    Ok(layout::html_page(&visitor, markup))
}

async fn group_save(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<FormFields>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    visitor.check_csrf(&req, form.value("authenticity_token").unwrap_or_default())?;
    let group = owned_group(&registry, &visitor, &req, &path).await?;
    let mut settings = registry.namespace_package_settings(&group).await?;
    let mut errors = Vec::new();
    // The form carries every format: an unchecked box is "not allowed".
    for (format, setting) in settings.formats.iter_mut() {
        setting.allowed = form
            .value(&format!("{format}_duplicates_allowed"))
            .is_some_and(|v| matches!(v, "true" | "on" | "1"));
        let field = format!("{format}_duplicate_exception_regex");
        if let Some(re) = form.value(&field) {
            let re = re.trim();
            if let Err(why) = validate_exception_regex(re) {
                let name = format_name(&state, format);
                errors.push((
                    field.clone(),
                    format!("{name} exceptions: the regex {why}."),
                ));
            }
            setting.exception_regex = re.to_owned();
        }
    }
    if !errors.is_empty() {
        let view = GroupFormView {
            settings: &settings,
            errors: &errors,
        };
        let markup = render_group(&visitor, &state, &group, &view);
        return Ok(layout::respond(StatusCode::BAD_REQUEST, markup));
    }
    registry
        .set_namespace_package_settings(&group, &settings)
        .await?;
    Ok(layout::redirect(
        &state,
        &group_settings_url(&group),
        Some(SAVED),
    ))
}

// ------------------------------------------------------------------ instance

fn require_admin(visitor: &Visitor, req: &HttpRequest) -> Result<(), WebError> {
    let user = visitor.require_user(req)?;
    if user.is_admin {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

async fn admin_page(
    req: HttpRequest,
    visitor: Visitor,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, WebError> {
    require_admin(&visitor, &req)?;
    let settings = registry.catalog().instance_settings().await?;
    let on = settings.package_registry_allow_anyone_to_pull_option;
    let body = html! {
        h1 { "CI/CD settings" }
        section aria-labelledby="package-registry-title" {
            h2 #package-registry-title { "Package Registry" }
            form method="post" action=(ADMIN_PATH) {
                (layout::csrf_field(&visitor))
                div.choice {
                    input #package_registry_allow_anyone_to_pull_option type="checkbox"
                        name="package_registry_allow_anyone_to_pull_option" value="true"
                        checked[on] aria-describedby="anyone-hint";
                    label for="package_registry_allow_anyone_to_pull_option" {
                        "Allow anyone to pull from Package Registry"
                        span.hint #anyone-hint {
                            "Lets projects offer \u{201c}Allow anyone to pull\u{201d}: anyone, even "
                            "anonymous visitors, can pull the packages of a project set to it, even "
                            "when the project is private. Turned off, such projects work as "
                            "\u{201c}Enabled\u{201d} and the choice is hidden."
                        }
                    }
                }
                div.actions {
                    button type="submit" { "Save changes" }
                }
            }
        }
        p { a href="/explore" { "Explore projects and groups" } }
    };
    let crumbs = [
        Crumb::new("Admin", ADMIN_PATH),
        Crumb::new("CI/CD settings", ADMIN_PATH),
    ];
    Ok(layout::html_page(
        &visitor,
        layout::page(&visitor, "CI/CD settings", &crumbs, body),
    ))
}

#[derive(Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    authenticity_token: String,
    package_registry_allow_anyone_to_pull_option: Option<String>,
}

async fn admin_save(
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<AdminForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    visitor.check_csrf(&req, &form.authenticity_token)?;
    require_admin(&visitor, &req)?;
    let mut settings = registry.catalog().instance_settings().await?;
    // An unchecked box is not sent.
    settings.package_registry_allow_anyone_to_pull_option = form
        .package_registry_allow_anyone_to_pull_option
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "on" | "1"));
    registry.catalog().set_instance_settings(&settings).await?;
    Ok(layout::redirect(&state, ADMIN_PATH, Some(SAVED)))
}
