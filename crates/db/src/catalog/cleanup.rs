//! Package cleanup policies and the removal of duplicated package files they run
//! (<https://docs.gitlab.com/user/packages/package_registry/reduce_package_registry_storage/>).

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{db, now, tx};
use crate::connection::{per_backend, DbConnection};
use crate::rows::*;
use crate::schema::*;

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
            super::revisions::bump_package_revisions(conn, package_id)?;
            Ok(old)
        })?;
        deleted.append(&mut gone);
    }
    Ok(deleted)
}
