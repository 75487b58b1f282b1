//! Package protection rules
//! (<https://docs.gitlab.com/api/project_packages_protection_rules/>).

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{conflict_as, db, now};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

#[derive(Queryable)]
struct ProtectionRuleRow {
    id: i64,
    project_id: i64,
    package_name_pattern: String,
    package_type: String,
    minimum_access_level_for_push: Option<String>,
    minimum_access_level_for_delete: Option<String>,
    created_at: i64,
    updated_at: i64,
}

pub(super) fn level(
    column: &'static str,
    v: Option<String>,
) -> Result<Option<ProtectionLevel>, CatalogError> {
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
