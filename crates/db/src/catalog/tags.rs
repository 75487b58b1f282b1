//! Package tags (npm dist-tags): one tag names at most one version of a package name.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::packages::sibling_ids;
use super::revisions::bump_revisions;
use super::{db, now, tx, IN_CHUNK};
use crate::connection::DbConnection;
use crate::rows::*;
use crate::schema::*;

pub(super) fn set_package_tag(
    conn: &mut DbConnection,
    id: PackageId,
    tag: &str,
) -> Result<(), CatalogError> {
    tx(conn, |conn| {
        let (project, format, name) = packages::table
            .find(id.0)
            .select((
                packages::project_id,
                packages::format,
                packages::normalized_name,
            ))
            .first::<(i64, String, String)>(conn)
            .optional()
            .map_err(db)?
            .ok_or(CatalogError::NotFound)?;
        let siblings = sibling_ids(conn, project, &format, &name)?;
        let at = now();
        let created = package_tags::table
            .filter(package_tags::package_id.eq_any(&siblings))
            .filter(package_tags::name.eq(tag))
            .select(package_tags::created_at)
            .first::<i64>(conn)
            .optional()
            .map_err(db)?
            .unwrap_or(at);
        diesel::delete(
            package_tags::table
                .filter(package_tags::package_id.eq_any(&siblings))
                .filter(package_tags::name.eq(tag)),
        )
        .execute(conn)
        .map_err(db)?;
        diesel::insert_into(package_tags::table)
            .values((
                package_tags::package_id.eq(id.0),
                package_tags::name.eq(tag),
                package_tags::created_at.eq(created),
                package_tags::updated_at.eq(at),
            ))
            .execute(conn)
            .map_err(db)?;
        bump_revisions(conn, project, &format, &name)
    })
}

pub(super) fn delete_package_tag(
    conn: &mut DbConnection,
    project: ProjectId,
    format: &str,
    normalized_name: &str,
    tag: &str,
) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let siblings = sibling_ids(conn, project.0, format, normalized_name)?;
        let deleted = diesel::delete(
            package_tags::table
                .filter(package_tags::package_id.eq_any(&siblings))
                .filter(package_tags::name.eq(tag)),
        )
        .execute(conn)
        .map_err(db)?;
        if deleted > 0 {
            bump_revisions(conn, project.0, format, normalized_name)?;
        }
        Ok(deleted > 0)
    })
}

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

pub(super) fn package_tags(
    conn: &mut DbConnection,
    package: PackageId,
) -> Result<Vec<PackageTag>, CatalogError> {
    package_tags::table
        .filter(package_tags::package_id.eq(package.0))
        .order((package_tags::name.asc(), package_tags::id.asc()))
        .load::<PackageTagRow>(conn)
        .map(|rows| rows.into_iter().map(PackageTag::from).collect())
        .map_err(db)
}

pub(super) fn package_tags_by_name(
    conn: &mut DbConnection,
    project: ProjectId,
    format: &str,
    name: &str,
) -> Result<Vec<(String, PackageId)>, CatalogError> {
    package_tags::table
        .inner_join(packages::table)
        .filter(packages::project_id.eq(project.0))
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(name))
        .order(package_tags::name.asc())
        .select((package_tags::name, package_tags::package_id))
        .load::<(String, i64)>(conn)
        .map(|rows| rows.into_iter().map(|(t, p)| (t, PackageId(p))).collect())
        .map_err(db)
}
