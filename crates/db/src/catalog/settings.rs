//! Instance settings and group package settings
//! (<https://docs.gitlab.com/api/graphql/reference/#packagesettings>).

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{db, found};
use crate::connection::{per_backend, DbConnection};
use crate::rows::*;
use crate::schema::*;

/// Settings key of [`InstanceSettings`].
const INSTANCE_SETTINGS_KEY: &str = "instance";

pub(super) fn instance_settings(conn: &mut DbConnection) -> Result<InstanceSettings, CatalogError> {
    let value = settings::table
        .find(INSTANCE_SETTINGS_KEY)
        .select(settings::value)
        .first::<String>(conn)
        .optional()
        .map_err(db)?;
    match value {
        Some(v) => serde_json::from_str(&v).map_err(CatalogError::backend),
        None => Ok(InstanceSettings::default()),
    }
}

pub(super) fn set_instance_settings(
    conn: &mut DbConnection,
    value: &InstanceSettings,
) -> Result<(), CatalogError> {
    let json = to_json(value)?;
    let row = (
        settings::key.eq(INSTANCE_SETTINGS_KEY),
        settings::value.eq(&json),
    );
    per_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict(settings::key)
        .do_update()
        .set(settings::value.eq(&json))
        .execute(c))
    .map_err(db)?;
    Ok(())
}

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

pub(super) fn set_group_package_settings(
    conn: &mut DbConnection,
    id: GroupId,
    json: &str,
) -> Result<(), CatalogError> {
    diesel::update(groups::table.find(id.0))
        .set(groups::package_settings.eq(json))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}
