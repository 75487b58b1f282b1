//! Projects (<https://docs.gitlab.com/api/projects/>): creation, lookups, listing, updates,
//! the registry access setting and the cascading delete.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::groups::MAX_GROUP_DEPTH;
use super::namespaces::{lock_namespaces, path_free_of_groups};
use super::reach::{in_subtree, project_reach, Roots};
use super::{conflict_as, contains_pattern, db, found, keyset_after, limit_offset, lower, now, tx};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

pub(super) fn create_project(
    conn: &mut DbConnection,
    new: &NewProject,
) -> Result<Project, CatalogError> {
    tx(conn, |conn| {
        lock_namespaces(conn)?;
        let (namespace_path, group_id, owner_user_id) = match new.namespace {
            Namespace::Group(g) => {
                let path = groups::table
                    .find(g.0)
                    .select(groups::full_path)
                    .first::<String>(conn)
                    .optional()
                    .map_err(db)?
                    .ok_or(CatalogError::NotFound)?;
                (path, Some(g.0), None)
            }
            Namespace::User(u) => {
                let username = users::table
                    .find(u.0)
                    .select(users::username)
                    .first::<String>(conn)
                    .optional()
                    .map_err(db)?
                    .ok_or(CatalogError::NotFound)?;
                (username, None, Some(u.0))
            }
        };
        let full_path = format!("{namespace_path}/{}", new.path);
        path_free_of_groups(conn, &full_path)?;
        diesel::insert_into(projects::table)
            .values(&NewProjectRow {
                name: &new.name,
                path: &new.path,
                full_path: &full_path,
                group_id,
                owner_user_id,
                visibility: new.visibility.as_str(),
                description: &new.description,
                registry_access: new.registry_access.as_str(),
                creator_id: new.creator_id.map(|u| u.0),
                created_at: now(),
            })
            .returning(projects::all_columns)
            .get_result::<ProjectRow>(conn)
            .map_err(conflict_as("path has already been taken"))?
            .try_into()
    })
}

pub(super) fn projects_in_group_tree(
    conn: &mut DbConnection,
    group: GroupId,
) -> Result<Vec<Project>, CatalogError> {
    // Breadth-first over the groups: one query per level, not per group.
    let mut groups = vec![group.0];
    let mut level = vec![group.0];
    for _ in 0..MAX_GROUP_DEPTH {
        let children = groups::table
            .filter(groups::parent_id.eq_any(&level))
            .select(groups::id)
            .load::<i64>(conn)
            .map_err(db)?;
        if children.is_empty() {
            break;
        }
        groups.extend(&children);
        level = children;
    }
    projects::table
        .filter(projects::group_id.eq_any(&groups))
        .order(projects::id.asc())
        .load::<ProjectRow>(conn)
        .map_err(db)?
        .into_iter()
        .map(Project::try_from)
        .collect()
}

fn filtered_projects(filter: &ProjectFilter) -> projects::BoxedQuery<'_, MultiBackend> {
    let mut q = projects::table
        .filter(project_reach(&filter.reach))
        .into_boxed();
    if let Some(search) = &filter.search {
        let p = contains_pattern(search);
        q = q.filter(
            lower(projects::name)
                .like(p.clone())
                .escape('\\')
                .or(lower(projects::path).like(p).escape('\\')),
        );
    }
    if let Some(v) = filter.visibility {
        q = q.filter(projects::visibility.eq(v.as_str()));
    }
    match filter.group {
        Some(g) if filter.include_subgroups => {
            q = q.filter(in_subtree::<projects::table>(
                "\"projects\".\"group_id\"",
                &[g.0],
                Roots::Including,
            ))
        }
        Some(g) => q = q.filter(projects::group_id.eq(g.0)),
        None => {}
    }
    q
}

pub(super) fn list_projects(
    conn: &mut DbConnection,
    filter: &ProjectFilter,
    options: &ListOptions,
) -> Result<Listing<Project>, CatalogError> {
    let total = match options.paging {
        Paging::Offset(_) => Some(
            filtered_projects(filter)
                .count()
                .get_result::<i64>(conn)
                .map_err(db)?,
        ),
        Paging::Keyset { .. } => None,
    };
    let mut q = filtered_projects(filter);
    if let Some(after) = keyset_after(options) {
        q = if options.descending {
            q.filter(projects::id.lt(after))
        } else {
            q.filter(projects::id.gt(after))
        };
    }
    q = match (options.order, options.descending) {
        (ListOrder::Name, false) => q.order(projects::name.asc()),
        (ListOrder::Name, true) => q.order(projects::name.desc()),
        (ListOrder::Path | ListOrder::Username, false) => q.order(projects::full_path.asc()),
        (ListOrder::Path | ListOrder::Username, true) => q.order(projects::full_path.desc()),
        (ListOrder::CreatedAt, false) => q.order(projects::created_at.asc()),
        (ListOrder::CreatedAt, true) => q.order(projects::created_at.desc()),
        (ListOrder::Id, false) => q.order(projects::id.asc()),
        (ListOrder::Id, true) => q.order(projects::id.desc()),
    };
    q = if options.descending {
        q.then_order_by(projects::id.desc())
    } else {
        q.then_order_by(projects::id.asc())
    };
    let (limit, offset) = limit_offset(options.paging);
    let rows = q
        .limit(limit)
        .offset(offset)
        .load::<ProjectRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: convert_all(rows)?,
        total,
    })
}

pub(super) fn update_project(
    conn: &mut DbConnection,
    id: ProjectId,
    update: &ProjectUpdate,
) -> Result<Option<Project>, CatalogError> {
    let load = |conn: &mut DbConnection| {
        projects::table
            .find(id.0)
            .first::<ProjectRow>(conn)
            .optional()
            .map_err(db)?
            .map(Project::try_from)
            .transpose()
    };
    tx(conn, |conn| {
        if update.path.is_some() {
            lock_namespaces(conn)?;
        }
        let Some(old) = load(conn)? else {
            return Ok(None);
        };
        let target = projects::table.find(id.0);
        if let Some(name) = &update.name {
            diesel::update(target)
                .set(projects::name.eq(name))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(description) = &update.description {
            diesel::update(target)
                .set(projects::description.eq(description))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(visibility) = update.visibility {
            diesel::update(target)
                .set(projects::visibility.eq(visibility.as_str()))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(access) = update.registry_access {
            diesel::update(target)
                .set(projects::registry_access.eq(access.as_str()))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(path) = update.path.as_ref().filter(|p| **p != old.path) {
            let namespace = old
                .full_path
                .rsplit_once('/')
                .map(|(ns, _)| ns)
                .unwrap_or_default();
            let new_full = format!("{namespace}/{path}");
            path_free_of_groups(conn, &new_full)?;
            diesel::update(target)
                .set((projects::path.eq(path), projects::full_path.eq(&new_full)))
                .execute(conn)
                .map_err(conflict_as("path has already been taken"))?;
        }
        load(conn)
    })
}

/// Removes a project and everything that hangs off it (packages, files, tags, builds,
/// document revisions, members, deploy and job tokens, allowlist entries). Blobs stay for
/// `packyard gc`, which removes those no file references any more.
pub(super) fn delete_project_rows(
    conn: &mut DbConnection,
    project: i64,
) -> Result<(), CatalogError> {
    let packages_of = packages::table
        .filter(packages::project_id.eq(project))
        .select(packages::id);
    diesel::delete(package_files::table.filter(package_files::package_id.eq_any(packages_of)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(package_tags::table.filter(package_tags::package_id.eq_any(packages_of)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(
        package_build_infos::table.filter(package_build_infos::package_id.eq_any(packages_of)),
    )
    .execute(conn)
    .map_err(db)?;
    diesel::delete(packages::table.filter(packages::project_id.eq(project)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(package_revisions::table.filter(package_revisions::project_id.eq(project)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(
        members::table
            .filter(members::source_type.eq(SOURCE_PROJECT))
            .filter(members::source_id.eq(project)),
    )
    .execute(conn)
    .map_err(db)?;
    diesel::delete(deploy_tokens::table.filter(deploy_tokens::project_id.eq(project)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(job_tokens::table.filter(job_tokens::project_id.eq(project)))
        .execute(conn)
        .map_err(db)?;
    diesel::delete(
        job_token_allowlist::table.filter(
            job_token_allowlist::target_project_id
                .eq(project)
                .or(job_token_allowlist::source_project_id.eq(project)),
        ),
    )
    .execute(conn)
    .map_err(db)?;
    diesel::delete(projects::table.find(project))
        .execute(conn)
        .map_err(db)?;
    Ok(())
}

pub(super) fn delete_project(conn: &mut DbConnection, id: ProjectId) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let exists = diesel::select(diesel::dsl::exists(projects::table.find(id.0)))
            .get_result::<bool>(conn)
            .map_err(db)?;
        if exists {
            delete_project_rows(conn, id.0)?;
        }
        Ok(exists)
    })
}

pub(super) fn project_by_id(
    conn: &mut DbConnection,
    id: ProjectId,
) -> Result<Option<Project>, CatalogError> {
    projects::table
        .find(id.0)
        .first::<ProjectRow>(conn)
        .optional()
        .map_err(db)?
        .map(Project::try_from)
        .transpose()
}

pub(super) fn project_by_full_path(
    conn: &mut DbConnection,
    full_path: &str,
) -> Result<Option<Project>, CatalogError> {
    // Case-insensitive, as on GitLab (served by `projects_full_path_ci`).
    projects::table
        .filter(lower(projects::full_path).eq(lower(full_path)))
        .first::<ProjectRow>(conn)
        .optional()
        .map_err(db)?
        .map(Project::try_from)
        .transpose()
}

pub(super) fn set_project_registry_access(
    conn: &mut DbConnection,
    id: ProjectId,
    access: RegistryAccess,
) -> Result<(), CatalogError> {
    diesel::update(projects::table.find(id.0))
        .set(projects::registry_access.eq(access.as_str()))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}
