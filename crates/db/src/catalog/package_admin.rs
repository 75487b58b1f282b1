//! Package administration queries: protection rules, cleanup policies, group package
//! settings, the project-path ordered group listing, and the batched lookups that keep one
//! page of a package listing a bounded number of queries
//! (<https://docs.gitlab.com/api/packages/>,
//! <https://docs.gitlab.com/api/project_packages_protection_rules/>).
//!
//! Plain functions over `&mut DbConnection`, called by the `Catalog` impl in `mod.rs`.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{conflict_as, contains_pattern, db, group_ancestors, lower, now, tx, BUILD_INFOS_KEPT};
use crate::connection::{per_backend, DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

/// Large `IN (...)` lists are split so no backend meets its bind-parameter limit.
const IN_CHUNK: usize = 5_000;

// ---------------------------------------------------------------- protection rules

#[derive(Queryable)]
pub(super) struct ProtectionRuleRow {
    id: i64,
    project_id: i64,
    package_name_pattern: String,
    package_type: String,
    minimum_access_level_for_push: Option<String>,
    minimum_access_level_for_delete: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn level(column: &'static str, v: Option<String>) -> Result<Option<ProtectionLevel>, CatalogError> {
    match v {
        None => Ok(None),
        Some(s) => ProtectionLevel::parse(&s).map(Some).ok_or_else(|| {
            CatalogError::backend(std::io::Error::other(format!(
                "unreadable value in package_protection_rules.{column}: {s}"
            )))
        }),
    }
}

impl TryFrom<ProtectionRuleRow> for ProtectionRule {
    type Error = CatalogError;
    fn try_from(r: ProtectionRuleRow) -> Result<Self, CatalogError> {
        Ok(ProtectionRule {
            id: r.id,
            project_id: ProjectId(r.project_id),
            package_name_pattern: r.package_name_pattern,
            package_type: r.package_type,
            minimum_access_level_for_push: level(
                "minimum_access_level_for_push",
                r.minimum_access_level_for_push,
            )?,
            minimum_access_level_for_delete: level(
                "minimum_access_level_for_delete",
                r.minimum_access_level_for_delete,
            )?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const PATTERN_TAKEN: &str = "Package name pattern has already been taken";

/// The rules of a project, optionally of one package type, by id.
pub(super) fn protection_rules(
    conn: &mut DbConnection,
    project: ProjectId,
    package_type: Option<&str>,
) -> Result<Vec<ProtectionRule>, CatalogError> {
    let mut q = package_protection_rules::table
        .filter(package_protection_rules::project_id.eq(project.0))
        .into_boxed::<MultiBackend>();
    if let Some(t) = package_type {
        q = q.filter(package_protection_rules::package_type.eq(t));
    }
    let rows = q
        .order(package_protection_rules::id.asc())
        .load::<ProtectionRuleRow>(conn)
        .map_err(db)?;
    convert_all(rows)
}

pub(super) fn create_protection_rule(
    conn: &mut DbConnection,
    new: &NewProtectionRule,
) -> Result<ProtectionRule, CatalogError> {
    let at = now();
    diesel::insert_into(package_protection_rules::table)
        .values((
            package_protection_rules::project_id.eq(new.project_id.0),
            package_protection_rules::package_name_pattern.eq(&new.package_name_pattern),
            package_protection_rules::package_type.eq(&new.package_type),
            package_protection_rules::minimum_access_level_for_push.eq(new
                .minimum_access_level_for_push
                .map(ProtectionLevel::as_str)),
            package_protection_rules::minimum_access_level_for_delete.eq(new
                .minimum_access_level_for_delete
                .map(ProtectionLevel::as_str)),
            package_protection_rules::created_at.eq(at),
            package_protection_rules::updated_at.eq(at),
        ))
        .returning(package_protection_rules::all_columns)
        .get_result::<ProtectionRuleRow>(conn)
        .map_err(conflict_as(PATTERN_TAKEN))?
        .try_into()
}

/// Writes every field of `rule` (found by project and id). `None` when it is gone.
pub(super) fn update_protection_rule(
    conn: &mut DbConnection,
    rule: &ProtectionRule,
) -> Result<Option<ProtectionRule>, CatalogError> {
    diesel::update(
        package_protection_rules::table
            .filter(package_protection_rules::id.eq(rule.id))
            .filter(package_protection_rules::project_id.eq(rule.project_id.0)),
    )
    .set((
        package_protection_rules::package_name_pattern.eq(&rule.package_name_pattern),
        package_protection_rules::package_type.eq(&rule.package_type),
        package_protection_rules::minimum_access_level_for_push.eq(rule
            .minimum_access_level_for_push
            .map(ProtectionLevel::as_str)),
        package_protection_rules::minimum_access_level_for_delete.eq(rule
            .minimum_access_level_for_delete
            .map(ProtectionLevel::as_str)),
        package_protection_rules::updated_at.eq(now()),
    ))
    .returning(package_protection_rules::all_columns)
    .get_result::<ProtectionRuleRow>(conn)
    .optional()
    .map_err(conflict_as(PATTERN_TAKEN))?
    .map(ProtectionRule::try_from)
    .transpose()
}

pub(super) fn delete_protection_rule(
    conn: &mut DbConnection,
    project: ProjectId,
    id: i64,
) -> Result<bool, CatalogError> {
    diesel::delete(
        package_protection_rules::table
            .filter(package_protection_rules::id.eq(id))
            .filter(package_protection_rules::project_id.eq(project.0)),
    )
    .execute(conn)
    .map(|n| n > 0)
    .map_err(db)
}

// ---------------------------------------------------------------- cleanup policies

type CleanupPolicyRow = (i64, Option<i64>, Option<i64>, i64);

fn cleanup_policy_of(r: CleanupPolicyRow) -> CleanupPolicy {
    CleanupPolicy {
        project_id: ProjectId(r.0),
        keep_n_duplicated_package_files: r.1,
        next_run_at: r.2,
        updated_at: r.3,
    }
}

pub(super) fn cleanup_policy(
    conn: &mut DbConnection,
    project: ProjectId,
) -> Result<Option<CleanupPolicy>, CatalogError> {
    package_cleanup_policies::table
        .find(project.0)
        .first::<CleanupPolicyRow>(conn)
        .optional()
        .map(|r| r.map(cleanup_policy_of))
        .map_err(db)
}

pub(super) fn set_cleanup_policy(
    conn: &mut DbConnection,
    project: ProjectId,
    keep: Option<i64>,
    next_run_at: Option<Millis>,
) -> Result<CleanupPolicy, CatalogError> {
    let at = now();
    per_backend!(conn, |c| diesel::insert_into(
        package_cleanup_policies::table
    )
    .values((
        package_cleanup_policies::project_id.eq(project.0),
        package_cleanup_policies::keep_n_duplicated_package_files.eq(keep),
        package_cleanup_policies::next_run_at.eq(next_run_at),
        package_cleanup_policies::updated_at.eq(at),
    ))
    .on_conflict(package_cleanup_policies::project_id)
    .do_update()
    .set((
        package_cleanup_policies::keep_n_duplicated_package_files.eq(keep),
        package_cleanup_policies::next_run_at.eq(next_run_at),
        package_cleanup_policies::updated_at.eq(at),
    ))
    .execute(c))
    .map_err(db)?;
    cleanup_policy(conn, project)?.ok_or(CatalogError::NotFound)
}

/// Policies that keep a number of files and whose next run is at or before `at`, soonest
/// first (served by the `next_run_at` index).
pub(super) fn due_cleanup_policies(
    conn: &mut DbConnection,
    at: Millis,
    limit: i64,
) -> Result<Vec<CleanupPolicy>, CatalogError> {
    package_cleanup_policies::table
        .filter(package_cleanup_policies::next_run_at.le(at))
        .filter(package_cleanup_policies::keep_n_duplicated_package_files.is_not_null())
        .order(package_cleanup_policies::next_run_at.asc())
        .limit(limit.max(0))
        .load::<CleanupPolicyRow>(conn)
        .map(|rows| rows.into_iter().map(cleanup_policy_of).collect())
        .map_err(db)
}

/// Moves the policy's next run from `expected` to `next`; `false` when another process
/// claimed this run first (its `next_run_at` is no longer `expected`).
pub(super) fn claim_cleanup_policy(
    conn: &mut DbConnection,
    project: ProjectId,
    expected: Millis,
    next: Millis,
) -> Result<bool, CatalogError> {
    diesel::update(
        package_cleanup_policies::table
            .filter(package_cleanup_policies::project_id.eq(project.0))
            .filter(package_cleanup_policies::next_run_at.eq(expected)),
    )
    .set(package_cleanup_policies::next_run_at.eq(next))
    .execute(conn)
    .map(|n| n > 0)
    .map_err(db)
}

/// Deletes, in each package of the project, the oldest files of every file name that has
/// more than `keep` files, keeping the newest `keep`. Returns the deleted files (their
/// blobs are left for `gc`). Each package is one transaction that bumps its revisions.
pub(super) fn delete_duplicated_package_files(
    conn: &mut DbConnection,
    project: ProjectId,
    keep: i64,
) -> Result<Vec<PackageFile>, CatalogError> {
    let keep = keep.max(1);
    // The (package, file name) pairs with too many files, from the (package_id, file_name)
    // index of the project's packages.
    let groups = package_files::table
        .inner_join(packages::table)
        .filter(packages::project_id.eq(project.0))
        .group_by((package_files::package_id, package_files::file_name))
        .having(diesel::dsl::count_star().gt(keep))
        .select((package_files::package_id, package_files::file_name))
        .load::<(i64, String)>(conn)
        .map_err(db)?;
    let mut deleted = Vec::new();
    for (package_id, file_name) in groups {
        let mut gone = tx(conn, |conn| {
            let old = package_files::table
                .filter(package_files::package_id.eq(package_id))
                .filter(package_files::file_name.eq(&file_name))
                .order(package_files::id.desc())
                .offset(keep)
                .load::<PackageFileRow>(conn)
                .map_err(db)?;
            let old: Vec<PackageFile> = convert_all(old)?;
            if old.is_empty() {
                return Ok(old);
            }
            let ids: Vec<i64> = old.iter().map(|f| f.id.0).collect();
            diesel::delete(package_files::table.filter(package_files::id.eq_any(&ids)))
                .execute(conn)
                .map_err(db)?;
            diesel::update(packages::table.find(package_id))
                .set(packages::updated_at.eq(now()))
                .execute(conn)
                .map_err(db)?;
            super::bump_package_revisions(conn, package_id)?;
            Ok(old)
        })?;
        deleted.append(&mut gone);
    }
    Ok(deleted)
}

// ---------------------------------------------------------------- group settings and levels

/// The raw JSON document of a group's package settings. `None` when the group is missing.
pub(super) fn group_package_settings_document(
    conn: &mut DbConnection,
    group: GroupId,
) -> Result<Option<serde_json::Value>, CatalogError> {
    let Some(text) = groups::table
        .find(group.0)
        .select(groups::package_settings)
        .first::<String>(conn)
        .optional()
        .map_err(db)?
    else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(CatalogError::backend)
}

pub(super) fn set_group_package_settings_document(
    conn: &mut DbConnection,
    group: GroupId,
    doc: &serde_json::Value,
) -> Result<(), CatalogError> {
    let text = to_json(doc)?;
    let n = diesel::update(groups::table.find(group.0))
        .set(groups::package_settings.eq(text))
        .execute(conn)
        .map_err(db)?;
    if n == 0 {
        Err(CatalogError::NotFound)
    } else {
        Ok(())
    }
}

/// The highest unexpired level of `user` on the group, directly or through an ancestor.
pub(super) fn effective_group_access_level(
    conn: &mut DbConnection,
    user: UserId,
    group: GroupId,
    today: &str,
) -> Result<Option<AccessLevel>, CatalogError> {
    let ids: Vec<i64> = group_ancestors(conn, group)?
        .into_iter()
        .map(|g| g.id.0)
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let levels = members::table
        .filter(members::user_id.eq(user.0))
        .filter(members::source_type.eq(SOURCE_GROUP))
        .filter(members::source_id.eq_any(ids))
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .select(members::access_level)
        .load::<i16>(conn)
        .map_err(db)?;
    Ok(levels.into_iter().filter_map(AccessLevel::from_i16).max())
}

// ---------------------------------------------------------------- batched listing lookups

pub(super) fn package_tags_of(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<PackageTag>, CatalogError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = package_tags::table
            .filter(package_tags::package_id.eq_any(chunk))
            .order((
                package_tags::package_id.asc(),
                package_tags::name.asc(),
                package_tags::id.asc(),
            ))
            .load::<PackageTagRow>(conn)
            .map_err(db)?;
        out.extend(rows.into_iter().map(PackageTag::from));
    }
    Ok(out)
}

/// The kept build infos (at most five per package) of many packages, newest first within
/// each package.
pub(super) fn package_build_infos_of(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<PackageBuildInfo>, CatalogError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = package_build_infos::table
            .filter(package_build_infos::package_id.eq_any(chunk))
            .order((
                package_build_infos::package_id.asc(),
                package_build_infos::id.desc(),
            ))
            .limit(i64::try_from(chunk.len()).unwrap_or(i64::MAX) * BUILD_INFOS_KEPT * 2)
            .load::<PackageBuildInfoRow>(conn)
            .map_err(db)?;
        out.extend(rows.into_iter().map(PackageBuildInfo::from));
    }
    Ok(out)
}

pub(super) fn users_by_ids(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<User>, CatalogError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = users::table
            .filter(users::id.eq_any(chunk))
            .order(users::id.asc())
            .load::<UserRow>(conn)
            .map_err(db)?;
        out.extend(rows.into_iter().map(User::from));
    }
    Ok(out)
}

// ---------------------------------------------------------------- group listing by project path

/// One page of the packages of `projects`, ordered by project full path (then id), and the
/// total: GitLab's `order_by=project_path` of the group listing.
pub(super) fn list_packages_by_project_path(
    conn: &mut DbConnection,
    projects: &[ProjectId],
    filter: &PackageFilter,
    descending: bool,
    page: Page,
) -> Result<(Vec<Package>, i64), CatalogError> {
    if projects.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    let total = super::filtered_packages(&ids, filter)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let mut q = packages::table
        .inner_join(projects::table)
        .filter(packages::project_id.eq_any(&ids))
        .into_boxed::<MultiBackend>();
    if let Some(format) = &filter.format {
        q = q.filter(packages::format.eq(format));
    }
    if let Some(needle) = &filter.name_contains {
        q = q.filter(
            lower(packages::name)
                .like(contains_pattern(needle))
                .escape('\\'),
        );
    }
    if let Some(version) = &filter.version {
        q = q.filter(packages::version.eq(version));
    }
    match filter.status {
        Some(status) => q = q.filter(packages::status.eq(status.as_str())),
        None => {
            let listed: Vec<&'static str> = PackageStatus::ALL
                .into_iter()
                .filter(|s| s.listed_by_default())
                .map(PackageStatus::as_str)
                .collect();
            q = q.filter(packages::status.eq_any(listed));
        }
    }
    if let Some(name) = &filter.normalized_name {
        q = q.filter(packages::normalized_name.eq(name));
    }
    let q = if descending {
        q.order((projects::full_path.desc(), packages::id.desc()))
    } else {
        q.order((projects::full_path.asc(), packages::id.asc()))
    };
    let rows = q
        .select(packages::all_columns)
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<PackageRow>(conn)
        .map_err(db)?;
    Ok((convert_all(rows)?, total))
}

// ---------------------------------------------------------------- batched access facts

/// The group and all its descendants, breadth-first (one query per level).
pub(super) fn group_tree(
    conn: &mut DbConnection,
    group: GroupId,
) -> Result<Vec<Group>, CatalogError> {
    let Some(root) = super::group_by_id(conn, group)? else {
        return Ok(Vec::new());
    };
    let mut all = vec![root];
    let mut level = vec![group.0];
    for _ in 0..super::MAX_GROUP_DEPTH {
        let children = groups::table
            .filter(groups::parent_id.eq_any(&level))
            .order(groups::id.asc())
            .load::<GroupRow>(conn)
            .map_err(db)?;
        if children.is_empty() {
            break;
        }
        let children: Vec<Group> = convert_all(children)?;
        level = children.iter().map(|g| g.id.0).collect();
        all.extend(children);
    }
    Ok(all)
}

/// The unexpired memberships of `user` on any of these groups and projects, in one query.
pub(super) fn member_levels(
    conn: &mut DbConnection,
    user: UserId,
    groups: &[i64],
    projects: &[i64],
    today: &str,
) -> Result<Vec<(MemberSource, AccessLevel)>, CatalogError> {
    let rows = members::table
        .filter(members::user_id.eq(user.0))
        .filter(
            members::source_type
                .eq(SOURCE_PROJECT)
                .and(members::source_id.eq_any(projects))
                .or(members::source_type
                    .eq(SOURCE_GROUP)
                    .and(members::source_id.eq_any(groups))),
        )
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .select((
            members::source_type,
            members::source_id,
            members::access_level,
        ))
        .load::<(String, i64, i16)>(conn)
        .map_err(db)?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, id, level)| {
            let level = AccessLevel::from_i16(level)?;
            let source = if kind == SOURCE_GROUP {
                MemberSource::Group(GroupId(id))
            } else {
                MemberSource::Project(ProjectId(id))
            };
            Some((source, level))
        })
        .collect())
}
