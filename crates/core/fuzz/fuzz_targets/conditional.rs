//! The conditional-request rules on any header bytes: `If-None-Match` lists and
//! `If-Modified-Since` dates from a client are parsed without a panic, and a tag listed
//! verbatim always matches (the weak comparison), whatever surrounds it.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use packyard_core::conditional::{if_none_match_matches, not_modified_by};

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (head, tail) = data.split_at(split);
    let list = String::from_utf8_lossy(tail);
    let tag = String::from_utf8_lossy(head).replace('"', "");
    let etag = format!("\"{tag}\"");
    let _ = if_none_match_matches(&list, Some(&etag));
    let _ = if_none_match_matches(&list, None);
    // Our own tag, weak or strong, first in a list, always matches.
    assert!(if_none_match_matches(&format!("W/{etag}, {list}"), Some(&etag)));
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(tail) {
        headers.append(HeaderName::from_static("if-modified-since"), v.clone());
        let _ = not_modified_by(&headers, Some(&etag), Some(i64::from(split as u8) * 1_000_000));
        headers.append(HeaderName::from_static("if-none-match"), v);
        let _ = not_modified_by(&headers, Some(&etag), None);
    }
});
