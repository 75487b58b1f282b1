//! GitLab offset pagination (spec §2.7): `page`/`per_page` in, `x-*` and `Link` headers out.

use crate::error::ApiError;
use crate::model::Page;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
/// Above this many rows GitLab leaves out the totals.
const TOTALS_LIMIT: i64 = 10_000;

/// Reads `page` and `per_page` (defaults 1 and 20; `per_page` capped at 100).
pub fn page_from(page: Option<&str>, per_page: Option<&str>) -> Result<Page, ApiError> {
    let parse = |name: &str, v: Option<&str>, default: i64| -> Result<i64, ApiError> {
        match v {
            None | Some("") => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::invalid_param(name)),
        }
    };
    Ok(Page {
        page: parse("page", page, 1)?,
        per_page: parse("per_page", per_page, DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
    })
}

/// The headers for one page of `total` rows; `url` is the absolute request URL, to which
/// `page`/`per_page` are appended for `Link` (any already in its query are dropped, and so
/// are credential parameters such as `private_token`: a response never echoes a secret).
pub fn headers(page: Page, total: i64, url: &str) -> Vec<(&'static str, String)> {
    let clean;
    let url = match url.split_once('?') {
        Some((base, query)) => {
            let rest = crate::credentials::query_without(query, &["page", "per_page"]);
            clean = if rest.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{rest}")
            };
            clean.as_str()
        }
        None => url,
    };
    let total_pages = ((total + page.per_page - 1) / page.per_page).max(1);
    let next = (page.page < total_pages).then(|| page.page + 1);
    let prev = (page.page > 1).then(|| (page.page - 1).min(total_pages));
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let sep = if url.contains('?') { '&' } else { '?' };
    let link = |p: i64, rel: &str| {
        format!(
            "<{url}{sep}page={p}&per_page={}>; rel=\"{rel}\"",
            page.per_page
        )
    };
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(link(p, "prev"));
    }
    if let Some(n) = next {
        links.push(link(n, "next"));
    }
    links.push(link(1, "first"));
    let big = total > TOTALS_LIMIT;
    if !big {
        links.push(link(total_pages, "last"));
    }
    let mut h = vec![
        ("x-page", page.page.to_string()),
        ("x-per-page", page.per_page.to_string()),
        ("x-next-page", opt(next)),
        ("x-prev-page", opt(prev)),
        ("link", links.join(", ")),
    ];
    if !big {
        h.push(("x-total", total.to_string()));
        h.push(("x-total-pages", total_pages.to_string()));
    }
    h
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_caps() {
        assert_eq!(
            page_from(None, None).unwrap(),
            Page {
                page: 1,
                per_page: 20
            }
        );
        assert_eq!(
            page_from(Some("3"), Some("500")).unwrap(),
            Page {
                page: 3,
                per_page: 100
            }
        );
        assert!(page_from(Some("0"), None).is_err());
        assert!(page_from(Some("x"), None).is_err());
    }

    #[test]
    fn middle_page_links_both_ways_and_counts() {
        let h = headers(
            Page {
                page: 2,
                per_page: 10,
            },
            35,
            "http://h/api/v4/projects/1/packages",
        );
        let get = |k: &str| {
            h.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("x-total"), "35");
        assert_eq!(get("x-total-pages"), "4");
        assert_eq!(get("x-next-page"), "3");
        assert_eq!(get("x-prev-page"), "1");
        assert!(get("link")
            .contains("<http://h/api/v4/projects/1/packages?page=3&per_page=10>; rel=\"next\""));
        assert!(get("link").contains("rel=\"last\""));
    }

    #[test]
    fn links_never_carry_credentials() {
        let h = headers(
            Page {
                page: 1,
                per_page: 10,
            },
            35,
            "http://h/x?private_token=glpat-secret&sort=asc&job_token=glcbt-s&page=1",
        );
        let link = &h.iter().find(|(k, _)| *k == "link").unwrap().1;
        assert!(
            !link.contains("secret") && !link.contains("glcbt"),
            "{link}"
        );
        assert!(link.contains("<http://h/x?sort=asc&page=2&per_page=10>; rel=\"next\""));
    }

    #[test]
    fn last_page_has_no_next_and_huge_totals_are_left_out() {
        let h = headers(
            Page {
                page: 4,
                per_page: 10,
            },
            35,
            "http://h/x?a=1",
        );
        assert!(h.iter().any(|(k, v)| *k == "x-next-page" && v.is_empty()));
        let big = headers(
            Page {
                page: 1,
                per_page: 20,
            },
            20_000,
            "http://h/x",
        );
        assert!(!big.iter().any(|(k, _)| *k == "x-total"));
    }
}
