//! Shared pieces of the management listings: the group subtree as a recursive CTE over
//! `parent_id`, and what a [`Reach`] may see as a `WHERE` condition.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use packyard_core::model::*;

use crate::connection::MultiBackend;
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
pub(super) enum Roots {
    Including,
    Below,
}

/// `"<table>".<column> IN <subtree of roots>`; `1 = 0` for no roots.
pub(super) fn in_subtree<T>(
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
pub(super) fn group_reach(reach: &Reach) -> GroupCond {
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
pub(super) fn project_reach(reach: &Reach) -> ProjectCond {
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
