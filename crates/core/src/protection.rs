//! Package protection rules (<https://docs.gitlab.com/user/packages/package_registry/package_protection_rules/>,
//! <https://docs.gitlab.com/api/project_packages_protection_rules/>).
//!
//! A rule names packages by a pattern (`*` matches any run of characters, compared
//! case-insensitively, as GitLab's `ILIKE`) and a package type, and sets the lowest role that
//! may push (`minimum_access_level_for_push`) or delete (`minimum_access_level_for_delete`)
//! them. The matching is pure and lives here; [`Registry::enforce_protection`] applies it to a
//! principal, and every package write of the `Registry` calls it for every format: `commit`,
//! tags, deprecations and metadata updates check the push level; `delete_package`,
//! `delete_package_file`, yank and un-yank the delete level.

use std::collections::HashMap;

use crate::error::{ApiError, RouteClass};
use crate::model::{
    AccessLevel, DeployTokenOwner, Group, GroupId, MemberSource, Namespace, Package, Project,
    ProjectId, ProtectionLevel, ProtectionRule, Visibility,
};
use crate::policy::{self, Action, Actor, ProjectAccessFacts, Refusal};
use crate::registry::{Principal, Registry};

/// What a rule guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    Push,
    Delete,
}

/// The longest pattern a rule may have (GitLab: 255).
pub const MAX_PATTERN_LEN: usize = 255;

/// The answer GitLab gives when a rule blocks a push or a delete.
pub fn protected_error() -> ApiError {
    ApiError::message(
        actix_web::http::StatusCode::FORBIDDEN,
        "403 Forbidden - Package protected.",
    )
}

/// Checks a pattern given by a user: not empty, not too long, no whitespace or control
/// characters. Returns the reason when it is refused.
pub fn validate_pattern(pattern: &str) -> Result<(), &'static str> {
    if pattern.trim().is_empty() {
        return Err("can't be blank");
    }
    if pattern.len() > MAX_PATTERN_LEN {
        return Err("is too long (maximum is 255 characters)");
    }
    if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("should be a valid package name with optional wildcard characters.");
    }
    Ok(())
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters (possibly
/// empty) and everything else is literal, ignoring case.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let n: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    // Greedy wildcard matching with one backtrack point: linear in practice, never
    // exponential.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The caller as a protection rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// An instance administrator: passes every rule.
    Admin,
    /// A user (or a job acting for one) with this effective role on the project.
    Member(Option<AccessLevel>),
    /// A deploy token (or anything without a role): blocked by every matching rule, whatever
    /// its levels.
    NoRole,
}

/// Whether `holder` reaches `level`.
pub fn reaches(holder: Holder, level: ProtectionLevel) -> bool {
    match holder {
        Holder::Admin => true,
        Holder::NoRole => false,
        Holder::Member(l) => match level {
            ProtectionLevel::Maintainer => l.is_some_and(|l| l >= AccessLevel::Maintainer),
            ProtectionLevel::Owner => l.is_some_and(|l| l >= AccessLevel::Owner),
            ProtectionLevel::Admin => false,
        },
    }
}

/// The first rule among `rules` that matches the package and that `holder` does not pass.
/// A caller without a role (a deploy token) is blocked by every matching rule, whatever its
/// levels, as GitLab's `CheckRuleExistenceService` does.
pub fn blocking_rule<'a>(
    rules: &'a [ProtectionRule],
    package_type: &str,
    names: &[&str],
    guarded: Guarded,
    holder: Holder,
) -> Option<&'a ProtectionRule> {
    rules.iter().find(|r| {
        let matches = r.package_type == package_type
            && names
                .iter()
                .any(|n| pattern_matches(&r.package_name_pattern, n));
        if !matches {
            return false;
        }
        if holder == Holder::NoRole {
            return true;
        }
        let level = match guarded {
            Guarded::Push => r.minimum_access_level_for_push,
            Guarded::Delete => r.minimum_access_level_for_delete,
        };
        level.is_some_and(|level| !reaches(holder, level))
    })
}

impl Registry {
    /// The caller's standing for protection rules on `project`.
    async fn protection_holder(
        &self,
        principal: &Principal,
        project: &Project,
    ) -> Result<Holder, ApiError> {
        let (actor, facts) = self.access_facts(principal, project).await?;
        Ok(match actor {
            Actor::User { is_admin: true, .. } | Actor::JobToken { is_admin: true, .. } => {
                Holder::Admin
            }
            Actor::User { .. } | Actor::JobToken { .. } => Holder::Member(facts.member_level),
            _ => Holder::NoRole,
        })
    }

    /// Refuses with 403 `Package protected.` when a rule of `project` guards the package
    /// `(package_type, name)` against `guarded` for this caller. `names` holds the name as
    /// given and its normalized form; a rule matching either applies. Costs one indexed
    /// query when the project has no rule for this type.
    pub async fn enforce_protection(
        &self,
        principal: &Principal,
        project: &Project,
        package_type: &str,
        names: &[&str],
        guarded: Guarded,
    ) -> Result<(), ApiError> {
        // Rules name a format by GitLab's `package_type`; callers pass the format's id.
        let package_type = self
            .formats()
            .by_id(package_type)
            .map_or(package_type, |f| f.gitlab_package_type());
        let rules = self
            .catalog()
            .protection_rules(project.id, Some(package_type))
            .await?;
        let candidates: Vec<ProtectionRule> = rules
            .into_iter()
            .filter(|r| {
                names
                    .iter()
                    .any(|n| pattern_matches(&r.package_name_pattern, n))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let holder = self.protection_holder(principal, project).await?;
        match blocking_rule(&candidates, package_type, names, guarded, holder) {
            Some(_) => Err(protected_error()),
            None => Ok(()),
        }
    }

    /// [`Registry::enforce_protection`] for deleting `package` (or one of its files).
    pub async fn enforce_delete_protection(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
    ) -> Result<(), ApiError> {
        self.enforce_protection(
            principal,
            project,
            &package.format,
            &[package.name.as_str(), package.normalized_name.as_str()],
            Guarded::Delete,
        )
        .await
    }
}

/// What a caller may do in one project of a group listing.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub project: Project,
    pub can_delete: bool,
}

impl Registry {
    /// The group `id` and, for every project in it and its subgroups whose packages
    /// `principal` may read, whether it may also delete them: the same decisions as
    /// `Registry::readable_projects_in_group` and `Registry::decide`, with the facts gathered
    /// in a fixed number of queries whatever the number of projects (group tree, projects,
    /// ancestors, instance settings, the user's memberships). Job tokens still cost one
    /// allowlist lookup per project. Refuses like `readable_projects_in_group`. With
    /// `RouteClass::Rest` (REST and web listings) a project counts only if the caller can
    /// also see it: "allow anyone to pull" opens package-manager routes only.
    pub async fn package_access_in_group(
        &self,
        principal: &Principal,
        id: &str,
        class: RouteClass,
    ) -> Result<(Group, Vec<ProjectAccess>), ApiError> {
        let refuse =
            || ApiError::from_refusal(Refusal::NotVisible, class, principal.is_anonymous());
        let group = self.find_group(id).await?.ok_or_else(refuse)?;
        let catalog = self.catalog();
        let tree = catalog.group_tree(group.id).await?;
        let projects = catalog.projects_in_group_tree(group.id).await?;
        let settings = catalog.instance_settings().await?;
        // Parent links of the tree and of the group's ancestors, for the chains below.
        let mut parent: HashMap<GroupId, Option<GroupId>> = HashMap::new();
        for g in catalog
            .group_ancestors(group.id)
            .await?
            .iter()
            .chain(tree.iter())
        {
            parent.insert(g.id, g.parent_id);
        }
        let chain = |start: GroupId| -> Vec<GroupId> {
            let mut out = Vec::new();
            let mut next = Some(start);
            while let Some(g) = next {
                if out.contains(&g) || out.len() > 100 {
                    break;
                }
                out.push(g);
                next = parent.get(&g).copied().flatten();
            }
            out
        };
        let user = principal.user().cloned();
        let levels: Vec<(MemberSource, AccessLevel)> = match &user {
            Some(u) => {
                let groups: Vec<GroupId> = parent.keys().copied().collect();
                let ids: Vec<ProjectId> = projects.iter().map(|p| p.id).collect();
                let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
                catalog.member_levels(u.id, &groups, &ids, &today).await?
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for project in projects {
            let groups = match project.namespace {
                Namespace::Group(g) => chain(g),
                Namespace::User(_) => Vec::new(),
            };
            let member_level = levels
                .iter()
                .filter(|(source, _)| match source {
                    MemberSource::Project(p) => *p == project.id,
                    MemberSource::Group(g) => groups.contains(g),
                })
                .map(|(_, l)| *l)
                .max();
            let actor = match principal {
                Principal::Anonymous => Actor::Anonymous,
                Principal::User { user, scopes } => Actor::User {
                    id: user.id,
                    is_admin: user.is_admin,
                    scopes: scopes.clone(),
                },
                Principal::Deploy(t) => {
                    let has = |s: &str| t.scopes.iter().any(|x| x == s);
                    Actor::DeployToken {
                        read: has("read_package_registry"),
                        write: has("write_package_registry"),
                        covers_project: match t.owner {
                            DeployTokenOwner::Project(p) => p == project.id,
                            DeployTokenOwner::Group(g) => groups.contains(&g),
                        },
                    }
                }
                Principal::Job { token, user } => Actor::JobToken {
                    user: user.id,
                    is_admin: user.is_admin,
                    allowed_on_project: token.project_id == project.id
                        || catalog
                            .job_token_allowed(project.id, token.project_id)
                            .await?,
                },
            };
            let facts = ProjectAccessFacts {
                visibility: project.visibility,
                registry_access: project.registry_access,
                allow_anyone_to_pull_option: settings.package_registry_allow_anyone_to_pull_option,
                member_level,
            };
            // "Allow anyone to pull" opens package-manager routes only: a REST or web
            // listing shows a project's packages to callers who can see the project
            // (`Registry::authorize_project`).
            let shown = class != RouteClass::Rest
                || policy::decide(&actor, Action::ReadProject, &facts).is_allowed();
            if shown && policy::decide(&actor, Action::ReadPackage, &facts).is_allowed() {
                let can_delete = policy::decide(&actor, Action::DeletePackage, &facts).is_allowed();
                out.push(ProjectAccess {
                    project,
                    can_delete,
                });
            }
        }
        let admin = user.as_ref().is_some_and(|u| u.is_admin);
        let visible = admin
            || !out.is_empty()
            || group.visibility == Visibility::Public
            || (group.visibility == Visibility::Internal && user.is_some());
        if !visible {
            return Err(refuse());
        }
        Ok((group, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectId;

    fn rule(
        pattern: &str,
        push: Option<ProtectionLevel>,
        delete: Option<ProtectionLevel>,
    ) -> ProtectionRule {
        ProtectionRule {
            id: 1,
            project_id: ProjectId(1),
            package_name_pattern: pattern.into(),
            package_type: "npm".into(),
            minimum_access_level_for_push: push,
            minimum_access_level_for_delete: delete,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn wildcards_match_any_run_and_case_is_ignored() {
        let yes = [
            ("@acme/*", "@acme/ui"),
            ("@acme/*", "@ACME/Ui"),
            ("*", ""),
            ("*", "anything"),
            ("a*b*c", "abc"),
            ("a*b*c", "a-x-b-y-c"),
            ("*-release", "lib-release"),
            ("exact", "Exact"),
            ("a**b", "ab"),
        ];
        for (p, n) in yes {
            assert!(pattern_matches(p, n), "{p} should match {n}");
        }
        let no = [
            ("@acme/*", "@other/ui"),
            ("exact", "exactly"),
            ("a*b*c", "acb"),
            ("*-release", "release-1"),
            ("", "x"),
            ("a_c", "abc"),
            ("a%c", "abc"),
        ];
        for (p, n) in no {
            assert!(!pattern_matches(p, n), "{p} should not match {n}");
        }
    }

    #[test]
    fn many_stars_against_a_long_name_stay_fast() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*b";
        let name = "a".repeat(10_000);
        assert!(!pattern_matches(pattern, &name));
    }

    #[test]
    fn levels_admit_the_roles_above_them() {
        use AccessLevel::*;
        let m = |l| Holder::Member(Some(l));
        assert!(!reaches(m(Developer), ProtectionLevel::Maintainer));
        assert!(reaches(m(Maintainer), ProtectionLevel::Maintainer));
        assert!(!reaches(m(Maintainer), ProtectionLevel::Owner));
        assert!(reaches(m(Owner), ProtectionLevel::Owner));
        assert!(!reaches(m(Owner), ProtectionLevel::Admin));
        assert!(reaches(Holder::Admin, ProtectionLevel::Admin));
        assert!(!reaches(Holder::NoRole, ProtectionLevel::Maintainer));
        assert!(!reaches(Holder::Member(None), ProtectionLevel::Maintainer));
    }

    #[test]
    fn only_a_matching_rule_of_the_same_type_with_the_guarded_level_blocks() {
        let dev = Holder::Member(Some(AccessLevel::Developer));
        let rules = [rule("@acme/*", Some(ProtectionLevel::Maintainer), None)];
        assert!(blocking_rule(&rules, "npm", &["@acme/ui"], Guarded::Push, dev).is_some());
        assert!(blocking_rule(&rules, "pypi", &["@acme/ui"], Guarded::Push, dev).is_none());
        assert!(blocking_rule(&rules, "npm", &["other"], Guarded::Push, dev).is_none());
        // No delete level: deletes are not guarded by this rule, except against a caller
        // without a role, whom any matching rule stops.
        assert!(blocking_rule(&rules, "npm", &["@acme/ui"], Guarded::Delete, dev).is_none());
        assert!(blocking_rule(
            &rules,
            "npm",
            &["@acme/ui"],
            Guarded::Delete,
            Holder::NoRole
        )
        .is_some());
        let maintainer = Holder::Member(Some(AccessLevel::Maintainer));
        assert!(blocking_rule(&rules, "npm", &["@acme/ui"], Guarded::Push, maintainer).is_none());
        // Either the given or the normalized name may match.
        assert!(blocking_rule(
            &rules,
            "npm",
            &["x", "@acme/ui"],
            Guarded::Push,
            Holder::NoRole
        )
        .is_some());
    }

    #[test]
    fn patterns_are_validated() {
        assert!(validate_pattern("@acme/*").is_ok());
        assert!(validate_pattern("").is_err());
        assert!(validate_pattern("a b").is_err());
        assert!(validate_pattern(&"x".repeat(256)).is_err());
    }
}
