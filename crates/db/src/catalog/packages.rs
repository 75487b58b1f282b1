//! Packages (<https://docs.gitlab.com/api/packages/>): publishing a file (which creates the
//! package), lookups by id and name, listings, names, updates, build infos and deletes.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use packyard_core::model::*;
use packyard_core::ports::{CatalogError, DuplicatePolicy, PublishFile};

use super::revisions::{bump_package_revisions, bump_revisions};
use super::{contains_pattern, db, found, is_unique_violation, lower, now, tx, IN_CHUNK};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

/// Build infos kept per package (GitLab shows the last five publishes).
pub(super) const BUILD_INFOS_KEPT: i64 = 5;

fn find_package(
    conn: &mut DbConnection,
    p: &NewPackage,
) -> Result<Option<PackageRow>, DieselError> {
    packages::table
        .filter(packages::project_id.eq(p.project_id.0))
        .filter(packages::format.eq(&p.format))
        .filter(packages::normalized_name.eq(&p.normalized_name))
        .filter(packages::version.eq(&p.version))
        .first::<PackageRow>(conn)
        .optional()
}

pub(super) fn publish_file(
    conn: &mut DbConnection,
    publish: &PublishFile,
) -> Result<(Package, PackageFile), CatalogError> {
    let metadata = to_json(&publish.package.metadata)?;
    let file_metadata = to_json(&publish.file_metadata)?;
    let build_json = publish.build.as_ref().map(to_json).transpose()?;
    let size = i64::try_from(publish.digests.size).map_err(CatalogError::backend)?;
    tx(conn, |conn| {
        let at = now();
        let p = &publish.package;
        let (package, created) = match find_package(conn, p).map_err(db)? {
            Some(row) => (row, false),
            None => {
                // A savepoint: on PostgreSQL a failed statement aborts the whole transaction,
                // and a concurrent publisher may insert the same package first.
                let inserted = conn.transaction::<_, DieselError, _>(|c| {
                    diesel::insert_into(packages::table)
                        .values(&NewPackageRow {
                            project_id: p.project_id.0,
                            format: &p.format,
                            name: &p.name,
                            normalized_name: &p.normalized_name,
                            version: &p.version,
                            status: p.status.as_str(),
                            metadata: &metadata,
                            created_at: at,
                            updated_at: at,
                        })
                        .returning(packages::all_columns)
                        .get_result::<PackageRow>(c)
                });
                match inserted {
                    Ok(row) => (row, true),
                    Err(e) if is_unique_violation(&e) => {
                        let row = find_package(conn, p).map_err(db)?;
                        (row.ok_or_else(|| CatalogError::backend(e))?, false)
                    }
                    Err(e) => return Err(db(e)),
                }
            }
        };
        if let (false, DuplicatePolicy::RejectExistingVersion { message }) =
            (created, &publish.duplicates)
        {
            return Err(CatalogError::Conflict(message.clone()));
        }
        // Touch the package row before looking at its files: on PostgreSQL this takes the
        // row lock, so concurrent publishers of one package check file names one at a time.
        let bump = diesel::update(packages::table.find(package.id));
        let package = match publish.status_override {
            Some(status) => bump
                .set((
                    packages::updated_at.eq(at),
                    packages::status.eq(status.as_str()),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            None => bump
                .set(packages::updated_at.eq(at))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
        }
        .map_err(db)?;
        let package_id = package.id;
        if let DuplicatePolicy::RejectSameFileName { message } = &publish.duplicates {
            let taken = diesel::select(diesel::dsl::exists(
                package_files::table
                    .filter(package_files::package_id.eq(package_id))
                    .filter(package_files::file_name.eq(&publish.file_name)),
            ))
            .get_result::<bool>(conn)
            .map_err(db)?;
            if taken {
                return Err(CatalogError::Conflict(message.clone()));
            }
        }
        let d = &publish.digests;
        let file = diesel::insert_into(package_files::table)
            .values(&NewPackageFileRow {
                package_id,
                file_name: &publish.file_name,
                size,
                sha256: &d.sha256,
                sha1: &d.sha1,
                md5: &d.md5,
                sha512: &d.sha512,
                metadata: &file_metadata,
                build_info: build_json.as_deref(),
                created_at: at,
            })
            .returning(package_files::all_columns)
            .get_result::<PackageFileRow>(conn)
            .map_err(db)?;
        if let Some(build) = &publish.build {
            diesel::insert_into(package_build_infos::table)
                .values(&NewPackageBuildInfoRow {
                    package_id,
                    user_id: publish.user_id.map(|u| u.0),
                    pipeline_id: build.pipeline_id,
                    job_id: build.job_id,
                    git_ref: &build.git_ref,
                    sha: &build.sha,
                    created_at: at,
                })
                .execute(conn)
                .map_err(db)?;
            let kept = package_build_infos::table
                .filter(package_build_infos::package_id.eq(package_id))
                .order(package_build_infos::id.desc())
                .select(package_build_infos::id)
                .limit(BUILD_INFOS_KEPT)
                .load::<i64>(conn)
                .map_err(db)?;
            if let Some(oldest_kept) = kept.last() {
                diesel::delete(
                    package_build_infos::table
                        .filter(package_build_infos::package_id.eq(package_id))
                        .filter(package_build_infos::id.lt(oldest_kept)),
                )
                .execute(conn)
                .map_err(db)?;
            }
        }
        bump_revisions(conn, package.project_id, &p.format, &p.normalized_name)?;
        Ok((package.try_into()?, file.try_into()?))
    })
}

/// The packages of `projects` that `filter` selects, as a boxed query so the page and the
/// count share one definition.
fn filtered_packages<'a>(
    projects: &'a [i64],
    filter: &'a PackageFilter,
) -> packages::BoxedQuery<'a, MultiBackend> {
    let mut q = packages::table
        .filter(packages::project_id.eq_any(projects))
        .into_boxed();
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
    q
}

pub(super) fn list_packages(
    conn: &mut DbConnection,
    projects: &[ProjectId],
    filter: &PackageFilter,
    order: PackageOrder,
    descending: bool,
    page: Page,
) -> Result<(Vec<Package>, i64), CatalogError> {
    if projects.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    let total = filtered_packages(&ids, filter)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let q = filtered_packages(&ids, filter);
    let q = match (order, descending) {
        (PackageOrder::CreatedAt, false) => q.order(packages::created_at.asc()),
        (PackageOrder::CreatedAt, true) => q.order(packages::created_at.desc()),
        (PackageOrder::Name, false) => q.order(packages::name.asc()),
        (PackageOrder::Name, true) => q.order(packages::name.desc()),
        (PackageOrder::Version, false) => q.order(packages::version.asc()),
        (PackageOrder::Version, true) => q.order(packages::version.desc()),
        (PackageOrder::Type, false) => q.order(packages::format.asc()),
        (PackageOrder::Type, true) => q.order(packages::format.desc()),
    };
    let q = if descending {
        q.then_order_by(packages::id.desc())
    } else {
        q.then_order_by(packages::id.asc())
    };
    let rows = q
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<PackageRow>(conn)
        .map_err(db)?;
    Ok((convert_all(rows)?, total))
}

pub(super) fn delete_package(conn: &mut DbConnection, id: PackageId) -> Result<bool, CatalogError> {
    // Explicit deletes rather than relying on ON DELETE CASCADE alone: SQLite enforces
    // foreign keys only on connections that turned them on.
    tx(conn, |conn| {
        bump_package_revisions(conn, id.0)?;
        diesel::delete(package_files::table.filter(package_files::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        diesel::delete(package_tags::table.filter(package_tags::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        diesel::delete(package_build_infos::table.filter(package_build_infos::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        let deleted = diesel::delete(packages::table.find(id.0))
            .execute(conn)
            .map_err(db)?;
        Ok(deleted > 0)
    })
}

pub(super) fn update_package(
    conn: &mut DbConnection,
    id: PackageId,
    update: &PackageUpdate,
) -> Result<Option<Package>, CatalogError> {
    let metadata = update.metadata.as_ref().map(to_json).transpose()?;
    tx(conn, |conn| {
        let at = now();
        let q = diesel::update(packages::table.find(id.0));
        let row = match (update.status, &metadata) {
            (Some(status), Some(m)) => q
                .set((
                    packages::status.eq(status.as_str()),
                    packages::metadata.eq(m),
                    packages::updated_at.eq(at),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (Some(status), None) => q
                .set((
                    packages::status.eq(status.as_str()),
                    packages::updated_at.eq(at),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (None, Some(m)) => q
                .set((packages::metadata.eq(m), packages::updated_at.eq(at)))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (None, None) => q
                .set(packages::updated_at.eq(at))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
        }
        .optional()
        .map_err(db)?;
        match row {
            Some(row) => {
                bump_revisions(conn, row.project_id, &row.format, &row.normalized_name)?;
                Ok(Some(row.try_into()?))
            }
            None => Ok(None),
        }
    })
}

/// The ids of every version of the name of package `id`, and its (project, format, name).
pub(super) fn sibling_ids(
    conn: &mut DbConnection,
    project: i64,
    format: &str,
    normalized_name: &str,
) -> Result<Vec<i64>, CatalogError> {
    packages::table
        .filter(packages::project_id.eq(project))
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(normalized_name))
        .select(packages::id)
        .load::<i64>(conn)
        .map_err(db)
}

pub(super) fn package_names(
    conn: &mut DbConnection,
    projects: &[i64],
    format: &str,
) -> Result<Vec<PackageName>, CatalogError> {
    let listed = [
        PackageStatus::Default.as_str(),
        PackageStatus::Deprecated.as_str(),
    ];
    // The first-published spelling of each name: the row with the smallest id.
    let rows = packages::table
        .filter(packages::project_id.eq_any(projects))
        .filter(packages::format.eq(format))
        .filter(packages::status.eq_any(listed))
        .group_by((packages::project_id, packages::normalized_name))
        .select((
            packages::project_id,
            packages::normalized_name,
            diesel::dsl::min(packages::id),
        ))
        .load::<(i64, String, Option<i64>)>(conn)
        .map_err(db)?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.2).collect();
    let mut names: Vec<PackageName> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let spelled = packages::table
            .filter(packages::id.eq_any(chunk))
            .select((
                packages::project_id,
                packages::name,
                packages::normalized_name,
            ))
            .load::<(i64, String, String)>(conn)
            .map_err(db)?;
        names.extend(
            spelled
                .into_iter()
                .map(|(p, name, normalized_name)| PackageName {
                    project_id: ProjectId(p),
                    name,
                    normalized_name,
                }),
        );
    }
    names.sort_by(|a, b| {
        a.normalized_name
            .cmp(&b.normalized_name)
            .then(a.project_id.0.cmp(&b.project_id.0))
    });
    Ok(names)
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
    let total = filtered_packages(&ids, filter)
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

pub(super) fn package_by_id(
    conn: &mut DbConnection,
    project: ProjectId,
    id: PackageId,
) -> Result<Option<Package>, CatalogError> {
    packages::table
        .filter(packages::id.eq(id.0))
        .filter(packages::project_id.eq(project.0))
        .first::<PackageRow>(conn)
        .optional()
        .map_err(db)?
        .map(Package::try_from)
        .transpose()
}

pub(super) fn packages_by_name(
    conn: &mut DbConnection,
    project: ProjectId,
    format: &str,
    normalized_name: &str,
) -> Result<Vec<Package>, CatalogError> {
    let rows = packages::table
        .filter(packages::project_id.eq(project.0))
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(normalized_name))
        .order((packages::created_at.asc(), packages::id.asc()))
        .load::<PackageRow>(conn)
        .map_err(db)?;
    convert_all(rows)
}

pub(super) fn touch_package_downloaded(
    conn: &mut DbConnection,
    id: PackageId,
    at: Millis,
) -> Result<(), CatalogError> {
    diesel::update(packages::table.find(id.0))
        .set(packages::last_downloaded_at.eq(at))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}

pub(super) fn package_build_infos(
    conn: &mut DbConnection,
    package: PackageId,
) -> Result<Vec<PackageBuildInfo>, CatalogError> {
    package_build_infos::table
        .filter(package_build_infos::package_id.eq(package.0))
        .order(package_build_infos::id.desc())
        .limit(BUILD_INFOS_KEPT)
        .load::<PackageBuildInfoRow>(conn)
        .map(|rows| rows.into_iter().map(PackageBuildInfo::from).collect())
        .map_err(db)
}

pub(super) fn projects_with_package(
    conn: &mut DbConnection,
    format: &str,
    name: &str,
) -> Result<Vec<ProjectId>, CatalogError> {
    packages::table
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(name))
        .select(packages::project_id)
        .distinct()
        .order(packages::project_id.asc())
        .load::<i64>(conn)
        .map(|ids| ids.into_iter().map(ProjectId).collect())
        .map_err(db)
}

pub(super) fn packages_by_name_in(
    conn: &mut DbConnection,
    ids: &[i64],
    format: &str,
    name: &str,
) -> Result<Vec<Package>, CatalogError> {
    packages::table
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(name))
        .filter(packages::project_id.eq_any(ids))
        .order((packages::created_at.asc(), packages::id.asc()))
        .load::<PackageRow>(conn)
        .map_err(db)?
        .into_iter()
        .map(Package::try_from)
        .collect()
}
