//! Package cleanup policies and group package settings: GitLab's GraphQL-only
//! `packagesCleanupPolicy` and `packageSettings`, offered here as REST extensions
//! (<https://docs.gitlab.com/user/packages/package_registry/reduce_package_registry_storage/#cleanup-policy>,
//! <https://docs.gitlab.com/user/packages/package_registry/supported_functionality/#allow-or-prevent-duplicates>).
//!
//! A cleanup policy keeps the newest N files of each file name in each package of a project
//! and deletes the older duplicates. `packyard serve` runs due policies on a schedule
//! ([`Registry::run_due_cleanup`]); `packyard cleanup` runs every active one now. Processes
//! never run one policy twice for one slot: each run first claims it by moving its
//! `next_run_at` in the database (compare-and-set), so only one process wins.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::ApiError;
use crate::model::*;
use crate::registry::{now_millis, Registry};

/// What a cleanup pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CleanupReport {
    /// Policies that ran.
    pub policies: u64,
    /// Package files deleted (their blobs go at the next `gc`).
    pub deleted_files: u64,
    pub deleted_bytes: u64,
}

/// Policies read per batch.
const BATCH: i64 = 100;

/// Parses GitLab's `keep_n_duplicated_package_files`: `all` (off) or 1, 10, 20, 30, 40, 50.
pub fn parse_keep(value: &str) -> Option<Option<i64>> {
    match value.trim() {
        "all" => Some(None),
        v => v
            .parse::<i64>()
            .ok()
            .filter(|n| CleanupPolicy::KEEP_VALUES.contains(n))
            .map(Some),
    }
}

/// GitLab's classic duplicate rule: allowed when the setting allows duplicates, or when the
/// package name or version matches the exception regex (anchored at both ends). An invalid
/// regex (refused when set) matches nothing.
pub fn duplicate_allowed(setting: &DuplicateSetting, name: &str, version: &str) -> bool {
    if setting.allowed {
        return true;
    }
    if setting.exception_regex.is_empty() {
        return false;
    }
    match regex::Regex::new(&format!(r"\A(?:{})\z", setting.exception_regex)) {
        Ok(re) => re.is_match(name) || re.is_match(version),
        Err(_) => false,
    }
}

/// Checks a `<format>_duplicate_exception_regex` given by a user; the reason when refused.
pub fn validate_exception_regex(re: &str) -> Result<(), &'static str> {
    if re.len() > 255 {
        return Err("is too long (maximum is 255 characters)");
    }
    regex::Regex::new(&format!(r"\A(?:{re})\z"))
        .map(drop)
        .map_err(|_| "is invalid")
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Registry {
    /// A project's cleanup policy; `all` (off) when it never set one.
    pub async fn cleanup_policy(&self, project: &Project) -> Result<CleanupPolicy, ApiError> {
        Ok(self
            .catalog()
            .cleanup_policy(project.id)
            .await?
            .unwrap_or(CleanupPolicy {
                project_id: project.id,
                keep_n_duplicated_package_files: None,
                next_run_at: None,
                updated_at: project.created_at,
            }))
    }

    /// Sets how many duplicated files the project keeps (`None` = all, off). An active policy
    /// is due at once: the next scheduled pass runs it.
    pub async fn set_cleanup_policy(
        &self,
        project: &Project,
        keep: Option<i64>,
    ) -> Result<CleanupPolicy, ApiError> {
        let next = keep.map(|_| now_millis());
        Ok(self
            .catalog()
            .set_cleanup_policy(project.id, keep, next)
            .await?)
    }

    /// Runs the policies due by now, each claimed for the next `interval`.
    pub async fn run_due_cleanup(&self, interval: Duration) -> Result<CleanupReport, ApiError> {
        self.run_cleanup_until(now_millis(), interval).await
    }

    /// Runs every active policy now (`packyard cleanup`), whatever its schedule.
    pub async fn run_all_cleanup(&self, interval: Duration) -> Result<CleanupReport, ApiError> {
        let horizon = now_millis().saturating_add(millis(interval));
        self.run_cleanup_until(horizon, interval).await
    }

    /// Runs the policies whose next run is at or before `horizon`; each run moves its next
    /// run past the horizon, so the loop ends.
    async fn run_cleanup_until(
        &self,
        horizon: Millis,
        interval: Duration,
    ) -> Result<CleanupReport, ApiError> {
        let mut report = CleanupReport::default();
        loop {
            let due = self.catalog().due_cleanup_policies(horizon, BATCH).await?;
            if due.is_empty() {
                return Ok(report);
            }
            for policy in due {
                let (Some(keep), Some(expected)) =
                    (policy.keep_n_duplicated_package_files, policy.next_run_at)
                else {
                    continue;
                };
                let next = now_millis()
                    .saturating_add(millis(interval))
                    .max(horizon.saturating_add(1));
                if !self
                    .catalog()
                    .claim_cleanup_policy(policy.project_id, expected, next)
                    .await?
                {
                    continue;
                }
                let mut deleted = self
                    .catalog()
                    .delete_duplicated_package_files(policy.project_id, keep)
                    .await?;
                deleted.extend(self.delete_old_builds(policy.project_id, keep).await?);
                report.policies += 1;
                report.deleted_files += deleted.len() as u64;
                report.deleted_bytes += deleted
                    .iter()
                    .map(|f| u64::try_from(f.size).unwrap_or(0))
                    .sum::<u64>();
                if !deleted.is_empty() {
                    tracing::info!(
                        project = policy.project_id.0,
                        files = deleted.len(),
                        "cleanup policy deleted duplicated package files"
                    );
                }
            }
        }
    }

    /// Keeps the newest `keep` builds of each version of the formats that store builds
    /// under distinct file names ([`crate::PackageFormat::file_build`]: Maven SNAPSHOTs) in
    /// `project`, newest by each build's newest file, and deletes the files of older builds;
    /// returns the deleted files. Reads the format's packages a page at a time.
    async fn delete_old_builds(
        &self,
        project: ProjectId,
        keep: i64,
    ) -> Result<Vec<PackageFile>, ApiError> {
        const PAGE: i64 = 100;
        let keep = usize::try_from(keep).unwrap_or(usize::MAX).max(1);
        let mut deleted = Vec::new();
        for format in self.formats().iter().filter(|f| f.has_builds()) {
            let filter = PackageFilter {
                format: Some(format.id().0.to_owned()),
                ..PackageFilter::default()
            };
            let mut page = 1;
            loop {
                let (packages, _) = self
                    .catalog()
                    .list_packages(
                        &[project],
                        &filter,
                        PackageOrder::CreatedAt,
                        false,
                        Page {
                            page,
                            per_page: PAGE,
                        },
                    )
                    .await?;
                let ids: Vec<PackageId> = packages.iter().map(|p| p.id).collect();
                let files = if ids.is_empty() {
                    Vec::new()
                } else {
                    self.catalog().package_files_of(&ids).await?
                };
                for package in &packages {
                    // Newest by (time, id) of the build's newest file: ids break ties of one millisecond.
                    let mut builds: HashMap<String, ((Millis, i64), Vec<&PackageFile>)> =
                        HashMap::new();
                    for f in files.iter().filter(|f| f.package_id == package.id) {
                        if let Some(build) = format.file_build(package, &f.file_name) {
                            let entry = builds.entry(build).or_insert(((0, 0), Vec::new()));
                            entry.0 = entry.0.max((f.created_at, f.id.0));
                            entry.1.push(f);
                        }
                    }
                    if builds.len() <= keep {
                        continue;
                    }
                    let mut newest_first: Vec<((Millis, i64), Vec<&PackageFile>)> =
                        builds.into_values().collect();
                    newest_first.sort_by_key(|b| std::cmp::Reverse(b.0));
                    for (_, old) in newest_first.into_iter().skip(keep) {
                        for f in old {
                            if self.catalog().delete_package_file(package.id, f.id).await? {
                                deleted.push(f.clone());
                            }
                        }
                    }
                }
                if (packages.len() as i64) < PAGE {
                    break;
                }
                page += 1;
            }
        }
        Ok(deleted)
    }

    /// A group's duplicate settings, one per installed format with GitLab's setting.
    pub async fn namespace_package_settings(
        &self,
        group: &Group,
    ) -> Result<NamespacePackageSettings, ApiError> {
        let doc = self
            .catalog()
            .group_package_settings_document(group.id)
            .await?
            .ok_or_else(|| ApiError::not_found("Group"))?;
        Ok(NamespacePackageSettings::from_json(
            &doc,
            &self.formats().duplicate_defaults(),
        ))
    }

    /// Stores a group's package settings. Keys of the stored document that are not these
    /// settings (another format's, one not compiled in now) are kept.
    pub async fn set_namespace_package_settings(
        &self,
        group: &Group,
        settings: &NamespacePackageSettings,
    ) -> Result<(), ApiError> {
        let mut doc = self
            .catalog()
            .group_package_settings_document(group.id)
            .await?
            .ok_or_else(|| ApiError::not_found("Group"))?;
        if !doc.is_object() {
            doc = serde_json::Value::Object(Default::default());
        }
        if let (Some(obj), serde_json::Value::Object(new)) =
            (doc.as_object_mut(), settings.to_json())
        {
            obj.extend(new);
        }
        Ok(self
            .catalog()
            .set_group_package_settings_document(group.id, &doc)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_accepts_gitlab_values_only() {
        assert_eq!(parse_keep("all"), Some(None));
        assert_eq!(parse_keep("10"), Some(Some(10)));
        assert_eq!(parse_keep("1"), Some(Some(1)));
        assert_eq!(parse_keep("2"), None);
        assert_eq!(parse_keep("0"), None);
        assert_eq!(parse_keep("-10"), None);
        assert_eq!(parse_keep("ten"), None);
    }

    #[test]
    fn duplicate_rule_is_allowed_or_exception() {
        let s = |allowed: bool, re: &str| DuplicateSetting {
            allowed,
            exception_regex: re.into(),
        };
        assert!(duplicate_allowed(&s(true, ""), "a", "1"));
        assert!(!duplicate_allowed(&s(false, ""), "a", "1"));
        assert!(duplicate_allowed(
            &s(false, ".*-SNAPSHOT"),
            "a",
            "1.0-SNAPSHOT"
        ));
        assert!(!duplicate_allowed(
            &s(false, "SNAPSHOT"),
            "a",
            "1.0-SNAPSHOT"
        ));
        assert!(!duplicate_allowed(&s(false, "("), "(", "("));
    }

    #[test]
    fn settings_document_round_trips_and_keeps_generic_field_names() {
        let defaults = [("generic", true), ("maven", false)];
        let mut s = NamespacePackageSettings::from_json(&serde_json::Value::Null, &defaults);
        assert!(s.setting_or("generic", false).allowed);
        assert!(!s.setting_or("maven", true).allowed);
        assert_eq!(s.formats.len(), 2, "only the formats given");
        if let Some(x) = s.formats.get_mut("generic") {
            x.allowed = false;
            x.exception_regex = "1\\..*".into();
        }
        let doc = s.to_json();
        assert_eq!(doc["generic_duplicates_allowed"], false);
        assert!(doc.get("pypi_duplicates_allowed").is_none());
        let old: PackageSettings = serde_json::from_value(doc.clone()).expect("superset");
        assert!(!old.generic_duplicates_allowed);
        assert_eq!(old.generic_duplicate_exception_regex, "1\\..*");
        assert_eq!(NamespacePackageSettings::from_json(&doc, &defaults), s);
    }
}
