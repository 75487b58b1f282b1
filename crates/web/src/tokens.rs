//! `/-/user_settings/personal_access_tokens`: the signed-in user's active personal access
//! tokens, a form to create one, and revoke buttons, at GitLab's path
//! (<https://docs.gitlab.com/user/profile/personal_access_tokens/>).
//!
//! A new token's secret is shown once. The form's POST answers 303 back to the page with the
//! secret in a private cookie (encrypted and authenticated with the shared key, `HttpOnly`,
//! `SameSite=Strict`, scoped to this path, two minutes); the page shows it in a `no-store`
//! answer and removes the cookie. So a reload neither shows it again nor creates a second
//! token, and the secret is never in a URL or a log. Tokens are
//! created by `Registry::create_personal_access_token` and revoked through the catalog, as the
//! REST API does (`POST /users/:id/personal_access_tokens`, `DELETE /personal_access_tokens/:id`).
//! Someone else's token id (or a revoked one) is the 404 page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use packyard_core::model::{Page, PersonalAccessToken, TokenFilter, TokenId, User};
use packyard_core::Registry;
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Crumb};
use crate::session::{self, Visitor};
use crate::settings::FormFields;
use crate::WebState;

const PATH: &str = "/-/user_settings/personal_access_tokens";
/// Carries a just-created token (`<id>:<secret>`) to the one page that shows it.
const NEW_TOKEN_COOKIE: &str = "_packyard_new_token";
const PER_PAGE: i64 = 20;

/// Scopes offered by the form (a subset of core's `PAT_SCOPES`: those that mean something
/// here, and GitLab's registry scopes that scripts copied from GitLab ask for).
const SCOPES: &[(&str, &str)] = &[
    (
        "api",
        "Full read and write access: publish, pull and delete packages, manage projects and groups.",
    ),
    (
        "read_api",
        "Read-only access: pull packages and read projects, groups and package listings.",
    ),
    (
        "read_user",
        "Read your own profile (GET /api/v4/user) and the users list.",
    ),
    (
        "self_rotate",
        "Rotate this token itself through the API.",
    ),
    (
        "read_registry",
        "GitLab's container registry scope, accepted for compatibility; grants no package access here.",
    ),
    (
        "write_registry",
        "GitLab's container registry scope, accepted for compatibility; grants no package access here.",
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(tokens_page))
        .route(PATH, web::post().to(create))
        .route(
            "/-/user_settings/personal_access_tokens/{id}/revoke",
            web::post().to(revoke),
        );
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[derive(Deserialize)]
pub struct TokensQuery {
    page: Option<String>,
}

/// What the create form shows: the values typed (after a refusal) and the problem.
struct CreateForm {
    name: String,
    expires_at: String,
    scopes: Vec<String>,
    error: Option<String>,
}

impl CreateForm {
    fn fresh() -> Self {
        CreateForm {
            name: String::new(),
            // GitLab suggests a month; clearing the date makes a token that does not expire.
            expires_at: (today() + chrono::Days::new(30))
                .format("%Y-%m-%d")
                .to_string(),
            scopes: Vec::new(),
            error: None,
        }
    }
}

fn expiry(t: &PersonalAccessToken) -> Markup {
    match &t.expires_at {
        Some(d) => html! { time datetime=(d) { (d) } },
        None => html! { span.muted { "Never" } },
    }
}

fn token_rows(visitor: &Visitor, tokens: &[PersonalAccessToken]) -> Markup {
    html! {
        @if tokens.is_empty() {
            p.muted { "You have no active personal access tokens." }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Active personal access tokens" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Scopes" }
                            th scope="col" .hide-narrow { "Created" }
                            th scope="col" { "Last used" }
                            th scope="col" { "Expires" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        }
                    }
                    tbody {
                        @for t in tokens {
                            tr {
                                th scope="row" { (t.name) }
                                td {
                                    span.scopes {
                                        @for s in &t.scopes { span.badge.mono { (s) } }
                                    }
                                }
                                td.hide-narrow { (layout::time(t.created_at)) }
                                td {
                                    @match t.last_used_at {
                                        Some(at) => (layout::time(at)),
                                        None => span.muted { "Never" },
                                    }
                                }
                                td { (expiry(t)) }
                                td {
                                    form.inline method="post"
                                        action=(format!("{PATH}/{}/revoke", t.id.0))
                                        data-confirm=(format!(
                                            "Revoke the token \u{201c}{}\u{201d}? Tools using it stop working at once.",
                                            t.name
                                        )) {
                                        (layout::csrf_field(visitor))
                                        button.danger type="submit"
                                            aria-label=(format!("Revoke token {}", t.name)) { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn create_form(visitor: &Visitor, form: &CreateForm) -> Markup {
    let min_date = today().format("%Y-%m-%d").to_string();
    html! {
        section aria-labelledby="new-token-title" {
            h2 #new-token-title { "Add a new token" }
            @if let Some(e) = &form.error {
                div.error role="alert" { (e) }
            }
            form method="post" action=(PATH) {
                (layout::csrf_field(visitor))
                div.field {
                    label for="token-name" { "Token name" }
                    input #token-name type="text" name="name" value=(form.name)
                        maxlength="255" required;
                }
                div.field {
                    label for="token-expires" { "Expiration date" }
                    input #token-expires type="date" name="expires_at" value=(form.expires_at)
                        min=(min_date) aria-describedby="token-expires-hint";
                    div.hint #token-expires-hint {
                        "The token works through this day (UTC). Leave it empty for a token that does not expire."
                    }
                }
                fieldset {
                    legend { "Scopes" }
                    @for (scope, hint) in SCOPES {
                        @let id = format!("scope-{scope}");
                        div.choice {
                            input id=(id) type="checkbox" name="scopes" value=(scope)
                                checked[form.scopes.iter().any(|s| s == scope)]
                                aria-describedby=(format!("{id}-hint"));
                            label for=(id) {
                                span.mono { (scope) }
                                span.hint id=(format!("{id}-hint")) { (hint) }
                            }
                        }
                    }
                }
                button type="submit" { "Create token" }
            }
        }
    }
}

/// The whole page; `created` is a token just made, whose secret is shown this once.
async fn render(
    registry: &Registry,
    visitor: &Visitor,
    user: &User,
    page: i64,
    form: &CreateForm,
    created: Option<(&str, &PersonalAccessToken)>,
) -> Result<Markup, WebError> {
    let listing = registry
        .catalog()
        .list_personal_access_tokens(
            TokenFilter {
                user_id: Some(user.id),
                active: Some(true),
                today: today().format("%Y-%m-%d").to_string(),
                ..TokenFilter::default()
            },
            Page {
                page,
                per_page: PER_PAGE,
            },
        )
        .await?;
    let total = listing.total.unwrap_or_default();
    let body = html! {
        h1 { "Personal access tokens" }
        p.muted {
            "Tools such as pip, npm, cargo, Maven, curl and python-gitlab sign in with a personal "
            "access token instead of your password. Give each tool its own token with the "
            "fewest scopes it needs."
        }
        @if let Some((secret, token)) = created {
            div.token-once role="status" {
                h2 { "Your new personal access token \u{201c}" (token.name) "\u{201d}" }
                p {
                    strong { "Copy it now: it will not be shown again." }
                    " Store it somewhere safe, such as a password manager or your CI/CD variables."
                }
                div.token-value {
                    (layout::snippet("new-token", "Token", "text", secret))
                }
            }
        }
        (create_form(visitor, form))
        section aria-labelledby="active-tokens-title" {
            h2 #active-tokens-title { "Active personal access tokens (" (total) ")" }
            (token_rows(visitor, &listing.items))
            @if total > PER_PAGE {
                (layout::pager(
                    |n| layout::url_with(PATH, &[("page", n.to_string())]),
                    page,
                    PER_PAGE,
                    total,
                ))
            }
        }
    };
    Ok(layout::page(
        visitor,
        "Personal access tokens",
        &[
            Crumb::new("User settings", PATH),
            Crumb::new("Personal access tokens", PATH),
        ],
        body,
    ))
}

async fn tokens_page(
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<TokensQuery>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let user = visitor.require_user(&req)?;
    let page = layout::page_param(query.page.as_deref());
    // A token just created by this user, still active: shown this once.
    let carried = session::private_cookie(&req, &state, NEW_TOKEN_COOKIE);
    let mut created: Option<(String, PersonalAccessToken)> = None;
    if let Some((id, secret)) = carried.as_deref().and_then(|v| v.split_once(':')) {
        if let Ok(id) = id.parse::<i64>() {
            let token = registry
                .catalog()
                .personal_access_token_by_id(TokenId(id))
                .await?;
            if let Some(token) = token.filter(|t| t.user_id == user.id && !t.revoked) {
                created = Some((secret.to_owned(), token));
            }
        }
    }
    let markup = render(
        &registry,
        &visitor,
        user,
        page,
        &CreateForm::fresh(),
        created.as_ref().map(|(s, t)| (s.as_str(), t)),
    )
    .await?;
    let mut resp = layout::html_page(&visitor, markup);
    if carried.is_some() {
        let _ = resp.add_cookie(&session::removal_at(
            state.secure_cookies(),
            NEW_TOKEN_COOKIE,
            PATH,
        ));
    }
    Ok(resp)
}

/// Checks the typed values; the first problem, in the words the form uses.
fn validate(name: &str, expires_at: &str, scopes: &[String]) -> Result<Option<String>, String> {
    if name.is_empty() {
        return Err("Enter a token name.".into());
    }
    if name.chars().count() > 255 {
        return Err("The token name is too long (at most 255 characters).".into());
    }
    if scopes.is_empty() {
        return Err("Choose at least one scope.".into());
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.iter().any(|(k, _)| k == s)) {
        return Err(format!(
            "\u{201c}{bad}\u{201d} is not a scope this form offers."
        ));
    }
    if expires_at.is_empty() {
        return Ok(None);
    }
    let date = chrono::NaiveDate::parse_from_str(expires_at, "%Y-%m-%d")
        .map_err(|_| "Enter the expiration date as YYYY-MM-DD.".to_owned())?;
    if date < today() {
        return Err("The expiration date must not be in the past.".into());
    }
    Ok(Some(date.format("%Y-%m-%d").to_string()))
}

/// The form again, with what was typed and why it was refused.
async fn refused(
    registry: &Registry,
    visitor: &Visitor,
    user: &User,
    form: &CreateForm,
) -> Result<HttpResponse, WebError> {
    let markup = render(registry, visitor, user, 1, form, None).await?;
    Ok(layout::respond(StatusCode::BAD_REQUEST, markup))
}

async fn create(
    req: HttpRequest,
    visitor: Visitor,
    fields: web::Form<FormFields>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let value = |name: &str| fields.value(name).unwrap_or_default().trim().to_owned();
    let user = visitor.check_csrf(&req, &value("authenticity_token"))?;
    let mut scopes: Vec<String> = Vec::new();
    for v in fields.values("scopes") {
        if !scopes.iter().any(|s| s == v) {
            scopes.push(v.to_owned());
        }
    }
    let mut form = CreateForm {
        name: value("name"),
        expires_at: value("expires_at"),
        scopes,
        error: None,
    };
    let expires_at = match validate(&form.name, &form.expires_at, &form.scopes) {
        Ok(d) => d,
        Err(e) => {
            form.error = Some(e);
            return refused(&registry, &visitor, user, &form).await;
        }
    };
    let (secret, token) = match registry
        .create_personal_access_token(user.id, &form.name, &form.scopes, expires_at)
        .await
    {
        Ok(created) => created,
        Err(e) if e.status().is_client_error() => {
            form.error = Some(
                e.client_text()
                    .unwrap_or_else(|| "The token was not created.".into()),
            );
            return refused(&registry, &visitor, user, &form).await;
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user = %user.username, token = token.id.0, "personal access token created");
    let mut resp = layout::redirect(&state, PATH, None);
    let _ = resp.add_cookie(&session::make_private_cookie(
        &state,
        NEW_TOKEN_COOKIE,
        format!("{}:{secret}", token.id.0),
        PATH,
        120,
    ));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    authenticity_token: String,
}

async fn revoke(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let user = visitor.check_csrf(&req, &form.authenticity_token)?;
    let id = path.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let token = registry
        .catalog()
        .personal_access_token_by_id(TokenId(id))
        .await?
        .filter(|t| t.user_id == user.id && !t.revoked)
        .ok_or(WebError::NotFound)?;
    registry
        .catalog()
        .revoke_personal_access_token(token.id)
        .await?;
    tracing::info!(user = %user.username, token = token.id.0, "personal access token revoked");
    // The notice travels in a cookie: plain ASCII, and no user input in it.
    Ok(layout::redirect(
        &state,
        PATH,
        Some("Personal access token revoked."),
    ))
}
