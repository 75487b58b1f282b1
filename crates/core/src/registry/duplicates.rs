//! The duplicate rule of a publish: the format's own (`PublishRequest::duplicates`), or, for
//! a format with GitLab's duplicate setting (`PackageFormat::duplicate_rule`), the group's
//! `<package type>_duplicates_allowed` / `<package type>_duplicate_exception_regex` (named
//! after the format's GitLab package type). Decided here, in the
//! Registry's commit, so that no format can forget it; the catalog then checks the policy in
//! the publish transaction.

use super::*;
use crate::cleanup::duplicate_allowed;

impl Registry {
    /// The policy the catalog applies to this publish.
    pub(super) async fn duplicate_policy(
        &self,
        project: &Project,
        req: &PublishRequest,
    ) -> Result<DuplicatePolicy, ApiError> {
        let Some((setting_name, rule)) = self
            .formats
            .by_id(req.format.0)
            .and_then(|f| f.duplicate_rule().map(|r| (f.gitlab_package_type(), r)))
        else {
            return Ok(req.duplicates.clone());
        };
        if rule
            .always_allowed
            .is_some_and(|exempt| exempt(&req.version))
        {
            return Ok(DuplicatePolicy::Allow);
        }
        let settings = self.project_duplicate_settings(project).await?;
        let setting = settings.setting_or(setting_name, rule.allowed_by_default);
        if duplicate_allowed(&setting, &req.name, &req.version) {
            Ok(DuplicatePolicy::Allow)
        } else {
            Ok(rule.reject)
        }
    }

    /// The duplicate settings of the installed formats that apply to a project: its nearest
    /// group's (a personal namespace has the defaults).
    pub async fn project_duplicate_settings(
        &self,
        project: &Project,
    ) -> Result<NamespacePackageSettings, ApiError> {
        let defaults = self.formats.duplicate_defaults();
        Ok(match project.namespace {
            Namespace::Group(g) => match self.catalog.group_package_settings_document(g).await? {
                Some(doc) => NamespacePackageSettings::from_json(&doc, &defaults),
                None => NamespacePackageSettings::from_json(&serde_json::Value::Null, &defaults),
            },
            Namespace::User(_) => {
                NamespacePackageSettings::from_json(&serde_json::Value::Null, &defaults)
            }
        })
    }
}
