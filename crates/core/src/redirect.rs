//! Redirects: the one check for a redirect target that came with a request, and the one way
//! to turn any target into a `Location` header value.
//!
//! Browsers are lenient with `Location` (<https://url.spec.whatwg.org/#url-parsing>): they
//! drop tabs and newlines, read `\` as `/`, and treat `//host/...` as another site. So a
//! `redirect_to=/%09/evil.example/x` that looks like a path lands on `//evil.example`. A
//! target from a request is accepted only as [`local_path`] says; every other `Location`
//! (a presigned URL, a path built from a project name) goes through [`location`], which
//! cannot fail, so a value that cannot be a header never turns into a 500.

use actix_web::http::header::HeaderValue;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// `target`, when it is a path on this site: it starts with exactly one `/`, the next
/// character is neither `/` nor `\`, and it holds only visible ASCII (no whitespace, no
/// control character, no `\` anywhere; non-ASCII arrives percent-encoded from a browser).
/// Anything else is `None`: the caller goes to its default page.
pub fn local_path(target: &str) -> Option<&str> {
    let mut bytes = target.bytes();
    let starts_well = bytes.next() == Some(b'/') && !matches!(bytes.next(), Some(b'/' | b'\\'));
    let visible = target.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    (starts_well && visible).then_some(target)
}

/// What [`location`] percent-encodes: controls, space, and what is not ASCII (by UTF-8
/// bytes, which `utf8_percent_encode` encodes past `CONTROLS`).
const NOT_IN_A_HEADER: &AsciiSet = &CONTROLS.add(b' ');

/// A `Location` value for `target`, percent-encoding whatever a header cannot carry
/// (controls, whitespace, non-ASCII), so that building it never fails.
pub fn location(target: &str) -> HeaderValue {
    let encoded = utf8_percent_encode(target, NOT_IN_A_HEADER).to_string();
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_path_on_this_site_is_a_local_redirect() {
        for good in ["/", "/explore", "/acme/-/packages?page=2&q=a%20b", "/a/b#c"] {
            assert_eq!(local_path(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "explore",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/x\r\nSet-Cookie: a=b",
            "/x\n",
            " /x",
            "/x y",
            "/x\u{7f}",
            "/é",
            "/a\\b",
            "http://evil.example/",
            "https:/evil.example",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn any_target_becomes_a_valid_header_value() {
        assert_eq!(location("/explore?x=1"), "/explore?x=1");
        assert_eq!(location("/a b\r\nX: y"), "/a%20b%0D%0AX:%20y");
        assert_eq!(location("/gr\u{fc}n"), "/gr%C3%BCn");
        assert_eq!(
            location("https://s3.example/b/k?X-Amz-Signature=ab%2F"),
            "https://s3.example/b/k?X-Amz-Signature=ab%2F"
        );
    }
}
