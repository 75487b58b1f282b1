//! Groups (<https://docs.gitlab.com/api/groups/>): creation, lookups, ancestors and subtree,
//! listing, updates (renames rewrite every full path below) and the cascading delete.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::namespaces::{lock_namespaces, namespace_free_of_users, path_free_of_projects};
use super::projects::delete_project_rows;
use super::reach::{group_reach, in_subtree, Roots};
use super::{conflict_as, contains_pattern, db, keyset_after, limit_offset, lower, now, tx};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

/// Deeper than any real group tree (GitLab allows 20 levels); stops a corrupt cycle.
pub(super) const MAX_GROUP_DEPTH: usize = 100;

pub(super) fn group_by_id(
    conn: &mut DbConnection,
    id: GroupId,
) -> Result<Option<Group>, CatalogError> {
    groups::table
        .find(id.0)
        .first::<GroupRow>(conn)
        .optional()
        .map_err(db)?
        .map(Group::try_from)
        .transpose()
}

pub(super) fn create_group(conn: &mut DbConnection, new: &NewGroup) -> Result<Group, CatalogError> {
    tx(conn, |conn| {
        lock_namespaces(conn)?;
        let full_path = match new.parent_id {
            Some(parent) => {
                let parent = groups::table
                    .find(parent.0)
                    .select(groups::full_path)
                    .first::<String>(conn)
                    .optional()
                    .map_err(db)?
                    .ok_or(CatalogError::NotFound)?;
                format!("{parent}/{}", new.path)
            }
            None => {
                namespace_free_of_users(conn, &new.path)?;
                new.path.clone()
            }
        };
        path_free_of_projects(conn, &full_path)?;
        let settings = to_json(&PackageSettings::default())?;
        diesel::insert_into(groups::table)
            .values(&NewGroupRow {
                name: &new.name,
                path: &new.path,
                full_path: &full_path,
                parent_id: new.parent_id.map(|g| g.0),
                visibility: new.visibility.as_str(),
                description: &new.description,
                package_settings: &settings,
                created_at: now(),
            })
            .returning(groups::all_columns)
            .get_result::<GroupRow>(conn)
            .map_err(conflict_as("path has already been taken"))?
            .try_into()
    })
}

pub(super) fn group_ancestors(
    conn: &mut DbConnection,
    id: GroupId,
) -> Result<Vec<Group>, CatalogError> {
    let mut chain = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        if chain.len() >= MAX_GROUP_DEPTH {
            return Err(CatalogError::backend(crate::rows::DecodeError::cycle(id)));
        }
        match group_by_id(conn, id)? {
            Some(group) => {
                next = group.parent_id;
                chain.push(group);
            }
            // The asked group does not exist: no ancestors. A missing parent cannot happen
            // with foreign keys on; stop there rather than fail.
            None => break,
        }
    }
    Ok(chain)
}

fn filtered_groups(filter: &GroupFilter) -> groups::BoxedQuery<'_, MultiBackend> {
    let mut q = groups::table
        .filter(group_reach(&filter.reach))
        .into_boxed();
    if let Some(search) = &filter.search {
        let p = contains_pattern(search);
        q = q.filter(
            lower(groups::name)
                .like(p.clone())
                .escape('\\')
                .or(lower(groups::path).like(p).escape('\\')),
        );
    }
    if filter.top_level_only {
        q = q.filter(groups::parent_id.is_null());
    }
    if let Some(parent) = filter.parent {
        q = q.filter(groups::parent_id.eq(parent.0));
    }
    if let Some(group) = filter.descendants_of {
        q = q.filter(in_subtree::<groups::table>(
            "\"groups\".\"id\"",
            &[group.0],
            Roots::Below,
        ));
    }
    q
}

pub(super) fn list_groups(
    conn: &mut DbConnection,
    filter: &GroupFilter,
    options: &ListOptions,
) -> Result<Listing<Group>, CatalogError> {
    let total = match options.paging {
        Paging::Offset(_) => Some(
            filtered_groups(filter)
                .count()
                .get_result::<i64>(conn)
                .map_err(db)?,
        ),
        Paging::Keyset { .. } => None,
    };
    let mut q = filtered_groups(filter);
    if let Some(after) = keyset_after(options) {
        q = if options.descending {
            q.filter(groups::id.lt(after))
        } else {
            q.filter(groups::id.gt(after))
        };
    }
    q = match (options.order, options.descending) {
        (ListOrder::Name, false) => q.order(groups::name.asc()),
        (ListOrder::Name, true) => q.order(groups::name.desc()),
        (ListOrder::Path | ListOrder::Username, false) => q.order(groups::full_path.asc()),
        (ListOrder::Path | ListOrder::Username, true) => q.order(groups::full_path.desc()),
        (ListOrder::CreatedAt, false) => q.order(groups::created_at.asc()),
        (ListOrder::CreatedAt, true) => q.order(groups::created_at.desc()),
        (ListOrder::Id, false) => q.order(groups::id.asc()),
        (ListOrder::Id, true) => q.order(groups::id.desc()),
    };
    q = if options.descending {
        q.then_order_by(groups::id.desc())
    } else {
        q.then_order_by(groups::id.asc())
    };
    let (limit, offset) = limit_offset(options.paging);
    let rows = q
        .limit(limit)
        .offset(offset)
        .load::<GroupRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: convert_all(rows)?,
        total,
    })
}

pub(super) fn update_group(
    conn: &mut DbConnection,
    id: GroupId,
    update: &GroupUpdate,
) -> Result<Option<Group>, CatalogError> {
    tx(conn, |conn| {
        if update.path.is_some() {
            lock_namespaces(conn)?;
        }
        let Some(old) = group_by_id(conn, id)? else {
            return Ok(None);
        };
        let target = groups::table.find(id.0);
        if let Some(name) = &update.name {
            diesel::update(target)
                .set(groups::name.eq(name))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(description) = &update.description {
            diesel::update(target)
                .set(groups::description.eq(description))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(visibility) = update.visibility {
            diesel::update(target)
                .set(groups::visibility.eq(visibility.as_str()))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(path) = update.path.as_ref().filter(|p| **p != old.path) {
            // The parent's stored full path, not a split of our own: the row is the truth.
            let new_full = match old.parent_id {
                Some(parent) => {
                    let parent = groups::table
                        .find(parent.0)
                        .select(groups::full_path)
                        .first::<String>(conn)
                        .map_err(db)?;
                    format!("{parent}/{path}")
                }
                None => {
                    // A case-only rename (`acme` to `Acme`) keeps its own namespace.
                    if !path.eq_ignore_ascii_case(&old.path) {
                        namespace_free_of_users(conn, path)?;
                    }
                    path.clone()
                }
            };
            super::namespaces::path_free_of_projects(conn, &new_full)?;
            diesel::update(target)
                .set((groups::path.eq(path), groups::full_path.eq(&new_full)))
                .execute(conn)
                .map_err(conflict_as("path has already been taken"))?;
            rewrite_full_paths_below(conn, id, &new_full)?;
        }
        group_by_id(conn, id)
    })
}

/// Recomputes the full paths of every group and project below `root` (whose full path is
/// now `root_path`) from their parents, walking `parent_id` one level per query. Only rows
/// of this subtree move, whatever other rows' paths look like.
fn rewrite_full_paths_below(
    conn: &mut DbConnection,
    root: GroupId,
    root_path: &str,
) -> Result<(), CatalogError> {
    let mut level: std::collections::HashMap<i64, String> =
        std::iter::once((root.0, root_path.to_owned())).collect();
    for _ in 0..MAX_GROUP_DEPTH {
        let ids: Vec<i64> = level.keys().copied().collect();
        let in_level = projects::table
            .filter(projects::group_id.eq_any(&ids))
            .select((
                projects::id,
                projects::group_id.assume_not_null(),
                projects::path,
            ))
            .load::<(i64, i64, String)>(conn)
            .map_err(db)?;
        for (pid, gid, path) in in_level {
            let Some(parent) = level.get(&gid) else {
                continue;
            };
            diesel::update(projects::table.find(pid))
                .set(projects::full_path.eq(format!("{parent}/{path}")))
                .execute(conn)
                .map_err(conflict_as("path has already been taken"))?;
        }
        let children = groups::table
            .filter(groups::parent_id.eq_any(&ids))
            .select((
                groups::id,
                groups::parent_id.assume_not_null(),
                groups::path,
            ))
            .load::<(i64, i64, String)>(conn)
            .map_err(db)?;
        if children.is_empty() {
            return Ok(());
        }
        let mut next = std::collections::HashMap::with_capacity(children.len());
        for (gid, parent_id, path) in children {
            let Some(parent) = level.get(&parent_id) else {
                continue;
            };
            let full = format!("{parent}/{path}");
            diesel::update(groups::table.find(gid))
                .set(groups::full_path.eq(&full))
                .execute(conn)
                .map_err(conflict_as("path has already been taken"))?;
            next.insert(gid, full);
        }
        level = next;
    }
    Err(CatalogError::backend(crate::rows::DecodeError::cycle(root)))
}

pub(super) fn delete_group(conn: &mut DbConnection, id: GroupId) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let exists = diesel::select(diesel::dsl::exists(groups::table.find(id.0)))
            .get_result::<bool>(conn)
            .map_err(db)?;
        if !exists {
            return Ok(false);
        }
        // Breadth-first, one query per level; deleted deepest level first (parent keys).
        let mut levels = vec![vec![id.0]];
        while let Some(last) = levels.last() {
            if levels.len() > MAX_GROUP_DEPTH {
                return Err(CatalogError::backend(crate::rows::DecodeError::cycle(id)));
            }
            let children = groups::table
                .filter(groups::parent_id.eq_any(last))
                .select(groups::id)
                .load::<i64>(conn)
                .map_err(db)?;
            if children.is_empty() {
                break;
            }
            levels.push(children);
        }
        let all: Vec<i64> = levels.iter().flatten().copied().collect();
        let in_tree = projects::table
            .filter(projects::group_id.eq_any(&all))
            .select(projects::id)
            .load::<i64>(conn)
            .map_err(db)?;
        for project in in_tree {
            delete_project_rows(conn, project)?;
        }
        diesel::delete(
            members::table
                .filter(members::source_type.eq(SOURCE_GROUP))
                .filter(members::source_id.eq_any(&all)),
        )
        .execute(conn)
        .map_err(db)?;
        diesel::delete(deploy_tokens::table.filter(deploy_tokens::group_id.eq_any(&all)))
            .execute(conn)
            .map_err(db)?;
        for level in levels.iter().rev() {
            diesel::delete(groups::table.filter(groups::id.eq_any(level)))
                .execute(conn)
                .map_err(db)?;
        }
        Ok(true)
    })
}

/// The group and all its descendants, breadth-first (one query per level).
pub(super) fn group_tree(
    conn: &mut DbConnection,
    group: GroupId,
) -> Result<Vec<Group>, CatalogError> {
    let Some(root) = group_by_id(conn, group)? else {
        return Ok(Vec::new());
    };
    let mut all = vec![root];
    let mut level = vec![group.0];
    for _ in 0..MAX_GROUP_DEPTH {
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

pub(super) fn group_by_full_path(
    conn: &mut DbConnection,
    full_path: &str,
) -> Result<Option<Group>, CatalogError> {
    // Case-insensitive, as on GitLab (served by `groups_full_path_ci`).
    groups::table
        .filter(lower(groups::full_path).eq(lower(full_path)))
        .first::<GroupRow>(conn)
        .optional()
        .map_err(db)?
        .map(Group::try_from)
        .transpose()
}
