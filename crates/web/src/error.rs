//! Failures of page handlers, answered as HTML pages.
//!
//! What a visitor may not see is the 404 page, never a 403 that would reveal that a private
//! project exists. A 403 is shown only where the visitor can see the thing but not act on it
//! (a Developer deleting a file). Internal errors are logged and shown as a generic page.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use maud::html;
use packyard_core::ports::CatalogError;
use packyard_core::ApiError;

use crate::layout;

#[derive(Debug)]
pub enum WebError {
    NotFound,
    /// Seen but not allowed; the text says why.
    Forbidden(String),
    /// A request the page cannot take; the text says what was wrong.
    BadRequest(String),
    /// Too many failed sign-ins, or the server is busy checking passwords.
    TooManyRequests {
        text: String,
        /// `Retry-After`, in seconds.
        retry_after_secs: Option<u64>,
    },
    /// Sign in first, then come back to `redirect_to`.
    SignIn {
        redirect_to: String,
    },
    /// Logged, never shown.
    Internal(String),
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::NotFound => write!(f, "not found"),
            WebError::Forbidden(t) => write!(f, "forbidden: {t}"),
            WebError::BadRequest(t) => write!(f, "bad request: {t}"),
            WebError::TooManyRequests { text, .. } => write!(f, "too many requests: {text}"),
            WebError::SignIn { redirect_to } => write!(f, "sign in to see {redirect_to}"),
            WebError::Internal(t) => write!(f, "internal error: {t}"),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        let status = e.status();
        if status.is_server_error() {
            // ApiError logs its own chain when rendered; here it is only text for the log.
            return WebError::Internal(format!("{e:?}"));
        }
        let text = e.client_text().unwrap_or_default();
        match status {
            StatusCode::NOT_FOUND => WebError::NotFound,
            StatusCode::UNAUTHORIZED => WebError::NotFound,
            StatusCode::FORBIDDEN => WebError::Forbidden(text),
            StatusCode::TOO_MANY_REQUESTS => WebError::TooManyRequests {
                text,
                retry_after_secs: e.retry_after_secs(),
            },
            _ => WebError::BadRequest(text),
        }
    }
}

impl From<CatalogError> for WebError {
    fn from(e: CatalogError) -> Self {
        WebError::from(ApiError::from(e))
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::NotFound => not_found_page(),
            WebError::SignIn { redirect_to } => HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    packyard_core::redirect::location(&format!(
                        "/users/sign_in?redirect_to={}",
                        layout::encode_query(redirect_to)
                    )),
                ))
                .finish(),
            WebError::Forbidden(text) => problem(
                StatusCode::FORBIDDEN,
                "You are not allowed to do that",
                text,
            ),
            WebError::BadRequest(text) => {
                problem(StatusCode::BAD_REQUEST, "That did not work", text)
            }
            WebError::TooManyRequests {
                text,
                retry_after_secs,
            } => {
                let mut resp = problem(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", text);
                if let Some(secs) = retry_after_secs {
                    if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                        resp.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                }
                resp
            }
            WebError::Internal(text) => {
                tracing::error!(error = %text, "web page failed");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not show this page. Try again later.",
                )
            }
        }
    }
}

fn problem(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let body = html! {
        h1 { (title) }
        @if !text.is_empty() { p { (text) } }
        p { a href="/explore" { "Explore projects and groups" } }
    };
    layout::respond(status, layout::bare_page(title, body))
}

/// The 404 page: also what the visitor gets for anything they may not see.
pub fn not_found_page() -> HttpResponse {
    let body = html! {
        h1 { "Page not found" }
        p { "The page could not be found or you don't have permission to view it." }
        p {
            "If you think it should be here, "
            a href="/users/sign_in" { "sign in" }
            " or ask someone with access for the link."
        }
        p { a href="/explore" { "Explore projects and groups" } }
    };
    layout::respond(
        StatusCode::NOT_FOUND,
        layout::bare_page("Page not found", body),
    )
}
