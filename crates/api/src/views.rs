//! The JSON the clients read: GitLab's `API::Entities::{UserPublic, Project, Package,
//! PackageVersion, Ci::Pipeline}` subsets of spec §2.1, §2.4 and §3.2
//! (<https://docs.gitlab.com/api/packages/>, <https://docs.gitlab.com/api/projects/>).
//!
//! Pure functions of already-loaded rows: no I/O here.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use packyard_core::gitlab_json::{opt_timestamp, timestamp};
use packyard_core::model::{
    AccessLevel, Group, JobToken, Package, PackageBuildInfo, PackageTag, Project, RegistryAccess,
    User, UserId,
};

/// GitLab's default notification level ("global") in `permissions.project_access`.
const NOTIFICATION_LEVEL_GLOBAL: i64 = 3;

/// `external_url` + `/` + `path`, the way GitLab writes `web_url`.
fn web_url(external_url: &str, path: &str) -> String {
    format!("{}/{}", external_url.trim_end_matches('/'), path)
}

/// `GET /user` (spec §2.1). `is_admin` is shown only to admins, like GitLab.
pub fn current_user(external_url: &str, user: &User) -> Value {
    let mut v = json!({
        "id": user.id.0,
        "username": user.username,
        "name": user.name,
        "state": user.state.as_str(),
        "locked": false,
        "avatar_url": null,
        "web_url": web_url(external_url, &user.username),
        "created_at": timestamp(user.created_at),
        "email": user.email,
        "bot": false,
        // GitLab's defaults: any user may create groups and projects in its own namespace.
        "can_create_group": true,
        "can_create_project": true,
        "external": false,
    });
    if user.is_admin {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("is_admin".into(), Value::Bool(true));
        }
    }
    v
}

/// `API::Entities::UserBasic`, as embedded in pipelines.
pub fn user_basic(external_url: &str, user: &User) -> Value {
    json!({
        "id": user.id.0,
        "username": user.username,
        "name": user.name,
        "state": user.state.as_str(),
        "avatar_url": null,
        "web_url": web_url(external_url, &user.username),
    })
}

/// `namespace` of a project in a group.
pub fn group_namespace(external_url: &str, group: &Group) -> Value {
    json!({
        "id": group.id.0,
        "name": group.name,
        "path": group.path,
        "kind": "group",
        "full_path": group.full_path,
        "parent_id": group.parent_id.map(|p| p.0),
        "avatar_url": null,
        "web_url": web_url(external_url, &format!("groups/{}", group.full_path)),
    })
}

/// `namespace` of a project in a user's personal namespace.
pub fn user_namespace(external_url: &str, user: &User) -> Value {
    json!({
        "id": user.id.0,
        "name": user.username,
        "path": user.username,
        "kind": "user",
        "full_path": user.username,
        "parent_id": null,
        "avatar_url": null,
        "web_url": web_url(external_url, &user.username),
    })
}

/// What the project view needs beyond the row.
pub struct ProjectExtras {
    /// From [`group_namespace`] or [`user_namespace`]; `null` if the owner is gone.
    pub namespace: Value,
    /// `Acme / Tools / project name`.
    pub name_with_namespace: String,
    /// The caller's effective level, for `permissions.project_access`.
    pub access_level: Option<AccessLevel>,
}

/// `GET /projects/:id` (spec §2.4).
pub fn project(external_url: &str, p: &Project, extras: ProjectExtras) -> Value {
    let project_access = match extras.access_level {
        Some(level) => {
            json!({ "access_level": level as i16, "notification_level": NOTIFICATION_LEVEL_GLOBAL })
        }
        None => Value::Null,
    };
    json!({
        "id": p.id.0,
        "name": p.name,
        "name_with_namespace": extras.name_with_namespace,
        "path": p.path,
        "path_with_namespace": p.full_path,
        "description": p.description,
        "visibility": p.visibility.as_str(),
        "web_url": web_url(external_url, &p.full_path),
        "created_at": timestamp(p.created_at),
        "last_activity_at": timestamp(p.created_at),
        "default_branch": null,
        "archived": false,
        "empty_repo": true,
        "creator_id": p.creator_id.map(|u| u.0),
        "tag_list": [],
        "topics": [],
        "namespace": extras.namespace,
        "packages_enabled": p.registry_access != RegistryAccess::Disabled,
        "package_registry_access_level": p.registry_access.as_str(),
        "permissions": { "project_access": project_access, "group_access": null },
        "marked_for_deletion_at": null,
        "marked_for_deletion_on": null,
    })
}

/// `POST /projects/:id/ci/job_token`: the secret is shown only here.
pub fn job_token(secret: &str, token: &JobToken) -> Value {
    json!({
        "token": secret,
        "id": token.id.0,
        "project_id": token.project_id.0,
        "pipeline_id": token.build.pipeline_id,
        "job_id": token.build.job_id,
        "ref": token.build.git_ref,
        "sha": token.build.sha,
        "expires_at": timestamp(token.expires_at),
    })
}

/// Everything about one package that is not in its row.
pub struct PackageExtras<'a> {
    pub project: &'a Project,
    pub tags: &'a [PackageTag],
    /// Newest first, as `Catalog::package_build_infos` returns them.
    pub builds: &'a [PackageBuildInfo],
    /// The users behind `builds`.
    pub users: &'a HashMap<UserId, User>,
    /// The caller may delete it: adds `_links.delete_api_path`.
    pub can_delete: bool,
}

fn tags(tags: &[PackageTag]) -> Value {
    tags.iter()
        .map(|t| {
            json!({
                "id": t.id,
                "package_id": t.package_id.0,
                "name": t.name,
                "created_at": timestamp(t.created_at),
                "updated_at": timestamp(t.updated_at),
            })
        })
        .collect()
}

/// `API::Entities::Ci::PipelineBasic`-like view of one publish's build info.
fn pipeline(
    external_url: &str,
    project: &Project,
    b: &PackageBuildInfo,
    users: &HashMap<UserId, User>,
) -> Value {
    let user = b
        .user_id
        .and_then(|id| users.get(&id))
        .map(|u| user_basic(external_url, u))
        .unwrap_or(Value::Null);
    json!({
        "id": b.build.pipeline_id,
        "iid": b.build.pipeline_id,
        "project_id": project.id.0,
        "sha": b.build.sha,
        "ref": b.build.git_ref,
        "status": "success",
        "source": "push",
        "created_at": timestamp(b.created_at),
        "updated_at": timestamp(b.created_at),
        "web_url": web_url(external_url, &format!("{}/-/pipelines/{}", project.full_path, b.build.pipeline_id)),
        "user": user,
    })
}

/// `pipeline` (the newest build) and `pipelines` (all), each only when there is one.
fn insert_pipelines(
    obj: &mut Map<String, Value>,
    external_url: &str,
    x: &PackageExtras<'_>,
    with_latest: bool,
) {
    if x.builds.is_empty() {
        return;
    }
    let all: Vec<Value> = x
        .builds
        .iter()
        .map(|b| pipeline(external_url, x.project, b, x.users))
        .collect();
    if with_latest {
        if let Some(first) = all.first() {
            obj.insert("pipeline".into(), first.clone());
        }
    }
    obj.insert("pipelines".into(), Value::Array(all));
}

/// `API::Entities::Package` (spec §3.2). `web_path` only for statuses a single GET shows;
/// `delete_api_path` (absolute) only when the caller may delete.
pub fn package(external_url: &str, pkg: &Package, x: &PackageExtras<'_>) -> Value {
    let mut links = Map::new();
    if pkg.status.detailed() {
        links.insert(
            "web_path".into(),
            Value::String(format!("/{}/-/packages/{}", x.project.full_path, pkg.id.0)),
        );
    }
    if x.can_delete {
        links.insert(
            "delete_api_path".into(),
            Value::String(format!(
                "{}/api/v4/projects/{}/packages/{}",
                external_url.trim_end_matches('/'),
                x.project.id.0,
                pkg.id.0
            )),
        );
    }
    let mut v = json!({
        "id": pkg.id.0,
        "name": pkg.name,
        "version": pkg.version,
        "package_type": pkg.format,
        "status": pkg.status.as_str(),
        "_links": links,
        "created_at": timestamp(pkg.created_at),
        "last_downloaded_at": opt_timestamp(pkg.last_downloaded_at),
        "tags": tags(x.tags),
    });
    if let Some(obj) = v.as_object_mut() {
        insert_pipelines(obj, external_url, x, true);
    }
    v
}

/// `API::Entities::PackageVersion`: one entry of a single package's `versions`.
pub fn package_version(external_url: &str, pkg: &Package, x: &PackageExtras<'_>) -> Value {
    let mut v = json!({
        "id": pkg.id.0,
        "version": pkg.version,
        "created_at": timestamp(pkg.created_at),
        "tags": tags(x.tags),
    });
    if let Some(obj) = v.as_object_mut() {
        insert_pipelines(obj, external_url, x, false);
    }
    v
}

// ---- management API views (users, tokens, groups, members)

/// `API::Entities::UserBasic` for anyone; `API::Entities::UserPublic` fields (email,
/// `is_admin`, ...) when `full` (the caller is an admin or the user itself).
pub fn user(external_url: &str, u: &User, full: bool) -> Value {
    if full {
        return current_user(external_url, u);
    }
    let mut v = user_basic(external_url, u);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("locked".into(), Value::Bool(false));
        obj.insert("created_at".into(), Value::String(timestamp(u.created_at)));
        obj.insert("bot".into(), Value::Bool(false));
    }
    v
}

/// `API::Entities::PersonalAccessToken`; `token` only when just created or rotated.
/// `expires_at` is `YYYY-MM-DD` (spec §0); `active` = not revoked and not expired.
pub fn personal_access_token(
    t: &packyard_core::model::PersonalAccessToken,
    today: &str,
    secret: Option<&str>,
) -> Value {
    let expired = t.expires_at.as_deref().is_some_and(|d| d < today);
    let mut v = json!({
        "id": t.id.0,
        "name": t.name,
        "description": null,
        "revoked": t.revoked,
        "created_at": timestamp(t.created_at),
        "scopes": t.scopes,
        "user_id": t.user_id.0,
        "last_used_at": opt_timestamp(t.last_used_at),
        "active": !t.revoked && !expired,
        "expires_at": t.expires_at,
    });
    if let (Some(secret), Some(obj)) = (secret, v.as_object_mut()) {
        obj.insert("token".into(), Value::String(secret.to_owned()));
    }
    v
}

/// `API::Entities::DeployToken`; `expires_at` as `YYYY-MM-DDT00:00:00.000Z` (python-gitlab
/// asserts that form), `token` only on creation.
pub fn deploy_token(
    t: &packyard_core::model::DeployToken,
    now: packyard_core::model::Millis,
    secret: Option<&str>,
) -> Value {
    let mut v = json!({
        "id": t.id.0,
        "name": t.name,
        "username": t.username,
        "expires_at": opt_timestamp(t.expires_at),
        "scopes": t.scopes,
        "revoked": t.revoked,
        "expired": t.expires_at.is_some_and(|e| e <= now),
    });
    if let Some(obj) = v.as_object_mut() {
        match t.owner {
            packyard_core::model::DeployTokenOwner::Project(p) => {
                obj.insert("project_id".into(), json!(p.0));
            }
            packyard_core::model::DeployTokenOwner::Group(g) => {
                obj.insert("group_id".into(), json!(g.0));
            }
        }
        if let Some(secret) = secret {
            obj.insert("token".into(), Value::String(secret.to_owned()));
        }
    }
    v
}

/// `API::Entities::Group`. `full_name` is the names of the group and its ancestors,
/// top-level first (`ancestor_names`), as `Acme / Tools`.
pub fn group(external_url: &str, g: &Group, ancestor_names: &[String]) -> Value {
    let full_name = ancestor_names
        .iter()
        .cloned()
        .chain(std::iter::once(g.name.clone()))
        .collect::<Vec<_>>()
        .join(" / ");
    json!({
        "id": g.id.0,
        "web_url": web_url(external_url, &format!("groups/{}", g.full_path)),
        "name": g.name,
        "path": g.path,
        "description": g.description,
        "visibility": g.visibility.as_str(),
        "full_name": full_name,
        "full_path": g.full_path,
        "parent_id": g.parent_id.map(|p| p.0),
        "created_at": timestamp(g.created_at),
        "avatar_url": null,
        "lfs_enabled": false,
        "request_access_enabled": false,
        "project_creation_level": "developer",
        "subgroup_creation_level": "maintainer",
        "marked_for_deletion_on": null,
    })
}

/// `API::Entities::Member`: the user plus `access_level` and `expires_at` (`YYYY-MM-DD`).
pub fn member(external_url: &str, m: &packyard_core::model::Member, u: &User) -> Value {
    let mut v = user_basic(external_url, u);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("access_level".into(), json!(m.access_level as i16));
        obj.insert("created_at".into(), Value::String(timestamp(m.created_at)));
        obj.insert("expires_at".into(), json!(m.expires_at));
        obj.insert("membership_state".into(), Value::String("active".into()));
        obj.insert("locked".into(), Value::Bool(false));
    }
    v
}

/// A project in the job-token allowlist (`API::Entities::BasicProjectDetails` subset).
pub fn project_basic(external_url: &str, p: &Project) -> Value {
    json!({
        "id": p.id.0,
        "name": p.name,
        "path": p.path,
        "path_with_namespace": p.full_path,
        "description": p.description,
        "created_at": timestamp(p.created_at),
        "web_url": web_url(external_url, &p.full_path),
        "visibility": p.visibility.as_str(),
    })
}

// ---- package administration views (group listings, pipelines, protection rules, settings)

/// One entry of `GET /projects/:id/packages/:package_id/pipelines`: the CI build that
/// published to the package (`API::Entities::Package::Pipeline`), plus the job id.
pub fn package_pipeline(
    external_url: &str,
    project: &Project,
    b: &PackageBuildInfo,
    users: &HashMap<UserId, User>,
) -> Value {
    let mut v = pipeline(external_url, project, b, users);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("job".into(), json!({ "id": b.build.job_id }));
    }
    v
}

/// A package of a group listing: the project view plus `project_id` and `project_path`.
pub fn group_package(external_url: &str, pkg: &Package, x: &PackageExtras<'_>) -> Value {
    let mut v = package(external_url, pkg, x);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("project_id".into(), json!(x.project.id.0));
        obj.insert("project_path".into(), json!(x.project.full_path));
    }
    v
}

/// `API::Entities::Projects::Packages::Protection::Rule`.
pub fn protection_rule(r: &packyard_core::model::ProtectionRule) -> Value {
    json!({
        "id": r.id,
        "project_id": r.project_id.0,
        "package_name_pattern": r.package_name_pattern,
        "package_type": r.package_type,
        "minimum_access_level_for_push": r.minimum_access_level_for_push.map(|l| l.as_str()),
        "minimum_access_level_for_delete": r.minimum_access_level_for_delete.map(|l| l.as_str()),
    })
}

/// `GET /projects/:id/packages/cleanup_policy` (REST form of GraphQL `PackagesCleanupPolicy`).
pub fn cleanup_policy(p: &packyard_core::model::CleanupPolicy) -> Value {
    json!({
        "keep_n_duplicated_package_files": p.keep_as_str(),
        "next_run_at": opt_timestamp(p.next_run_at),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use packyard_core::model::{
        BuildInfo, GroupId, Namespace, PackageId, PackageStatus, ProjectId, Visibility,
    };

    fn project() -> Project {
        Project {
            id: ProjectId(5),
            name: "Tools".into(),
            path: "tools".into(),
            full_path: "acme/tools".into(),
            namespace: Namespace::Group(GroupId(1)),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
            created_at: 0,
        }
    }

    fn pkg(status: PackageStatus) -> Package {
        Package {
            id: PackageId(7),
            project_id: ProjectId(5),
            format: "generic".into(),
            name: "hello".into(),
            normalized_name: "hello".into(),
            version: "1.0.0".into(),
            status,
            metadata: json!({}),
            created_at: 1_574_825_858_711,
            updated_at: 1_574_825_858_711,
            last_downloaded_at: None,
        }
    }

    #[test]
    fn hidden_package_has_no_web_path_and_no_pipeline_keys_without_builds() {
        let p = project();
        let users = HashMap::new();
        let x = PackageExtras {
            project: &p,
            tags: &[],
            builds: &[],
            users: &users,
            can_delete: false,
        };
        let v = package("https://h/", &pkg(PackageStatus::Hidden), &x);
        assert_eq!(v["_links"], json!({}));
        assert!(v.get("pipeline").is_none() && v.get("pipelines").is_none());
        assert_eq!(v["created_at"], "2019-11-27T03:37:38.711Z");
        assert_eq!(v["last_downloaded_at"], Value::Null);
    }

    #[test]
    fn newest_build_is_the_pipeline_and_links_are_absolute() {
        let p = project();
        let users = HashMap::new();
        let build = |id: i64| PackageBuildInfo {
            id,
            package_id: PackageId(7),
            user_id: Some(UserId(99)),
            build: BuildInfo {
                pipeline_id: id * 10,
                job_id: id,
                git_ref: "main".into(),
                sha: "abc".into(),
            },
            created_at: 0,
        };
        let builds = [build(2), build(1)];
        let x = PackageExtras {
            project: &p,
            tags: &[],
            builds: &builds,
            users: &users,
            can_delete: true,
        };
        let v = package("https://h/", &pkg(PackageStatus::Default), &x);
        assert_eq!(v["_links"]["web_path"], "/acme/tools/-/packages/7");
        assert_eq!(
            v["_links"]["delete_api_path"],
            "https://h/api/v4/projects/5/packages/7"
        );
        assert_eq!(v["pipeline"]["id"], 20);
        assert_eq!(
            v["pipeline"]["web_url"],
            "https://h/acme/tools/-/pipelines/20"
        );
        assert_eq!(v["pipeline"]["user"], Value::Null);
        assert_eq!(v["pipelines"].as_array().unwrap().len(), 2);
    }
}
