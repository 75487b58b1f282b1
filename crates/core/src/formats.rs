//! The formats compiled into this server: the one list the API, the web UI, the protection
//! rules and the group settings read (`Registry::formats`).

use std::sync::Arc;

use crate::format::{DuplicateRule, PackageFormat};

/// The installed formats, in registration order.
#[derive(Clone, Default)]
pub struct Formats {
    list: Vec<Arc<dyn PackageFormat>>,
}

impl std::fmt::Debug for Formats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|x| x.id().0))
            .finish()
    }
}

impl Formats {
    pub fn new(list: Vec<Arc<dyn PackageFormat>>) -> Self {
        Formats { list }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn PackageFormat>> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The list, to hand to code that wants its own copy (the web UI, route mounting).
    pub fn to_vec(&self) -> Vec<Arc<dyn PackageFormat>> {
        self.list.clone()
    }

    /// The format stored under this id (the `packages.format` column).
    pub fn by_id(&self, id: &str) -> Option<&Arc<dyn PackageFormat>> {
        self.list.iter().find(|f| f.id().0 == id)
    }

    /// The format GitLab calls `package_type`.
    pub fn by_package_type(&self, package_type: &str) -> Option<&Arc<dyn PackageFormat>> {
        self.list
            .iter()
            .find(|f| f.gitlab_package_type() == package_type)
    }

    /// What a client may name a format by: its GitLab `package_type`, or its id.
    pub fn lookup(&self, name: &str) -> Option<&Arc<dyn PackageFormat>> {
        self.by_package_type(name).or_else(|| self.by_id(name))
    }

    /// The installed formats that have GitLab's duplicate setting, with their rule.
    pub fn with_duplicate_setting(
        &self,
    ) -> impl Iterator<Item = (&Arc<dyn PackageFormat>, DuplicateRule)> {
        self.list
            .iter()
            .filter_map(|f| f.duplicate_rule().map(|r| (f, r)))
    }

    /// `(GitLab package type, allowed by default)` of every format with the duplicate
    /// setting: the settings are named after the package type, as GitLab names them
    /// (`terraform_module_duplicates_allowed`).
    pub fn duplicate_defaults(&self) -> Vec<(&'static str, bool)> {
        self.with_duplicate_setting()
            .map(|(f, r)| (f.gitlab_package_type(), r.allowed_by_default))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{FormatError, Snippet, SnippetContext};
    use crate::model::FormatId;

    struct Fake(&'static str, &'static str, Option<bool>);
    impl PackageFormat for Fake {
        fn id(&self) -> FormatId {
            FormatId(self.0)
        }
        fn display_name(&self) -> &'static str {
            "Fake"
        }
        fn normalize_name(&self, name: &str) -> Result<String, FormatError> {
            Ok(name.into())
        }
        fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
            a.cmp(b)
        }
        fn configure_project(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
        fn snippets(&self, _ctx: &SnippetContext<'_>) -> Vec<Snippet> {
            Vec::new()
        }
        fn gitlab_package_type(&self) -> &'static str {
            self.1
        }
        fn duplicate_rule(&self) -> Option<DuplicateRule> {
            self.2.map(DuplicateRule::same_file_name)
        }
    }

    #[test]
    fn looks_up_by_id_and_by_gitlab_name() {
        let formats = Formats::new(vec![
            Arc::new(Fake("files", "files", Some(true))),
            Arc::new(Fake("terraform", "terraform_module", Some(false))),
            Arc::new(Fake("plain", "plain", None)),
        ]);
        assert_eq!(
            formats.lookup("terraform_module").map(|f| f.id().0),
            Some("terraform")
        );
        assert_eq!(
            formats.lookup("terraform").map(|f| f.id().0),
            Some("terraform")
        );
        assert!(formats.by_package_type("terraform").is_none());
        assert!(formats.lookup("maven").is_none());
        assert_eq!(
            formats.duplicate_defaults(),
            vec![("files", true), ("terraform_module", false)]
        );
        assert_eq!(format!("{formats:?}"), r#"["files", "terraform", "plain"]"#);
    }
}
