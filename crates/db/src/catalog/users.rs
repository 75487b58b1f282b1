//! Users (<https://docs.gitlab.com/api/users/>): creation, lookups, listing, updates, block
//! state and the cascading delete.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::namespaces::{lock_namespaces, username_free_of_groups};
use super::projects::delete_project_rows;
use super::{
    conflict_as, contains_pattern, db, keyset_after, limit_offset, lower, now, tx, IN_CHUNK,
};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

pub(super) fn create_user(conn: &mut DbConnection, new: &NewUser) -> Result<User, CatalogError> {
    let row = NewUserRow {
        username: &new.username,
        name: &new.name,
        email: &new.email,
        is_admin: new.is_admin,
        password_hash: new.password_hash.as_deref(),
        created_at: now(),
    };
    tx(conn, |conn| {
        lock_namespaces(conn)?;
        username_free_of_groups(conn, &new.username)?;
        diesel::insert_into(users::table)
            .values(&row)
            .returning(users::all_columns)
            .get_result::<UserRow>(conn)
            .map(User::from)
            .map_err(conflict_as("username has already been taken"))
    })
}

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
            super::sessions::delete_user_web_sessions(conn, id)?;
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
            super::sessions::delete_user_web_sessions(conn, id)?;
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
        super::sessions::delete_user_web_sessions(conn, id)?;
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

pub(super) fn users_by_ids(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<User>, CatalogError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = users::table
            .filter(users::id.eq_any(chunk))
            .order(users::id.asc())
            .load::<UserRow>(conn)
            .map_err(db)?;
        out.extend(rows.into_iter().map(User::from));
    }
    Ok(out)
}

pub(super) fn user_by_id(
    conn: &mut DbConnection,
    id: UserId,
) -> Result<Option<User>, CatalogError> {
    users::table
        .find(id.0)
        .first::<UserRow>(conn)
        .optional()
        .map(|u| u.map(User::from))
        .map_err(db)
}

pub(super) fn user_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<User>, CatalogError> {
    // Case-insensitive, as on GitLab (served by `users_username_ci`).
    users::table
        .filter(lower(users::username).eq(lower(username)))
        .first::<UserRow>(conn)
        .optional()
        .map(|u| u.map(User::from))
        .map_err(db)
}

pub(super) fn count_users(conn: &mut DbConnection) -> Result<i64, CatalogError> {
    users::table.count().get_result::<i64>(conn).map_err(db)
}
