//! Request handlers, one file per endpoint group: `instance` (version, current user),
//! `projects` (project, CI job tokens), `packages` (the Packages API,
//! <https://docs.gitlab.com/api/packages/>).

pub mod instance;
pub mod packages;
pub mod projects;

/// The raw query string without `page` and `per_page`, for the `Link` header URLs that
/// `pagination::headers` appends them to. Pairs keep their original encoding.
pub(crate) fn query_without_paging(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && key != "page" && key != "per_page"
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_params_are_dropped_and_the_rest_kept_verbatim() {
        assert_eq!(
            query_without_paging("page=2&package_name=a%20b&per_page=5&&sort=desc"),
            "package_name=a%20b&sort=desc"
        );
        assert_eq!(query_without_paging(""), "");
    }
}
