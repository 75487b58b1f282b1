//! Catalog queries of the management API (<https://docs.gitlab.com/api/users/>,
//! <https://docs.gitlab.com/api/groups/>, <https://docs.gitlab.com/api/projects/>,
//! <https://docs.gitlab.com/api/members/>, <https://docs.gitlab.com/api/deploy_tokens/>):
//! listings, updates and cascading deletes of users, tokens, groups, projects and members.
//!
//! Every listing filters, orders and pages in SQL (`LIMIT`/`OFFSET`, or `id > after` for
//! keyset pages) over indexed columns; nothing loads a table to page it in memory. What a
//! caller may see ([`Reach`]) is part of the `WHERE` clause. Everything that concerns the
//! group tree (what a membership reaches, descendants, renames) follows `parent_id`, never
//! a pattern on a path string: paths compare case-insensitively, so a `LIKE 'secret/%'`
//! would also match another tenant's `Secret/...` on SQLite. Deletes remove dependent rows
//! explicitly in one transaction, children before parents, so they work whether or not the
//! connection enforces foreign keys, and a failure leaves everything in place.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{
    conflict_as, contains_pattern, db, lock_namespaces, lower, namespace_free_of_users, now,
    path_free_of_groups, tx, username_free_of_groups,
};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

/// A subquery (in parentheses) of the ids of the groups `roots` (`Roots::Including`) or of
/// their children (`Roots::Below`), and of every group below those by `parent_id`. One
/// recursive CTE, the same SQL on SQLite and PostgreSQL; `UNION` (not `UNION ALL`) ends at
/// a corrupt cycle. The ids are integers written into the text: nothing from a request.
fn subtree_ids(roots: &[i64], from: Roots) -> String {
    let list = roots
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let seed = match from {
        Roots::Including => format!("SELECT id FROM \"groups\" WHERE id IN ({list})"),
        Roots::Below => format!("SELECT id FROM \"groups\" WHERE parent_id IN ({list})"),
    };
    format!(
        "(WITH RECURSIVE subtree(id) AS ({seed} UNION \
         SELECT g.id FROM \"groups\" g JOIN subtree s ON g.parent_id = s.id) \
         SELECT id FROM subtree)"
    )
}

#[derive(Clone, Copy)]
enum Roots {
    Including,
    Below,
}

/// `"<table>".<column> IN <subtree of roots>`; `1 = 0` for no roots.
fn in_subtree<T>(
    column: &str,
    roots: &[i64],
    from: Roots,
) -> Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>
where
    diesel::expression::SqlLiteral<Bool>: BoxableExpression<T, MultiBackend, SqlType = Bool>,
{
    if roots.is_empty() {
        return never();
    }
    Box::new(sql::<Bool>(&format!(
        "{column} IN {}",
        subtree_ids(roots, from)
    )))
}

fn visibilities_from(min: Visibility) -> Vec<&'static str> {
    Visibility::ALL
        .into_iter()
        .filter(|v| *v >= min)
        .map(Visibility::as_str)
        .collect()
}

type GroupCond = Box<dyn BoxableExpression<groups::table, MultiBackend, SqlType = Bool>>;
type ProjectCond = Box<dyn BoxableExpression<projects::table, MultiBackend, SqlType = Bool>>;

fn never<T>() -> Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>
where
    diesel::expression::SqlLiteral<Bool>: BoxableExpression<T, MultiBackend, SqlType = Bool>,
{
    Box::new(sql::<Bool>("1 = 0"))
}

/// The groups `reach` may see: by visibility, or as (an ancestor's) member.
fn group_reach(reach: &Reach) -> GroupCond {
    if reach.everything {
        return Box::new(sql::<Bool>("1 = 1"));
    }
    let mut cond: GroupCond = never();
    if let Some(min) = reach.min_visibility {
        cond = Box::new(cond.or(groups::visibility.eq_any(visibilities_from(min))));
    }
    if !reach.group_ids.is_empty() {
        let ids: Vec<i64> = reach.group_ids.iter().map(|g| g.0).collect();
        cond = Box::new(cond.or(in_subtree::<groups::table>(
            "\"groups\".\"id\"",
            &ids,
            Roots::Including,
        )));
    }
    cond
}

/// The projects `reach` may see: by visibility, as a member of the project or of a group
/// above it, or as the owner of its personal namespace.
fn project_reach(reach: &Reach) -> ProjectCond {
    if reach.everything {
        return Box::new(sql::<Bool>("1 = 1"));
    }
    let mut cond: ProjectCond = never();
    if let Some(min) = reach.min_visibility {
        cond = Box::new(cond.or(projects::visibility.eq_any(visibilities_from(min))));
    }
    if !reach.project_ids.is_empty() {
        let ids: Vec<i64> = reach.project_ids.iter().map(|p| p.0).collect();
        cond = Box::new(cond.or(projects::id.eq_any(ids)));
    }
    if !reach.group_ids.is_empty() {
        let ids: Vec<i64> = reach.group_ids.iter().map(|g| g.0).collect();
        cond = Box::new(cond.or(in_subtree::<projects::table>(
            "\"projects\".\"group_id\"",
            &ids,
            Roots::Including,
        )));
    }
    if let Some(owner) = reach.owner {
        cond = Box::new(cond.or(projects::owner_user_id.assume_not_null().eq(owner.0)));
    }
    cond
}

fn keyset_after(options: &ListOptions) -> Option<i64> {
    match options.paging {
        Paging::Keyset { after_id, .. } => after_id,
        Paging::Offset(_) => None,
    }
}

fn limit_offset(paging: Paging) -> (i64, i64) {
    match paging {
        Paging::Offset(p) => (p.per_page.max(0), p.offset().max(0)),
        Paging::Keyset { per_page, .. } => (per_page.max(0), 0),
    }
}

// ---------------------------------------------------------------- users

fn filtered_users(filter: &UserFilter) -> users::BoxedQuery<'_, MultiBackend> {
    let mut q = users::table.into_boxed();
    match filter.blocked {
        Some(true) => q = q.filter(users::state.eq(UserState::Blocked.as_str())),
        Some(false) => q = q.filter(users::state.eq(UserState::Active.as_str())),
        None => {}
    }
    if let Some(username) = &filter.username {
        q = q.filter(lower(users::username).eq(username.to_lowercase()));
    }
    if let Some(search) = &filter.search {
        let p = contains_pattern(search);
        if filter.search_email {
            q = q.filter(
                lower(users::username)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::name).like(p.clone()).escape('\\'))
                    .or(lower(users::email).like(p).escape('\\')),
            );
        } else {
            q = q.filter(
                lower(users::username)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::name).like(p).escape('\\')),
            );
        }
    }
    q
}

pub(super) fn list_users(
    conn: &mut DbConnection,
    filter: &UserFilter,
    options: &ListOptions,
) -> Result<Listing<User>, CatalogError> {
    let total = match options.paging {
        Paging::Offset(_) => Some(
            filtered_users(filter)
                .count()
                .get_result::<i64>(conn)
                .map_err(db)?,
        ),
        Paging::Keyset { .. } => None,
    };
    let mut q = filtered_users(filter);
    if let Some(after) = keyset_after(options) {
        q = if options.descending {
            q.filter(users::id.lt(after))
        } else {
            q.filter(users::id.gt(after))
        };
    }
    q = match (options.order, options.descending) {
        (ListOrder::Name, false) => q.order(users::name.asc()),
        (ListOrder::Name, true) => q.order(users::name.desc()),
        (ListOrder::Username | ListOrder::Path, false) => q.order(users::username.asc()),
        (ListOrder::Username | ListOrder::Path, true) => q.order(users::username.desc()),
        (ListOrder::CreatedAt, false) => q.order(users::created_at.asc()),
        (ListOrder::CreatedAt, true) => q.order(users::created_at.desc()),
        (ListOrder::Id, false) => q.order(users::id.asc()),
        (ListOrder::Id, true) => q.order(users::id.desc()),
    };
    q = if options.descending {
        q.then_order_by(users::id.desc())
    } else {
        q.then_order_by(users::id.asc())
    };
    let (limit, offset) = limit_offset(options.paging);
    let rows = q
        .limit(limit)
        .offset(offset)
        .load::<UserRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: rows.into_iter().map(User::from).collect(),
        total,
    })
}

pub(super) fn user_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<User>, CatalogError> {
    users::table
        .filter(lower(users::email).eq(email.to_lowercase()))
        .first::<UserRow>(conn)
        .optional()
        .map(|u| u.map(User::from))
        .map_err(db)
}

pub(super) fn update_user(
    conn: &mut DbConnection,
    id: UserId,
    update: &UserUpdate,
) -> Result<Option<User>, CatalogError> {
    tx(conn, |conn| {
        if update.username.is_some() {
            lock_namespaces(conn)?;
        }
        let Some(old) = users::table
            .find(id.0)
            .first::<UserRow>(conn)
            .optional()
            .map_err(db)?
            .map(User::from)
        else {
            return Ok(None);
        };
        let target = users::table.find(id.0);
        if let Some(name) = &update.name {
            diesel::update(target)
                .set(users::name.eq(name))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(email) = &update.email {
            diesel::update(target)
                .set(users::email.eq(email))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(is_admin) = update.is_admin {
            diesel::update(target)
                .set(users::is_admin.eq(is_admin))
                .execute(conn)
                .map_err(db)?;
        }
        if let Some(hash) = &update.password_hash {
            diesel::update(target)
                .set(users::password_hash.eq(Some(hash)))
                .execute(conn)
                .map_err(db)?;
            // A new password signs every browser out: a stolen session ends with it.
            super::web::delete_user_web_sessions(conn, id)?;
        }
        if let Some(username) = update.username.as_ref().filter(|u| **u != old.username) {
            if !username.eq_ignore_ascii_case(&old.username) {
                username_free_of_groups(conn, username)?;
            }
            diesel::update(target)
                .set(users::username.eq(username))
                .execute(conn)
                .map_err(conflict_as("Username has already been taken"))?;
            // The personal namespace is the username: its projects move with it.
            let owned = projects::table
                .filter(projects::owner_user_id.eq(id.0))
                .select((projects::id, projects::path))
                .load::<(i64, String)>(conn)
                .map_err(db)?;
            for (project, path) in owned {
                diesel::update(projects::table.find(project))
                    .set(projects::full_path.eq(format!("{username}/{path}")))
                    .execute(conn)
                    .map_err(conflict_as("path has already been taken"))?;
            }
        }
        users::table
            .find(id.0)
            .first::<UserRow>(conn)
            .optional()
            .map(|u| u.map(User::from))
            .map_err(db)
    })
}

/// Blocks or unblocks a user (`None` when there is none). Blocking deletes every web
/// session of the user in the same transaction, so no browser stays signed in past the
/// commit; tokens stay (GitLab keeps them) and are refused at authentication while the
/// user is blocked. The commit moves the change stamp, so no cached read of the user (or
/// its tokens) taken before it is used after it.
pub(super) fn set_user_state(
    conn: &mut DbConnection,
    id: UserId,
    state: UserState,
) -> Result<Option<User>, CatalogError> {
    tx(conn, |conn| {
        let updated = diesel::update(users::table.find(id.0))
            .set(users::state.eq(state.as_str()))
            .execute(conn)
            .map_err(db)?;
        if updated == 0 {
            return Ok(None);
        }
        if state == UserState::Blocked {
            super::web::delete_user_web_sessions(conn, id)?;
        }
        users::table
            .find(id.0)
            .first::<UserRow>(conn)
            .optional()
            .map(|u| u.map(User::from))
            .map_err(db)
    })
}

pub(super) fn delete_user(conn: &mut DbConnection, id: UserId) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let exists = diesel::select(diesel::dsl::exists(users::table.find(id.0)))
            .get_result::<bool>(conn)
            .map_err(db)?;
        if !exists {
            return Ok(false);
        }
        let personal = projects::table
            .filter(projects::owner_user_id.eq(id.0))
            .select(projects::id)
            .load::<i64>(conn)
            .map_err(db)?;
        for project in personal {
            delete_project_rows(conn, project)?;
        }
        diesel::delete(members::table.filter(members::user_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        diesel::delete(
            personal_access_tokens::table.filter(personal_access_tokens::user_id.eq(id.0)),
        )
        .execute(conn)
        .map_err(db)?;
        diesel::delete(job_tokens::table.filter(job_tokens::user_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        // Not left to `ON DELETE CASCADE`, which SQLite honours only with `foreign_keys` on.
        super::web::delete_user_web_sessions(conn, id)?;
        // CI activity of other projects stays, without the person.
        diesel::update(package_build_infos::table.filter(package_build_infos::user_id.eq(id.0)))
            .set(package_build_infos::user_id.eq(None::<i64>))
            .execute(conn)
            .map_err(db)?;
        diesel::update(projects::table.filter(projects::creator_id.eq(id.0)))
            .set(projects::creator_id.eq(None::<i64>))
            .execute(conn)
            .map_err(db)?;
        let deleted = diesel::delete(users::table.find(id.0))
            .execute(conn)
            .map_err(db)?;
        Ok(deleted > 0)
    })
}

// ---------------------------------------------------------------- personal access tokens

fn filtered_tokens(filter: &TokenFilter) -> personal_access_tokens::BoxedQuery<'_, MultiBackend> {
    use personal_access_tokens as t;
    let mut q = t::table.into_boxed();
    if let Some(user) = filter.user_id {
        q = q.filter(t::user_id.eq(user.0));
    }
    if let Some(revoked) = filter.revoked {
        q = q.filter(t::revoked.eq(revoked));
    }
    match filter.active {
        Some(true) => {
            q = q.filter(t::revoked.eq(false)).filter(
                t::expires_at
                    .is_null()
                    .or(t::expires_at.ge(filter.today.clone())),
            )
        }
        Some(false) => {
            q = q.filter(
                t::revoked
                    .eq(true)
                    .or(t::expires_at.lt(filter.today.clone())),
            )
        }
        None => {}
    }
    if let Some(search) = &filter.search {
        q = q.filter(lower(t::name).like(contains_pattern(search)).escape('\\'));
    }
    if let Some(at) = filter.created_after {
        q = q.filter(t::created_at.ge(at));
    }
    if let Some(at) = filter.created_before {
        q = q.filter(t::created_at.le(at));
    }
    if let Some(at) = filter.last_used_after {
        q = q.filter(t::last_used_at.ge(at));
    }
    if let Some(at) = filter.last_used_before {
        q = q.filter(t::last_used_at.le(at));
    }
    q
}

pub(super) fn list_personal_access_tokens(
    conn: &mut DbConnection,
    filter: &TokenFilter,
    page: Page,
) -> Result<Listing<PersonalAccessToken>, CatalogError> {
    let total = filtered_tokens(filter)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let rows = filtered_tokens(filter)
        .order(personal_access_tokens::id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<PersonalAccessTokenRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: convert_all(rows)?,
        total: Some(total),
    })
}

pub(super) fn personal_access_token_by_id(
    conn: &mut DbConnection,
    id: TokenId,
) -> Result<Option<PersonalAccessToken>, CatalogError> {
    personal_access_tokens::table
        .find(id.0)
        .first::<PersonalAccessTokenRow>(conn)
        .optional()
        .map_err(db)?
        .map(PersonalAccessToken::try_from)
        .transpose()
}

pub(super) fn rotate_personal_access_token(
    conn: &mut DbConnection,
    old: TokenId,
    new: &NewPersonalAccessToken,
) -> Result<PersonalAccessToken, CatalogError> {
    let scopes = super::to_json(&new.scopes)?;
    tx(conn, |conn| {
        // Only an active token rotates, and only once: the update is the race's referee.
        let revoked = diesel::update(
            personal_access_tokens::table
                .find(old.0)
                .filter(personal_access_tokens::revoked.eq(false)),
        )
        .set(personal_access_tokens::revoked.eq(true))
        .execute(conn)
        .map_err(db)?;
        if revoked == 0 {
            return Err(CatalogError::Conflict("Token already revoked".into()));
        }
        let row = NewPersonalAccessTokenRow {
            user_id: new.user_id.0,
            name: &new.name,
            scopes: &scopes,
            expires_at: new.expires_at.as_deref(),
            revoked: false,
            digest: &new.digest,
            created_at: now(),
        };
        diesel::insert_into(personal_access_tokens::table)
            .values(&row)
            .returning(personal_access_tokens::all_columns)
            .get_result::<PersonalAccessTokenRow>(conn)
            .map_err(conflict_as("token digest already exists"))?
            .try_into()
    })
}

// ---------------------------------------------------------------- groups

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
        let Some(old) = super::group_by_id(conn, id)? else {
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
            super::path_free_of_projects(conn, &new_full)?;
            diesel::update(target)
                .set((groups::path.eq(path), groups::full_path.eq(&new_full)))
                .execute(conn)
                .map_err(conflict_as("path has already been taken"))?;
            rewrite_full_paths_below(conn, id, &new_full)?;
        }
        super::group_by_id(conn, id)
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
    for _ in 0..super::MAX_GROUP_DEPTH {
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
            if levels.len() > super::MAX_GROUP_DEPTH {
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

// ---------------------------------------------------------------- projects

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

// ---------------------------------------------------------------- members

fn source_key(source: MemberSource) -> (&'static str, i64) {
    match source {
        MemberSource::Group(g) => (SOURCE_GROUP, g.0),
        MemberSource::Project(p) => (SOURCE_PROJECT, p.0),
    }
}

fn with_users(
    conn: &mut DbConnection,
    rows: Vec<MemberRow>,
) -> Result<Vec<MemberWithUser>, CatalogError> {
    let members: Vec<Member> = convert_all(rows)?;
    let ids: Vec<i64> = members.iter().map(|m| m.user_id.0).collect();
    let users: std::collections::HashMap<i64, User> = users::table
        .filter(users::id.eq_any(&ids))
        .load::<UserRow>(conn)
        .map_err(db)?
        .into_iter()
        .map(|r| {
            let u = User::from(r);
            (u.id.0, u)
        })
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|member| {
            let user = users.get(&member.user_id.0)?.clone();
            Some(MemberWithUser { member, user })
        })
        .collect())
}

fn members_query<'a>(
    source: MemberSource,
    search: Option<&'a str>,
) -> members::BoxedQuery<'a, MultiBackend> {
    let (source_type, source_id) = source_key(source);
    let mut q = members::table
        .filter(members::source_type.eq(source_type))
        .filter(members::source_id.eq(source_id))
        .into_boxed();
    if let Some(search) = search {
        let p = contains_pattern(search);
        let matching = users::table
            .filter(
                lower(users::username)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::name).like(p).escape('\\')),
            )
            .select(users::id);
        q = q.filter(members::user_id.eq_any(matching));
    }
    q
}

pub(super) fn list_members(
    conn: &mut DbConnection,
    source: MemberSource,
    search: Option<&str>,
    page: Page,
) -> Result<Listing<MemberWithUser>, CatalogError> {
    let total = members_query(source, search)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let rows = members_query(source, search)
        .order(members::user_id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<MemberRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: with_users(conn, rows)?,
        total: Some(total),
    })
}

/// Members of any of `sources` (a project and its ancestor groups), one entry per user:
/// the row with the highest unexpired level. Paged in SQL over the distinct user ids.
pub(super) fn list_inherited_members(
    conn: &mut DbConnection,
    sources: &[MemberSource],
    today: &str,
    page: Page,
) -> Result<Listing<MemberWithUser>, CatalogError> {
    let group_ids: Vec<i64> = sources
        .iter()
        .filter_map(|s| match s {
            MemberSource::Group(g) => Some(g.0),
            MemberSource::Project(_) => None,
        })
        .collect();
    let project_ids: Vec<i64> = sources
        .iter()
        .filter_map(|s| match s {
            MemberSource::Project(p) => Some(p.0),
            MemberSource::Group(_) => None,
        })
        .collect();
    let base = || {
        members::table
            .filter(
                members::source_type
                    .eq(SOURCE_GROUP)
                    .and(members::source_id.eq_any(group_ids.clone()))
                    .or(members::source_type
                        .eq(SOURCE_PROJECT)
                        .and(members::source_id.eq_any(project_ids.clone()))),
            )
            .filter(
                members::expires_at
                    .is_null()
                    .or(members::expires_at.ge(today.to_owned())),
            )
    };
    let total = users::table
        .filter(users::id.eq_any(base().select(members::user_id)))
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let user_ids = base()
        .select(members::user_id)
        .distinct()
        .order(members::user_id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<i64>(conn)
        .map_err(db)?;
    let rows = base()
        .filter(members::user_id.eq_any(&user_ids))
        .load::<MemberRow>(conn)
        .map_err(db)?;
    let mut best: Vec<MemberWithUser> = Vec::with_capacity(user_ids.len());
    for m in with_users(conn, rows)? {
        match best.iter_mut().find(|b| b.user.id == m.user.id) {
            Some(b) if b.member.access_level < m.member.access_level => *b = m,
            Some(_) => {}
            None => best.push(m),
        }
    }
    best.sort_by_key(|m| m.user.id);
    Ok(Listing {
        items: best,
        total: Some(total),
    })
}

pub(super) fn member(
    conn: &mut DbConnection,
    source: MemberSource,
    user: UserId,
) -> Result<Option<Member>, CatalogError> {
    let (source_type, source_id) = source_key(source);
    members::table
        .filter(members::source_type.eq(source_type))
        .filter(members::source_id.eq(source_id))
        .filter(members::user_id.eq(user.0))
        .first::<MemberRow>(conn)
        .optional()
        .map_err(db)?
        .map(Member::try_from)
        .transpose()
}

pub(super) fn update_member(
    conn: &mut DbConnection,
    source: MemberSource,
    user: UserId,
    level: AccessLevel,
    expires_at: Option<Option<String>>,
) -> Result<Option<Member>, CatalogError> {
    let (source_type, source_id) = source_key(source);
    tx(conn, |conn| {
        let target = members::table
            .filter(members::source_type.eq(source_type))
            .filter(members::source_id.eq(source_id))
            .filter(members::user_id.eq(user.0));
        let changed = diesel::update(target)
            .set(members::access_level.eq(level as i16))
            .execute(conn)
            .map_err(db)?;
        if changed == 0 {
            return Ok(None);
        }
        if let Some(expires_at) = &expires_at {
            diesel::update(target)
                .set(members::expires_at.eq(expires_at.as_deref()))
                .execute(conn)
                .map_err(db)?;
        }
        member(conn, source, user)
    })
}

pub(super) fn remove_member(
    conn: &mut DbConnection,
    source: MemberSource,
    user: UserId,
) -> Result<bool, CatalogError> {
    let (source_type, source_id) = source_key(source);
    let deleted = diesel::delete(
        members::table
            .filter(members::source_type.eq(source_type))
            .filter(members::source_id.eq(source_id))
            .filter(members::user_id.eq(user.0)),
    )
    .execute(conn)
    .map_err(db)?;
    Ok(deleted > 0)
}

pub(super) fn user_memberships(
    conn: &mut DbConnection,
    user: UserId,
    today: &str,
) -> Result<Vec<Membership>, CatalogError> {
    let rows = members::table
        .filter(members::user_id.eq(user.0))
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .load::<MemberRow>(conn)
        .map_err(db)?;
    let members: Vec<Member> = convert_all(rows)?;
    let group_ids: Vec<i64> = members
        .iter()
        .filter_map(|m| match m.source {
            MemberSource::Group(g) => Some(g.0),
            MemberSource::Project(_) => None,
        })
        .collect();
    let paths: std::collections::HashMap<i64, String> = groups::table
        .filter(groups::id.eq_any(&group_ids))
        .select((groups::id, groups::full_path))
        .load::<(i64, String)>(conn)
        .map_err(db)?
        .into_iter()
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|m| {
            let group_path = match m.source {
                MemberSource::Group(g) => Some(paths.get(&g.0)?.clone()),
                MemberSource::Project(_) => None,
            };
            Some(Membership {
                source: m.source,
                access_level: m.access_level,
                group_path,
            })
        })
        .collect())
}

// ---------------------------------------------------------------- deploy tokens

fn deploy_tokens_query(
    owner: Option<DeployTokenOwner>,
    active_only: bool,
    now: Millis,
) -> deploy_tokens::BoxedQuery<'static, MultiBackend> {
    let mut q = deploy_tokens::table.into_boxed();
    match owner {
        Some(DeployTokenOwner::Project(p)) => q = q.filter(deploy_tokens::project_id.eq(p.0)),
        Some(DeployTokenOwner::Group(g)) => q = q.filter(deploy_tokens::group_id.eq(g.0)),
        None => {}
    }
    if active_only {
        q = q.filter(deploy_tokens::revoked.eq(false)).filter(
            deploy_tokens::expires_at
                .is_null()
                .or(deploy_tokens::expires_at.gt(now)),
        );
    }
    q
}

pub(super) fn list_deploy_tokens(
    conn: &mut DbConnection,
    owner: Option<DeployTokenOwner>,
    active_only: bool,
    page: Page,
) -> Result<Listing<DeployToken>, CatalogError> {
    let at = now();
    let total = deploy_tokens_query(owner, active_only, at)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let rows = deploy_tokens_query(owner, active_only, at)
        .order(deploy_tokens::id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<DeployTokenRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: convert_all(rows)?,
        total: Some(total),
    })
}

pub(super) fn deploy_token_by_id(
    conn: &mut DbConnection,
    id: TokenId,
) -> Result<Option<DeployToken>, CatalogError> {
    deploy_tokens::table
        .find(id.0)
        .first::<DeployTokenRow>(conn)
        .optional()
        .map_err(db)?
        .map(DeployToken::try_from)
        .transpose()
}

pub(super) fn delete_deploy_token(
    conn: &mut DbConnection,
    id: TokenId,
) -> Result<bool, CatalogError> {
    let deleted = diesel::delete(deploy_tokens::table.find(id.0))
        .execute(conn)
        .map_err(db)?;
    Ok(deleted > 0)
}

// ---------------------------------------------------------------- job token allowlist

pub(super) fn list_job_token_allowlist(
    conn: &mut DbConnection,
    target: ProjectId,
    page: Page,
) -> Result<Listing<Project>, CatalogError> {
    let sources = job_token_allowlist::table
        .filter(job_token_allowlist::target_project_id.eq(target.0))
        .select(job_token_allowlist::source_project_id);
    let total = job_token_allowlist::table
        .filter(job_token_allowlist::target_project_id.eq(target.0))
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let rows = projects::table
        .filter(projects::id.eq_any(sources))
        .order(projects::id.asc())
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<ProjectRow>(conn)
        .map_err(db)?;
    Ok(Listing {
        items: convert_all(rows)?,
        total: Some(total),
    })
}

pub(super) fn remove_job_token_allowlist(
    conn: &mut DbConnection,
    target: ProjectId,
    source: ProjectId,
) -> Result<bool, CatalogError> {
    let deleted = diesel::delete(
        job_token_allowlist::table
            .filter(job_token_allowlist::target_project_id.eq(target.0))
            .filter(job_token_allowlist::source_project_id.eq(source.0)),
    )
    .execute(conn)
    .map_err(db)?;
    Ok(deleted > 0)
}
