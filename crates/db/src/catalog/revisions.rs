//! Revisions of package names and of each project's list of names, bumped inside the
//! writing transaction (see `Revision` in the core model) so readers can revalidate.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{db, now};
use crate::connection::{per_backend, DbConnection};
use crate::schema::*;

/// Bumps the revision of the package name and of the project's list of names, inside the
/// caller's transaction (see `Revision` in the core model).
pub(super) fn bump_revisions(
    conn: &mut DbConnection,
    project: i64,
    format: &str,
    normalized_name: &str,
) -> Result<(), CatalogError> {
    let at = now();
    for name in [normalized_name, ""] {
        per_backend!(conn, |c| diesel::insert_into(package_revisions::table)
            .values((
                package_revisions::project_id.eq(project),
                package_revisions::format.eq(format),
                package_revisions::normalized_name.eq(name),
                package_revisions::revision.eq(1i64),
                package_revisions::updated_at.eq(at),
            ))
            .on_conflict((
                package_revisions::project_id,
                package_revisions::format,
                package_revisions::normalized_name,
            ))
            .do_update()
            .set((
                package_revisions::revision.eq(package_revisions::revision + 1i64),
                package_revisions::updated_at.eq(at),
            ))
            .execute(c))
        .map_err(db)?;
    }
    Ok(())
}

/// Bumps the revisions of the package `id`'s name (no-op when it is gone).
pub(super) fn bump_package_revisions(conn: &mut DbConnection, id: i64) -> Result<(), CatalogError> {
    let row = packages::table
        .find(id)
        .select((
            packages::project_id,
            packages::format,
            packages::normalized_name,
        ))
        .first::<(i64, String, String)>(conn)
        .optional()
        .map_err(db)?;
    match row {
        Some((project, format, name)) => bump_revisions(conn, project, &format, &name),
        None => Ok(()),
    }
}

pub(super) fn package_revisions(
    conn: &mut DbConnection,
    ids: &[i64],
    format: &str,
    name: &str,
) -> Result<Vec<Revision>, CatalogError> {
    package_revisions::table
        .filter(package_revisions::format.eq(format))
        .filter(package_revisions::normalized_name.eq(name))
        .filter(package_revisions::project_id.eq_any(ids))
        .select((
            package_revisions::project_id,
            package_revisions::revision,
            package_revisions::updated_at,
        ))
        .load::<(i64, i64, i64)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(p, revision, updated_at)| Revision {
                    project_id: ProjectId(p),
                    revision,
                    updated_at,
                })
                .collect()
        })
        .map_err(db)
}
