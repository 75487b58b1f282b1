//! Package files: listing, the newest downloadable file of a version, metadata updates,
//! blob references and deletes.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::revisions::bump_package_revisions;
use super::{db, now, tx};
use crate::connection::DbConnection;
use crate::rows::*;
use crate::schema::*;

pub(super) fn package_files(
    conn: &mut DbConnection,
    package: PackageId,
    page: Page,
) -> Result<(Vec<PackageFile>, i64), CatalogError> {
    let total = package_files::table
        .filter(package_files::package_id.eq(package.0))
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let rows = package_files::table
        .filter(package_files::package_id.eq(package.0))
        .order(package_files::id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<PackageFileRow>(conn)
        .map_err(db)?;
    Ok((convert_all(rows)?, total))
}

pub(super) fn newest_package_file(
    conn: &mut DbConnection,
    project: ProjectId,
    format: &str,
    normalized_name: &str,
    version: &str,
    file_name: &str,
    statuses: &[&'static str],
) -> Result<Option<(Package, PackageFile)>, CatalogError> {
    let found = package_files::table
        .inner_join(packages::table)
        .filter(packages::project_id.eq(project.0))
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(normalized_name))
        .filter(packages::version.eq(version))
        .filter(packages::status.eq_any(statuses))
        .filter(package_files::file_name.eq(file_name))
        .order(package_files::id.desc())
        .select((packages::all_columns, package_files::all_columns))
        .first::<(PackageRow, PackageFileRow)>(conn)
        .optional()
        .map_err(db)?;
    found
        .map(|(p, f)| Ok((p.try_into()?, f.try_into()?)))
        .transpose()
}

pub(super) fn delete_package_file(
    conn: &mut DbConnection,
    package: PackageId,
    id: PackageFileId,
) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let deleted = diesel::delete(
            package_files::table
                .filter(package_files::package_id.eq(package.0))
                .filter(package_files::id.eq(id.0)),
        )
        .execute(conn)
        .map_err(db)?;
        if deleted > 0 {
            // Documents derived from the package (indexes, metadata) must be rebuilt.
            diesel::update(packages::table.find(package.0))
                .set(packages::updated_at.eq(now()))
                .execute(conn)
                .map_err(db)?;
            bump_package_revisions(conn, package.0)?;
        }
        Ok(deleted > 0)
    })
}

pub(super) fn update_package_file_metadata(
    conn: &mut DbConnection,
    package: PackageId,
    id: PackageFileId,
    metadata: &serde_json::Value,
) -> Result<bool, CatalogError> {
    let metadata = to_json(metadata)?;
    tx(conn, |conn| {
        let changed = diesel::update(
            package_files::table
                .filter(package_files::package_id.eq(package.0))
                .filter(package_files::id.eq(id.0)),
        )
        .set(package_files::metadata.eq(&metadata))
        .execute(conn)
        .map_err(db)?;
        if changed > 0 {
            bump_package_revisions(conn, package.0)?;
        }
        Ok(changed > 0)
    })
}

pub(super) fn package_file(
    conn: &mut DbConnection,
    package: PackageId,
    id: PackageFileId,
) -> Result<Option<PackageFile>, CatalogError> {
    package_files::table
        .filter(package_files::id.eq(id.0))
        .filter(package_files::package_id.eq(package.0))
        .first::<PackageFileRow>(conn)
        .optional()
        .map_err(db)?
        .map(PackageFile::try_from)
        .transpose()
}

pub(super) fn package_files_of(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<PackageFile>, CatalogError> {
    let mut files = Vec::new();
    for chunk in ids.chunks(10_000) {
        let rows = package_files::table
            .filter(package_files::package_id.eq_any(chunk))
            .order((package_files::package_id.asc(), package_files::id.asc()))
            .load::<PackageFileRow>(conn)
            .map_err(db)?;
        for row in rows {
            files.push(PackageFile::try_from(row)?);
        }
    }
    files.sort_by_key(|f| (f.package_id.0, f.id.0));
    Ok(files)
}

pub(super) fn is_blob_referenced(
    conn: &mut DbConnection,
    sha256: &str,
) -> Result<bool, CatalogError> {
    diesel::select(diesel::dsl::exists(
        package_files::table.filter(package_files::sha256.eq(sha256)),
    ))
    .get_result::<bool>(conn)
    .map_err(db)
}

pub(super) fn package_files_after(
    conn: &mut DbConnection,
    after: PackageFileId,
    limit: i64,
) -> Result<Vec<PackageFile>, CatalogError> {
    let rows = package_files::table
        .filter(package_files::id.gt(after.0))
        .order(package_files::id.asc())
        .limit(limit.max(0))
        .load::<PackageFileRow>(conn)
        .map_err(db)?;
    convert_all(rows)
}
