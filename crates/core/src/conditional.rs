//! Conditional GET and HEAD for everything a format serves (derived documents and file
//! downloads), so every route revalidates the same way (RFC 9110,
//! <https://www.rfc-editor.org/rfc/rfc9110#section-13>):
//!
//! - `If-None-Match` (§13.1.2) is a list of entity tags or `*`, possibly over several header
//!   lines; a tag matches with the *weak* comparison (`W/"x"` matches `"x"` and `W/"x"`),
//!   and `*` matches any representation that exists. A match answers 304.
//! - `If-Modified-Since` (§13.1.3) counts only without `If-None-Match`, only when it is one
//!   valid HTTP-date (any of the three formats of §5.6.7), and only when the representation
//!   has a last modification time: not changed since then answers 304.
//! - Only GET and HEAD are answered 304 (other methods never reach these helpers).
//! - A 304 carries the validators and caching headers a 200 would (§15.4.5), no body and no
//!   representation metadata (`Content-Type`, `Content-Disposition`).
//! - HEAD answers the headers of the GET, `Content-Length` included, and no body (§9.3.2).
//!   The body is not sent even under `actix_web::test`, which does not strip it.
//!
//! Entry points: [`respond`] builds the whole answer; [`not_modified`] is the decision alone.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, HeaderMap, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;

use crate::model::Millis;

/// The request is a HEAD.
pub fn is_head(req: &HttpRequest) -> bool {
    req.method() == Method::HEAD
}

/// Whether a GET or HEAD of the representation with these validators is answered 304.
/// `etag` is the representation's entity tag as sent in `ETag` (quoted, optionally `W/`).
pub fn not_modified(req: &HttpRequest, etag: Option<&str>, last_modified: Option<Millis>) -> bool {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return false;
    }
    not_modified_by(req.headers(), etag, last_modified)
}

/// [`not_modified`] on the request headers alone (the method is the caller's concern).
pub fn not_modified_by(
    headers: &HeaderMap,
    etag: Option<&str>,
    last_modified: Option<Millis>,
) -> bool {
    let mut lists = headers.get_all(header::IF_NONE_MATCH).peekable();
    if lists.peek().is_some() {
        // Present: If-Modified-Since is ignored, whatever the list holds.
        return lists.any(|v| {
            v.to_str()
                .is_ok_and(|list| if_none_match_matches(list, etag))
        });
    }
    let mut since = headers.get_all(header::IF_MODIFIED_SINCE);
    let (Some(value), None) = (since.next(), since.next()) else {
        return false;
    };
    match (
        value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<HttpDate>().ok()),
        last_modified,
    ) {
        (Some(date), Some(changed)) => unchanged_since(changed, date.into()),
        _ => false,
    }
}

/// HTTP dates have whole seconds: a change within the second of `since` is not newer.
fn unchanged_since(changed: Millis, since: SystemTime) -> bool {
    match since.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => changed.div_euclid(1000) <= i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => false,
    }
}

/// Whether one `If-None-Match` field value (`*` or a comma-separated list of entity tags)
/// matches `etag` with the weak comparison. A representation without an entity tag matches
/// only `*`. Parsing stops at the first malformed member; what came before still counts.
pub fn if_none_match_matches(list: &str, etag: Option<&str>) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let Some(ours) = etag.and_then(opaque_tag) else {
        return false;
    };
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            return false;
        }
        let unweak = rest.strip_prefix("W/").unwrap_or(rest);
        // An entity tag is DQUOTE *etagc DQUOTE; etagc may be a comma, so split on quotes.
        let Some(body) = unweak.strip_prefix('"') else {
            return false;
        };
        let Some(end) = body.find('"') else {
            return false;
        };
        if &body[..end] == ours {
            return true;
        }
        rest = &body[end + 1..];
    }
}

/// The opaque part of an entity tag (`W/"abc"` and `"abc"` give `abc`).
fn opaque_tag(etag: &str) -> Option<&str> {
    let t = etag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"')?.strip_suffix('"')
}

/// `Last-Modified` text of a time (IMF-fixdate), `None` before the epoch.
pub fn http_date(at: Millis) -> Option<String> {
    let secs = u64::try_from(at.div_euclid(1000)).ok()?;
    Some(HttpDate::from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).to_string())
}

/// A body that declares a length and sends nothing: the answer to a HEAD.
#[derive(Debug, Clone, Copy)]
pub struct HeadBody(pub Option<u64>);

impl MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        match self.0 {
            Some(n) => BodySize::Sized(n),
            None => BodySize::None,
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// Finishes the answer to a GET or HEAD of one representation. `builder` carries the status
/// and every header of the full answer (`ETag`, `Last-Modified`, `Cache-Control`,
/// `Content-Type`, ...); `etag` and `last_modified` are the same validators, for the decision.
/// Answers 304 with the validators and caching headers when the request's preconditions say
/// the client's copy is current, the headers without the body for a HEAD, else the body.
pub fn respond<B>(
    req: &HttpRequest,
    mut builder: HttpResponseBuilder,
    etag: Option<&str>,
    last_modified: Option<Millis>,
    body: B,
) -> HttpResponse
where
    B: MessageBody + 'static,
{
    if not_modified(req, etag, last_modified) {
        let mut resp = builder.status(StatusCode::NOT_MODIFIED).finish();
        let headers = resp.headers_mut();
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_DISPOSITION,
            header::CONTENT_RANGE,
        ] {
            headers.remove(name);
        }
        return resp;
    }
    if is_head(req) {
        let length = match body.size() {
            BodySize::Sized(n) => Some(n),
            BodySize::None | BodySize::Stream => None,
        };
        return builder.body(HeadBody(length));
    }
    builder.body(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const TAG: Option<&str> = Some("\"abc\"");
    /// Tue, 14 Nov 2023 22:13:20 GMT, and half a second later.
    const AT: Millis = 1_700_000_000_000;

    fn req(headers: &[(&str, &str)]) -> HttpRequest {
        let mut r = TestRequest::get();
        for (k, v) in headers {
            r = r.append_header((*k, *v));
        }
        r.to_http_request()
    }

    fn check(headers: &[(&str, &str)], etag: Option<&str>, lm: Option<Millis>) -> bool {
        not_modified(&req(headers), etag, lm)
    }

    #[test]
    fn a_strong_tag_in_if_none_match_answers_304() {
        assert!(check(&[("If-None-Match", "\"abc\"")], TAG, None));
        assert!(!check(&[("If-None-Match", "\"abd\"")], TAG, None));
    }

    #[test]
    fn weak_comparison_matches_weak_tags_either_side() {
        assert!(check(&[("If-None-Match", "W/\"abc\"")], TAG, None));
        assert!(check(
            &[("If-None-Match", "\"abc\"")],
            Some("W/\"abc\""),
            None
        ));
        assert!(check(
            &[("If-None-Match", "W/\"abc\"")],
            Some("W/\"abc\""),
            None
        ));
        assert!(!check(&[("If-None-Match", "W/\"ab\"")], TAG, None));
    }

    #[test]
    fn any_member_of_a_list_or_of_several_lines_matches() {
        assert!(check(&[("If-None-Match", "\"x\", W/\"abc\"")], TAG, None));
        assert!(check(&[("If-None-Match", "\"x\",\"abc\"")], TAG, None));
        assert!(check(
            &[("If-None-Match", "\"x\""), ("If-None-Match", "\"abc\"")],
            TAG,
            None
        ));
        assert!(!check(&[("If-None-Match", "\"x\", \"y\"")], TAG, None));
        // A comma inside a tag is part of the tag.
        assert!(check(
            &[("If-None-Match", "\"a,b\"")],
            Some("\"a,b\""),
            None
        ));
        assert!(!check(&[("If-None-Match", "\"a,b\"")], Some("\"a\""), None));
    }

    #[test]
    fn star_matches_any_existing_representation() {
        assert!(check(&[("If-None-Match", "*")], TAG, None));
        assert!(check(&[("If-None-Match", " * ")], None, None));
    }

    #[test]
    fn malformed_lists_do_not_match() {
        assert!(!check(&[("If-None-Match", "abc")], TAG, None));
        assert!(!check(&[("If-None-Match", "\"abc")], TAG, None));
        assert!(!check(&[("If-None-Match", "")], TAG, None));
        // A representation without a tag matches nothing but `*`.
        assert!(!check(&[("If-None-Match", "\"abc\"")], None, None));
    }

    #[test]
    fn if_modified_since_answers_304_when_unchanged_since() {
        let lm = Some(AT + 500);
        assert!(check(
            &[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")],
            TAG,
            lm
        ));
        assert!(check(
            &[("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT")],
            TAG,
            lm
        ));
        assert!(!check(
            &[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")],
            TAG,
            lm
        ));
    }

    #[test]
    fn if_modified_since_accepts_the_obsolete_date_formats() {
        let lm = Some(AT);
        assert!(check(
            &[("If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT")],
            TAG,
            lm
        ));
        assert!(check(
            &[("If-Modified-Since", "Tue Nov 14 22:13:20 2023")],
            TAG,
            lm
        ));
    }

    #[test]
    fn if_modified_since_is_ignored_when_invalid_repeated_or_without_a_date() {
        let since = ("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT");
        assert!(!check(&[since], TAG, None));
        assert!(!check(&[("If-Modified-Since", "yesterday")], TAG, Some(AT)));
        assert!(!check(&[since, since], TAG, Some(AT)));
    }

    #[test]
    fn if_none_match_overrides_if_modified_since() {
        let since = ("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT");
        assert!(!check(
            &[("If-None-Match", "\"old\""), since],
            TAG,
            Some(AT)
        ));
        assert!(check(
            &[
                ("If-None-Match", "\"abc\""),
                ("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")
            ],
            TAG,
            Some(AT)
        ));
    }

    #[test]
    fn only_get_and_head_are_answered_304() {
        let r = TestRequest::post()
            .insert_header(("If-None-Match", "\"abc\""))
            .to_http_request();
        assert!(!not_modified(&r, TAG, None));
        let r = TestRequest::default()
            .method(Method::HEAD)
            .insert_header(("If-None-Match", "\"abc\""))
            .to_http_request();
        assert!(not_modified(&r, TAG, None));
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(
            http_date(AT + 999).as_deref(),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
        assert_eq!(http_date(-1), None);
    }

    fn builder() -> HttpResponseBuilder {
        let mut b = HttpResponse::Ok();
        b.insert_header((header::ETAG, "\"abc\""))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .insert_header((header::CONTENT_DISPOSITION, "attachment"));
        b
    }

    async fn body_of(resp: HttpResponse) -> Bytes {
        actix_web::body::to_bytes(resp.into_body()).await.unwrap()
    }

    #[actix_web::test]
    async fn a_304_keeps_validators_and_drops_the_body_and_its_metadata() {
        let r = req(&[("If-None-Match", "W/\"abc\"")]);
        let resp = respond(&r, builder(), TAG, None, Bytes::from_static(b"hello"));
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
        let h = resp.headers();
        assert_eq!(h.get(header::ETAG).unwrap(), "\"abc\"");
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-cache");
        assert!(h.get(header::CONTENT_TYPE).is_none());
        assert!(h.get(header::CONTENT_DISPOSITION).is_none());
        assert!(body_of(resp).await.is_empty());
    }

    #[actix_web::test]
    async fn head_sends_the_headers_and_length_of_get_without_the_body() {
        let r = TestRequest::default()
            .method(Method::HEAD)
            .to_http_request();
        let resp = respond(&r, builder(), TAG, None, Bytes::from_static(b"hello"));
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/plain"
        );
        assert_eq!(resp.headers().get(header::ETAG).unwrap(), "\"abc\"");
        assert_eq!(resp.body().size(), BodySize::Sized(5));
        assert!(body_of(resp).await.is_empty());
    }

    #[actix_web::test]
    async fn get_without_preconditions_sends_the_body() {
        let resp = respond(
            &req(&[]),
            builder(),
            TAG,
            None,
            Bytes::from_static(b"hello"),
        );
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(body_of(resp).await, Bytes::from_static(b"hello"));
    }
}
