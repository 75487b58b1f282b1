//! The page shell and the small components every page uses: header with landmarks, notices,
//! breadcrumbs, forms' CSRF field, times, sizes, code snippets with copy buttons, pagers.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::session::{self, Visitor};

/// Query values: everything but unreserved characters is escaped.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub fn encode_query(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// Builds `path?k=v&...` from pairs, leaving out empty values.
pub fn url_with(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_query(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A breadcrumb: text and link.
pub struct Crumb {
    pub text: String,
    pub href: String,
}

impl Crumb {
    pub fn new(text: impl Into<String>, href: impl Into<String>) -> Self {
        Crumb {
            text: text.into(),
            href: href.into(),
        }
    }
}

/// The hidden field every form of a signed-in visitor carries.
pub fn csrf_field(visitor: &Visitor) -> Markup {
    html! {
        @if let Some(token) = visitor.csrf_token() {
            input type="hidden" name="authenticity_token" value=(token);
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Packyard" }
            link rel="stylesheet" href=(crate::assets::CSS_PATH);
            script src=(crate::assets::JS_PATH) defer {}
        }
    }
}

fn skip_link() -> Markup {
    html! { a.skip-link href="#main" { "Skip to main content" } }
}

/// A full page for `visitor`.
pub fn page(visitor: &Visitor, title: &str, crumbs: &[Crumb], body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                (skip_link())
                header.site-header {
                    nav.top-nav aria-label="Main" {
                        a.brand href="/explore" { "Packyard" }
                        a href="/explore" { "Explore" }
                        @if visitor.is_admin() {
                            a href="/admin/application_settings/ci_cd" { "Admin" }
                        }
                        span.spacer {}
                        @if let Some(user) = &visitor.user {
                            a href="/-/user_settings/personal_access_tokens" { "Access tokens" }
                            span.who { "Signed in as " strong { (user.username) } }
                            form.inline method="post" action="/users/sign_out" {
                                (csrf_field(visitor))
                                button.link-button type="submit" { "Sign out" }
                            }
                        } @else {
                            a href="/users/sign_in" { "Sign in" }
                        }
                    }
                }
                @if !crumbs.is_empty() {
                    nav.breadcrumbs aria-label="Breadcrumb" {
                        ol {
                            @for (i, c) in crumbs.iter().enumerate() {
                                li {
                                    @if i + 1 == crumbs.len() {
                                        a href=(c.href) aria-current="page" { (c.text) }
                                    } @else {
                                        a href=(c.href) { (c.text) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    @if let Some(flash) = &visitor.flash {
                        div.notice role="status" { (flash) }
                    }
                    (body)
                }
                footer.site-footer {
                    "Packyard " (env!("CARGO_PKG_VERSION"))
                }
            }
        }
    }
}

/// A page without a visitor (error pages).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                (skip_link())
                header.site-header {
                    nav.top-nav aria-label="Main" {
                        a.brand href="/explore" { "Packyard" }
                        a href="/explore" { "Explore" }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// Security headers every page carries: no inline script or style, no framing, no sniffing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// An HTML response with the security headers.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// A 200 page for `visitor`, clearing the notice it has just shown.
pub fn html_page(visitor: &Visitor, markup: Markup) -> HttpResponse {
    let mut resp = respond(StatusCode::OK, markup);
    if visitor.flash.is_some() {
        let _ = resp.add_cookie(&session::removal(
            visitor.secure_cookies(),
            session::FLASH_COOKIE,
        ));
    }
    resp
}

/// A 303 to `location` (after a form), optionally with a notice for the next page.
pub fn redirect(state: &crate::WebState, location: &str, notice: Option<&str>) -> HttpResponse {
    let mut b = HttpResponse::SeeOther();
    b.insert_header((
        header::LOCATION,
        packyard_core::redirect::location(location),
    ));
    if let Some(text) = notice {
        session::set_flash(&mut b, state, text);
    }
    b.finish()
}

/// `2026-11-24 18:45 UTC` in a `<time>` element.
pub fn time(millis: i64) -> Markup {
    match chrono::DateTime::from_timestamp_millis(millis) {
        Some(t) => html! {
            time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
                (t.format("%Y-%m-%d %H:%M UTC"))
            }
        },
        None => html! { "—" },
    }
}

/// `1.5 MiB`.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A code block with a copy button (the button appears only with JavaScript).
pub fn snippet(id: &str, title: &str, language: &str, code: &str) -> Markup {
    html! {
        section.snippet aria-labelledby=(format!("{id}-title")) {
            h3 id=(format!("{id}-title")) { (title) }
            div.code-wrap {
                pre id=(id) data-language=(language) { code { (code) } }
                button.copy type="button" data-copy-target=(id) hidden
                    aria-label=(format!("Copy {title}")) { "Copy" }
            }
        }
    }
}

/// Previous / next links and "page X of Y" for an offset listing.
pub fn pager(
    href_for_page: impl Fn(i64) -> String,
    page: i64,
    per_page: i64,
    total: i64,
) -> Markup {
    let pages = ((total + per_page - 1) / per_page).max(1);
    html! {
        nav.pager aria-label="Pagination" {
            @if page > 1 {
                a rel="prev" href=(href_for_page(page - 1)) { "‹ Previous" }
            } @else {
                span.disabled aria-disabled="true" { "‹ Previous" }
            }
            span.page-of { "Page " (page) " of " (pages) }
            @if page < pages {
                a rel="next" href=(href_for_page(page + 1)) { "Next ›" }
            } @else {
                span.disabled aria-disabled="true" { "Next ›" }
            }
        }
    }
}

/// A package status as the pages name it.
pub fn status_label(s: packyard_core::model::PackageStatus) -> &'static str {
    use packyard_core::model::PackageStatus;
    match s {
        PackageStatus::Default => "Default",
        PackageStatus::Hidden => "Hidden",
        PackageStatus::Processing => "Processing",
        PackageStatus::Error => "Error",
        PackageStatus::PendingDestruction => "Pending destruction",
        PackageStatus::Deprecated => "Deprecated",
    }
}

/// A `page` query value: 1 ..= 10,000, else the first page.
pub fn page_param(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1)
}

/// A non-breaking dash for empty cells.
pub fn dash() -> Markup {
    PreEscaped("&mdash;".to_owned())
}
