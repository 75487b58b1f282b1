//! Personal access tokens, deploy tokens, CI job tokens and the job-token allowlist
//! (<https://docs.gitlab.com/api/personal_access_tokens/>,
//! <https://docs.gitlab.com/api/deploy_tokens/>,
//! <https://docs.gitlab.com/ci/jobs/ci_job_token/>).

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{conflict_as, contains_pattern, db, found, lower, now, tx};
use crate::connection::{per_backend, DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;

pub(super) fn create_personal_access_token(
    conn: &mut DbConnection,
    new: &NewPersonalAccessToken,
) -> Result<PersonalAccessToken, CatalogError> {
    let scopes = to_json(&new.scopes)?;
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
}

pub(super) fn create_deploy_token(
    conn: &mut DbConnection,
    new: &NewDeployToken,
) -> Result<DeployToken, CatalogError> {
    let scopes = to_json(&new.scopes)?;
    let (project_id, group_id) = match new.owner {
        DeployTokenOwner::Project(p) => (Some(p.0), None),
        DeployTokenOwner::Group(g) => (None, Some(g.0)),
    };
    tx(conn, |conn| {
        let row = NewDeployTokenRow {
            project_id,
            group_id,
            name: &new.name,
            username: new.username.as_deref().unwrap_or(""),
            scopes: &scopes,
            expires_at: new.expires_at,
            revoked: false,
            digest: &new.digest,
            created_at: now(),
        };
        let inserted = diesel::insert_into(deploy_tokens::table)
            .values(&row)
            .returning(deploy_tokens::all_columns)
            .get_result::<DeployTokenRow>(conn)
            .map_err(conflict_as("token digest already exists"))?;
        let token = DeployToken::try_from(inserted)?;
        if new.username.is_some() {
            return Ok(token);
        }
        // GitLab names a token without a username after its id, which only exists now.
        diesel::update(deploy_tokens::table.find(token.id.0))
            .set(deploy_tokens::username.eq(format!("gitlab+deploy-token-{}", token.id.0)))
            .returning(deploy_tokens::all_columns)
            .get_result::<DeployTokenRow>(conn)
            .map_err(db)?
            .try_into()
    })
}

pub(super) fn create_job_token(
    conn: &mut DbConnection,
    new: &NewJobToken,
) -> Result<JobToken, CatalogError> {
    let row = NewJobTokenRow {
        project_id: new.project_id.0,
        user_id: new.user_id.0,
        pipeline_id: new.build.pipeline_id,
        job_id: new.build.job_id,
        git_ref: &new.build.git_ref,
        sha: &new.build.sha,
        expires_at: new.expires_at,
        digest: &new.digest,
        created_at: now(),
        personal_access_token_id: match new.origin {
            JobTokenOrigin::PersonalAccessToken(id) => id.map(|t| t.0),
            JobTokenOrigin::Session => None,
        },
        origin: new.origin.as_str(),
    };
    diesel::insert_into(job_tokens::table)
        .values(&row)
        .returning(job_tokens::all_columns)
        .get_result::<JobTokenRow>(conn)
        .map(JobToken::from)
        .map_err(conflict_as("token digest already exists"))
}

/// The job token with `digest`, its user and the personal access token that minted it, in
/// one query: an inner join on the user (a token whose user is gone is no token) and a left
/// join on the minting token, whose state the caller checks at every use (revoked, expired:
/// expiry depends on the day, so it is not decided here, where the answer may be cached).
pub(super) fn job_token_by_digest(
    conn: &mut DbConnection,
    digest: &str,
) -> Result<Option<JobTokenLogin>, CatalogError> {
    let row = job_tokens::table
        .inner_join(users::table.on(users::id.eq(job_tokens::user_id)))
        .left_join(
            personal_access_tokens::table.on(personal_access_tokens::id
                .nullable()
                .eq(job_tokens::personal_access_token_id)),
        )
        .filter(job_tokens::digest.eq(digest))
        .select((
            job_tokens::all_columns,
            users::all_columns,
            personal_access_tokens::all_columns.nullable(),
        ))
        .first::<(JobTokenRow, UserRow, Option<PersonalAccessTokenRow>)>(conn)
        .optional()
        .map_err(db)?;
    let Some((token, user, pat)) = row else {
        return Ok(None);
    };
    Ok(Some(JobTokenLogin {
        token: JobToken::from(token),
        user: User::from(user),
        minted_by: pat.map(PersonalAccessToken::try_from).transpose()?,
    }))
}

pub(super) fn add_job_token_allowlist(
    conn: &mut DbConnection,
    target: ProjectId,
    source: ProjectId,
) -> Result<(), CatalogError> {
    let values = (
        job_token_allowlist::target_project_id.eq(target.0),
        job_token_allowlist::source_project_id.eq(source.0),
    );
    // Adding an entry twice is not an error: upsert, which needs the concrete backend.
    per_backend!(conn, |c| diesel::insert_into(job_token_allowlist::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))
    .map_err(db)?;
    Ok(())
}

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
    let scopes = to_json(&new.scopes)?;
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

pub(super) fn personal_access_token_by_digest(
    conn: &mut DbConnection,
    digest: &str,
) -> Result<Option<PersonalAccessToken>, CatalogError> {
    personal_access_tokens::table
        .filter(personal_access_tokens::digest.eq(digest))
        .first::<PersonalAccessTokenRow>(conn)
        .optional()
        .map_err(db)?
        .map(PersonalAccessToken::try_from)
        .transpose()
}

pub(super) fn touch_personal_access_token(
    conn: &mut DbConnection,
    id: TokenId,
    at: Millis,
) -> Result<(), CatalogError> {
    diesel::update(personal_access_tokens::table.find(id.0))
        .set(personal_access_tokens::last_used_at.eq(at))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}

pub(super) fn revoke_personal_access_token(
    conn: &mut DbConnection,
    id: TokenId,
) -> Result<(), CatalogError> {
    diesel::update(personal_access_tokens::table.find(id.0))
        .set(personal_access_tokens::revoked.eq(true))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}

pub(super) fn deploy_token_by_digest(
    conn: &mut DbConnection,
    digest: &str,
) -> Result<Option<DeployToken>, CatalogError> {
    deploy_tokens::table
        .filter(deploy_tokens::digest.eq(digest))
        .first::<DeployTokenRow>(conn)
        .optional()
        .map_err(db)?
        .map(DeployToken::try_from)
        .transpose()
}

pub(super) fn revoke_deploy_token(
    conn: &mut DbConnection,
    id: TokenId,
) -> Result<(), CatalogError> {
    diesel::update(deploy_tokens::table.find(id.0))
        .set(deploy_tokens::revoked.eq(true))
        .execute(conn)
        .map_err(db)
        .and_then(found)
}

pub(super) fn delete_job_token(conn: &mut DbConnection, id: TokenId) -> Result<bool, CatalogError> {
    diesel::delete(job_tokens::table.find(id.0))
        .execute(conn)
        .map(|n| n > 0)
        .map_err(db)
}

pub(super) fn job_token_allowed(
    conn: &mut DbConnection,
    target: ProjectId,
    source: ProjectId,
) -> Result<bool, CatalogError> {
    diesel::select(diesel::dsl::exists(
        job_token_allowlist::table.find((target.0, source.0)),
    ))
    .get_result::<bool>(conn)
    .map_err(db)
}
