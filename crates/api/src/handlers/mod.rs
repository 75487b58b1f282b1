//! Request handlers, one file per endpoint group: `instance` (version, current user),
//! `projects` (project, CI job tokens), `packages` (the Packages API,
//! <https://docs.gitlab.com/api/packages/>).

pub mod cleanup;
pub mod deploy_tokens;
pub mod group_packages;
pub mod groups;
pub mod instance;
pub mod job_token_scope;
pub mod members;
pub(crate) mod package_params;
pub mod package_settings;
pub mod packages;
pub(crate) mod params;
pub mod projects;
pub mod protection;
pub mod settings_instance;
pub mod tokens;
pub mod users;

/// The raw query string without `page`, `per_page` and any credential (`private_token`...),
/// for the `Link` header URLs that `pagination::headers` appends them to. Pairs keep their
/// original encoding.
pub(crate) fn query_without_paging(query: &str) -> String {
    packyard_core::credentials::query_without(query, &["page", "per_page"])
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
        assert_eq!(
            query_without_paging("private_token=glpat-x&job_token=y&sort=desc"),
            "sort=desc",
            "credentials are never echoed"
        );
    }
}
