//! Memberships of groups and projects (<https://docs.gitlab.com/api/members/>), and the
//! effective access level a user has through them (inherited down the group tree).

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::groups::group_ancestors;
use super::{conflict_as, contains_pattern, db, lower, now, tx};
use crate::connection::{DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

pub(super) fn add_member(
    conn: &mut DbConnection,
    source: MemberSource,
    user: UserId,
    level: AccessLevel,
    expires_at: Option<&str>,
) -> Result<Member, CatalogError> {
    let (source_type, source_id) = match source {
        MemberSource::Group(g) => (SOURCE_GROUP, g.0),
        MemberSource::Project(p) => (SOURCE_PROJECT, p.0),
    };
    // The source is not a foreign key (it points at one of two tables): check it here.
    let source_exists = match source {
        MemberSource::Group(g) => {
            diesel::select(diesel::dsl::exists(groups::table.find(g.0))).get_result::<bool>(conn)
        }
        MemberSource::Project(p) => {
            diesel::select(diesel::dsl::exists(projects::table.find(p.0))).get_result::<bool>(conn)
        }
    }
    .map_err(db)?;
    if !source_exists {
        return Err(CatalogError::NotFound);
    }
    diesel::insert_into(members::table)
        .values(&NewMemberRow {
            source_type,
            source_id,
            user_id: user.0,
            access_level: level as i16,
            expires_at,
            created_at: now(),
        })
        .returning(members::all_columns)
        .get_result::<MemberRow>(conn)
        .map_err(conflict_as("Member already exists"))?
        .try_into()
}

pub(super) fn effective_access_level(
    conn: &mut DbConnection,
    user: UserId,
    project: ProjectId,
    today: &str,
) -> Result<Option<AccessLevel>, CatalogError> {
    let group_id = projects::table
        .find(project.0)
        .select(projects::group_id)
        .first::<Option<i64>>(conn)
        .optional()
        .map_err(db)?;
    let Some(group_id) = group_id else {
        return Ok(None);
    };
    let group_ids: Vec<i64> = match group_id {
        Some(g) => group_ancestors(conn, GroupId(g))?
            .into_iter()
            .map(|g| g.id.0)
            .collect(),
        None => Vec::new(),
    };
    let levels = members::table
        .filter(members::user_id.eq(user.0))
        .filter(
            members::source_type
                .eq(SOURCE_PROJECT)
                .and(members::source_id.eq(project.0))
                .or(members::source_type
                    .eq(SOURCE_GROUP)
                    .and(members::source_id.eq_any(group_ids))),
        )
        // `YYYY-MM-DD` strings sort as dates; the expiry day itself still counts.
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .select(members::access_level)
        .load::<i16>(conn)
        .map_err(db)?;
    Ok(levels.into_iter().filter_map(AccessLevel::from_i16).max())
}

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

/// The highest unexpired level of `user` on the group, directly or through an ancestor.
pub(super) fn effective_group_access_level(
    conn: &mut DbConnection,
    user: UserId,
    group: GroupId,
    today: &str,
) -> Result<Option<AccessLevel>, CatalogError> {
    let ids: Vec<i64> = group_ancestors(conn, group)?
        .into_iter()
        .map(|g| g.id.0)
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let levels = members::table
        .filter(members::user_id.eq(user.0))
        .filter(members::source_type.eq(SOURCE_GROUP))
        .filter(members::source_id.eq_any(ids))
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .select(members::access_level)
        .load::<i16>(conn)
        .map_err(db)?;
    Ok(levels.into_iter().filter_map(AccessLevel::from_i16).max())
}

/// The unexpired memberships of `user` on any of these groups and projects, in one query.
pub(super) fn member_levels(
    conn: &mut DbConnection,
    user: UserId,
    groups: &[i64],
    projects: &[i64],
    today: &str,
) -> Result<Vec<(MemberSource, AccessLevel)>, CatalogError> {
    let rows = members::table
        .filter(members::user_id.eq(user.0))
        .filter(
            members::source_type
                .eq(SOURCE_PROJECT)
                .and(members::source_id.eq_any(projects))
                .or(members::source_type
                    .eq(SOURCE_GROUP)
                    .and(members::source_id.eq_any(groups))),
        )
        .filter(
            members::expires_at
                .is_null()
                .or(members::expires_at.ge(today)),
        )
        .select((
            members::source_type,
            members::source_id,
            members::access_level,
        ))
        .load::<(String, i64, i16)>(conn)
        .map_err(db)?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, id, level)| {
            let level = AccessLevel::from_i16(level)?;
            let source = if kind == SOURCE_GROUP {
                MemberSource::Group(GroupId(id))
            } else {
                MemberSource::Project(ProjectId(id))
            };
            Some((source, level))
        })
        .collect())
}
