//! [`Catalog`] for [`DbCatalog`]: each method is a plain function over `&mut DbConnection`,
//! run on the blocking pool by [`DbCatalog::run`].
//!
//! Races are decided by the database, never by process-local locks (DESIGN.md, "Scale"):
//! unique constraints turn a second insert into [`CatalogError::Conflict`], and
//! [`publish_file`] serializes publishers of one package on the package row (PostgreSQL row
//! lock) or on the write lock (SQLite `BEGIN IMMEDIATE`).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use packyard_core::model::*;
use packyard_core::ports::{Catalog, CatalogError, DuplicatePolicy, PublishFile};

use crate::connection::{per_backend, write_transaction, DbConnection, MultiBackend};
use crate::rows::*;
use crate::schema::*;
use crate::DbCatalog;

/// Build infos kept per package (GitLab shows the last five publishes).
const BUILD_INFOS_KEPT: i64 = 5;
/// Deeper than any real group tree (GitLab allows 20 levels); stops a corrupt cycle.
const MAX_GROUP_DEPTH: usize = 100;
/// Settings key of [`InstanceSettings`].
const INSTANCE_SETTINGS_KEY: &str = "instance";

diesel::define_sql_function! {
    /// SQL `LOWER`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

fn now() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Maps a diesel error: a unique violation is a `Conflict` (with a generic text, callers
/// that know better use [`conflict_as`]), a foreign key violation means a referenced row is
/// missing (`NotFound`), anything else is a backend failure.
fn db(e: DieselError) -> CatalogError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            CatalogError::Conflict("has already been taken".into())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            CatalogError::NotFound
        }
        e => CatalogError::backend(e),
    }
}

/// Like [`db`], with the conflict text shown to the client.
fn conflict_as(message: &'static str) -> impl FnOnce(DieselError) -> CatalogError {
    move |e| {
        if is_unique_violation(&e) {
            CatalogError::Conflict(message.into())
        } else {
            db(e)
        }
    }
}

/// `Err(NotFound)` when an update or delete touched no row.
fn found(rows: usize) -> Result<(), CatalogError> {
    if rows == 0 {
        Err(CatalogError::NotFound)
    } else {
        Ok(())
    }
}

/// Carries either kind of error through diesel's transaction machinery.
enum TxError {
    Catalog(CatalogError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

/// A write transaction (`BEGIN IMMEDIATE` on SQLite) whose body speaks `CatalogError`.
fn tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, CatalogError>,
) -> Result<T, CatalogError> {
    write_transaction(conn, |c| f(c).map_err(TxError::Catalog)).map_err(|e| match e {
        TxError::Catalog(e) => e,
        TxError::Db(e) => db(e),
    })
}

/// `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` taken literally
/// (used with `ESCAPE '\'`, which SQLite needs spelled out).
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

// ---------------------------------------------------------------- users and tokens

fn create_user(conn: &mut DbConnection, new: &NewUser) -> Result<User, CatalogError> {
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

fn create_personal_access_token(
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

fn create_deploy_token(
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

fn create_job_token(conn: &mut DbConnection, new: &NewJobToken) -> Result<JobToken, CatalogError> {
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
fn job_token_by_digest(
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

fn add_job_token_allowlist(
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

// ---------------------------------------------------------------- groups and projects

fn group_by_id(conn: &mut DbConnection, id: GroupId) -> Result<Option<Group>, CatalogError> {
    groups::table
        .find(id.0)
        .first::<GroupRow>(conn)
        .optional()
        .map_err(db)?
        .map(Group::try_from)
        .transpose()
}

fn create_group(conn: &mut DbConnection, new: &NewGroup) -> Result<Group, CatalogError> {
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

/// Serializes the transactions that claim a name in the shared namespaces (usernames and
/// top-level group paths; group and project full paths), which check one table and then
/// insert into another: two unique indexes on two tables cannot see each other, so under
/// READ COMMITTED a user `x` and a group `X` created at once would both pass their check.
/// On PostgreSQL this takes one transaction-scoped advisory lock, held until commit or
/// rollback; call it first in the transaction, before any row is written, so a holder never
/// waits on a row lock of a waiter. SQLite needs nothing: `BEGIN IMMEDIATE` already holds
/// the database's one write lock.
fn lock_namespaces(conn: &mut DbConnection) -> Result<(), CatalogError> {
    /// Any fixed key, the same in every process: "packyard" in ASCII, as an `i64`.
    const NAMESPACE_LOCK: i64 = 0x7061_636b_7961_7264;
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(NAMESPACE_LOCK)
            .execute(c)
            .map_err(db)?;
    }
    Ok(())
}

/// Groups and projects share one URL space (`acme/tools` is either a subgroup or a
/// project), as GitLab's routes do, and paths compare case-insensitively there (GitLab's
/// rule: `Secret` and `secret` cannot both exist at one level). Each table's unique index on
/// `lower(full_path)` covers its own rows; these checks cover the other table.
fn path_free_of_projects(conn: &mut DbConnection, full_path: &str) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        projects::table.filter(lower(projects::full_path).eq(lower(full_path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

fn path_free_of_groups(conn: &mut DbConnection, full_path: &str) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        groups::table.filter(lower(groups::full_path).eq(lower(full_path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

/// A top-level group and a user's personal namespace share the first path segment, as on
/// GitLab: a group `alice` beside the user `Alice` would let its owner publish under
/// `alice/...` paths that look like Alice's own.
fn namespace_free_of_users(conn: &mut DbConnection, path: &str) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        users::table.filter(lower(users::username).eq(lower(path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

/// The other side of [`namespace_free_of_users`]: a username may not be a top-level group.
fn username_free_of_groups(conn: &mut DbConnection, username: &str) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        groups::table
            .filter(groups::parent_id.is_null())
            .filter(lower(groups::path).eq(lower(username))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict(
            "Username has already been taken".into(),
        ));
    }
    Ok(())
}

fn group_ancestors(conn: &mut DbConnection, id: GroupId) -> Result<Vec<Group>, CatalogError> {
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

fn create_project(conn: &mut DbConnection, new: &NewProject) -> Result<Project, CatalogError> {
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

// ---------------------------------------------------------------- members

fn add_member(
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

fn effective_access_level(
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

// ---------------------------------------------------------------- packages

fn find_package(
    conn: &mut DbConnection,
    p: &NewPackage,
) -> Result<Option<PackageRow>, DieselError> {
    packages::table
        .filter(packages::project_id.eq(p.project_id.0))
        .filter(packages::format.eq(&p.format))
        .filter(packages::normalized_name.eq(&p.normalized_name))
        .filter(packages::version.eq(&p.version))
        .first::<PackageRow>(conn)
        .optional()
}

fn publish_file(
    conn: &mut DbConnection,
    publish: &PublishFile,
) -> Result<(Package, PackageFile), CatalogError> {
    let metadata = to_json(&publish.package.metadata)?;
    let file_metadata = to_json(&publish.file_metadata)?;
    let build_json = publish.build.as_ref().map(to_json).transpose()?;
    let size = i64::try_from(publish.digests.size).map_err(CatalogError::backend)?;
    tx(conn, |conn| {
        let at = now();
        let p = &publish.package;
        let (package, created) = match find_package(conn, p).map_err(db)? {
            Some(row) => (row, false),
            None => {
                // A savepoint: on PostgreSQL a failed statement aborts the whole transaction,
                // and a concurrent publisher may insert the same package first.
                let inserted = conn.transaction::<_, DieselError, _>(|c| {
                    diesel::insert_into(packages::table)
                        .values(&NewPackageRow {
                            project_id: p.project_id.0,
                            format: &p.format,
                            name: &p.name,
                            normalized_name: &p.normalized_name,
                            version: &p.version,
                            status: p.status.as_str(),
                            metadata: &metadata,
                            created_at: at,
                            updated_at: at,
                        })
                        .returning(packages::all_columns)
                        .get_result::<PackageRow>(c)
                });
                match inserted {
                    Ok(row) => (row, true),
                    Err(e) if is_unique_violation(&e) => {
                        let row = find_package(conn, p).map_err(db)?;
                        (row.ok_or_else(|| CatalogError::backend(e))?, false)
                    }
                    Err(e) => return Err(db(e)),
                }
            }
        };
        if let (false, DuplicatePolicy::RejectExistingVersion { message }) =
            (created, &publish.duplicates)
        {
            return Err(CatalogError::Conflict(message.clone()));
        }
        // Touch the package row before looking at its files: on PostgreSQL this takes the
        // row lock, so concurrent publishers of one package check file names one at a time.
        let bump = diesel::update(packages::table.find(package.id));
        let package = match publish.status_override {
            Some(status) => bump
                .set((
                    packages::updated_at.eq(at),
                    packages::status.eq(status.as_str()),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            None => bump
                .set(packages::updated_at.eq(at))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
        }
        .map_err(db)?;
        let package_id = package.id;
        if let DuplicatePolicy::RejectSameFileName { message } = &publish.duplicates {
            let taken = diesel::select(diesel::dsl::exists(
                package_files::table
                    .filter(package_files::package_id.eq(package_id))
                    .filter(package_files::file_name.eq(&publish.file_name)),
            ))
            .get_result::<bool>(conn)
            .map_err(db)?;
            if taken {
                return Err(CatalogError::Conflict(message.clone()));
            }
        }
        let d = &publish.digests;
        let file = diesel::insert_into(package_files::table)
            .values(&NewPackageFileRow {
                package_id,
                file_name: &publish.file_name,
                size,
                sha256: &d.sha256,
                sha1: &d.sha1,
                md5: &d.md5,
                sha512: &d.sha512,
                metadata: &file_metadata,
                build_info: build_json.as_deref(),
                created_at: at,
            })
            .returning(package_files::all_columns)
            .get_result::<PackageFileRow>(conn)
            .map_err(db)?;
        if let Some(build) = &publish.build {
            diesel::insert_into(package_build_infos::table)
                .values(&NewPackageBuildInfoRow {
                    package_id,
                    user_id: publish.user_id.map(|u| u.0),
                    pipeline_id: build.pipeline_id,
                    job_id: build.job_id,
                    git_ref: &build.git_ref,
                    sha: &build.sha,
                    created_at: at,
                })
                .execute(conn)
                .map_err(db)?;
            let kept = package_build_infos::table
                .filter(package_build_infos::package_id.eq(package_id))
                .order(package_build_infos::id.desc())
                .select(package_build_infos::id)
                .limit(BUILD_INFOS_KEPT)
                .load::<i64>(conn)
                .map_err(db)?;
            if let Some(oldest_kept) = kept.last() {
                diesel::delete(
                    package_build_infos::table
                        .filter(package_build_infos::package_id.eq(package_id))
                        .filter(package_build_infos::id.lt(oldest_kept)),
                )
                .execute(conn)
                .map_err(db)?;
            }
        }
        bump_revisions(conn, package.project_id, &p.format, &p.normalized_name)?;
        Ok((package.try_into()?, file.try_into()?))
    })
}

/// Bumps the revision of the package name and of the project's list of names, inside the
/// caller's transaction (see `Revision` in the core model).
fn bump_revisions(
    conn: &mut DbConnection,
    project: i64,
    format: &str,
    normalized_name: &str,
) -> Result<(), CatalogError> {
    let at = now();
    for name in [normalized_name, ""] {
        per_backend!(conn, |c| diesel::insert_into(package_revisions::table)
            .values((
                package_revisions::project_id.eq(project),
                package_revisions::format.eq(format),
                package_revisions::normalized_name.eq(name),
                package_revisions::revision.eq(1i64),
                package_revisions::updated_at.eq(at),
            ))
            .on_conflict((
                package_revisions::project_id,
                package_revisions::format,
                package_revisions::normalized_name,
            ))
            .do_update()
            .set((
                package_revisions::revision.eq(package_revisions::revision + 1i64),
                package_revisions::updated_at.eq(at),
            ))
            .execute(c))
        .map_err(db)?;
    }
    Ok(())
}

/// Bumps the revisions of the package `id`'s name (no-op when it is gone).
fn bump_package_revisions(conn: &mut DbConnection, id: i64) -> Result<(), CatalogError> {
    let row = packages::table
        .find(id)
        .select((
            packages::project_id,
            packages::format,
            packages::normalized_name,
        ))
        .first::<(i64, String, String)>(conn)
        .optional()
        .map_err(db)?;
    match row {
        Some((project, format, name)) => bump_revisions(conn, project, &format, &name),
        None => Ok(()),
    }
}

/// The packages of `projects` that `filter` selects, as a boxed query so the page and the
/// count share one definition.
fn filtered_packages<'a>(
    projects: &'a [i64],
    filter: &'a PackageFilter,
) -> packages::BoxedQuery<'a, MultiBackend> {
    let mut q = packages::table
        .filter(packages::project_id.eq_any(projects))
        .into_boxed();
    if let Some(format) = &filter.format {
        q = q.filter(packages::format.eq(format));
    }
    if let Some(needle) = &filter.name_contains {
        q = q.filter(
            lower(packages::name)
                .like(contains_pattern(needle))
                .escape('\\'),
        );
    }
    if let Some(version) = &filter.version {
        q = q.filter(packages::version.eq(version));
    }
    match filter.status {
        Some(status) => q = q.filter(packages::status.eq(status.as_str())),
        None => {
            let listed: Vec<&'static str> = PackageStatus::ALL
                .into_iter()
                .filter(|s| s.listed_by_default())
                .map(PackageStatus::as_str)
                .collect();
            q = q.filter(packages::status.eq_any(listed));
        }
    }
    if let Some(name) = &filter.normalized_name {
        q = q.filter(packages::normalized_name.eq(name));
    }
    q
}

fn list_packages(
    conn: &mut DbConnection,
    projects: &[ProjectId],
    filter: &PackageFilter,
    order: PackageOrder,
    descending: bool,
    page: Page,
) -> Result<(Vec<Package>, i64), CatalogError> {
    if projects.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    let total = filtered_packages(&ids, filter)
        .count()
        .get_result::<i64>(conn)
        .map_err(db)?;
    let q = filtered_packages(&ids, filter);
    let q = match (order, descending) {
        (PackageOrder::CreatedAt, false) => q.order(packages::created_at.asc()),
        (PackageOrder::CreatedAt, true) => q.order(packages::created_at.desc()),
        (PackageOrder::Name, false) => q.order(packages::name.asc()),
        (PackageOrder::Name, true) => q.order(packages::name.desc()),
        (PackageOrder::Version, false) => q.order(packages::version.asc()),
        (PackageOrder::Version, true) => q.order(packages::version.desc()),
        (PackageOrder::Type, false) => q.order(packages::format.asc()),
        (PackageOrder::Type, true) => q.order(packages::format.desc()),
    };
    let q = if descending {
        q.then_order_by(packages::id.desc())
    } else {
        q.then_order_by(packages::id.asc())
    };
    let rows = q
        .limit(page.per_page.max(0))
        .offset(page.offset().max(0))
        .load::<PackageRow>(conn)
        .map_err(db)?;
    Ok((convert_all(rows)?, total))
}

fn package_files(
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

fn newest_package_file(
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

fn delete_package(conn: &mut DbConnection, id: PackageId) -> Result<bool, CatalogError> {
    // Explicit deletes rather than relying on ON DELETE CASCADE alone: SQLite enforces
    // foreign keys only on connections that turned them on.
    tx(conn, |conn| {
        bump_package_revisions(conn, id.0)?;
        diesel::delete(package_files::table.filter(package_files::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        diesel::delete(package_tags::table.filter(package_tags::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        diesel::delete(package_build_infos::table.filter(package_build_infos::package_id.eq(id.0)))
            .execute(conn)
            .map_err(db)?;
        let deleted = diesel::delete(packages::table.find(id.0))
            .execute(conn)
            .map_err(db)?;
        Ok(deleted > 0)
    })
}

fn delete_package_file(
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

fn projects_in_group_tree(
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

fn update_package(
    conn: &mut DbConnection,
    id: PackageId,
    update: &PackageUpdate,
) -> Result<Option<Package>, CatalogError> {
    let metadata = update.metadata.as_ref().map(to_json).transpose()?;
    tx(conn, |conn| {
        let at = now();
        let q = diesel::update(packages::table.find(id.0));
        let row = match (update.status, &metadata) {
            (Some(status), Some(m)) => q
                .set((
                    packages::status.eq(status.as_str()),
                    packages::metadata.eq(m),
                    packages::updated_at.eq(at),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (Some(status), None) => q
                .set((
                    packages::status.eq(status.as_str()),
                    packages::updated_at.eq(at),
                ))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (None, Some(m)) => q
                .set((packages::metadata.eq(m), packages::updated_at.eq(at)))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
            (None, None) => q
                .set(packages::updated_at.eq(at))
                .returning(packages::all_columns)
                .get_result::<PackageRow>(conn),
        }
        .optional()
        .map_err(db)?;
        match row {
            Some(row) => {
                bump_revisions(conn, row.project_id, &row.format, &row.normalized_name)?;
                Ok(Some(row.try_into()?))
            }
            None => Ok(None),
        }
    })
}

fn update_package_file_metadata(
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

/// The ids of every version of the name of package `id`, and its (project, format, name).
fn sibling_ids(
    conn: &mut DbConnection,
    project: i64,
    format: &str,
    normalized_name: &str,
) -> Result<Vec<i64>, CatalogError> {
    packages::table
        .filter(packages::project_id.eq(project))
        .filter(packages::format.eq(format))
        .filter(packages::normalized_name.eq(normalized_name))
        .select(packages::id)
        .load::<i64>(conn)
        .map_err(db)
}

fn set_package_tag(conn: &mut DbConnection, id: PackageId, tag: &str) -> Result<(), CatalogError> {
    tx(conn, |conn| {
        let (project, format, name) = packages::table
            .find(id.0)
            .select((
                packages::project_id,
                packages::format,
                packages::normalized_name,
            ))
            .first::<(i64, String, String)>(conn)
            .optional()
            .map_err(db)?
            .ok_or(CatalogError::NotFound)?;
        let siblings = sibling_ids(conn, project, &format, &name)?;
        let at = now();
        let created = package_tags::table
            .filter(package_tags::package_id.eq_any(&siblings))
            .filter(package_tags::name.eq(tag))
            .select(package_tags::created_at)
            .first::<i64>(conn)
            .optional()
            .map_err(db)?
            .unwrap_or(at);
        diesel::delete(
            package_tags::table
                .filter(package_tags::package_id.eq_any(&siblings))
                .filter(package_tags::name.eq(tag)),
        )
        .execute(conn)
        .map_err(db)?;
        diesel::insert_into(package_tags::table)
            .values((
                package_tags::package_id.eq(id.0),
                package_tags::name.eq(tag),
                package_tags::created_at.eq(created),
                package_tags::updated_at.eq(at),
            ))
            .execute(conn)
            .map_err(db)?;
        bump_revisions(conn, project, &format, &name)
    })
}

fn delete_package_tag(
    conn: &mut DbConnection,
    project: ProjectId,
    format: &str,
    normalized_name: &str,
    tag: &str,
) -> Result<bool, CatalogError> {
    tx(conn, |conn| {
        let siblings = sibling_ids(conn, project.0, format, normalized_name)?;
        let deleted = diesel::delete(
            package_tags::table
                .filter(package_tags::package_id.eq_any(&siblings))
                .filter(package_tags::name.eq(tag)),
        )
        .execute(conn)
        .map_err(db)?;
        if deleted > 0 {
            bump_revisions(conn, project.0, format, normalized_name)?;
        }
        Ok(deleted > 0)
    })
}

fn package_names(
    conn: &mut DbConnection,
    projects: &[i64],
    format: &str,
) -> Result<Vec<PackageName>, CatalogError> {
    let listed = [
        PackageStatus::Default.as_str(),
        PackageStatus::Deprecated.as_str(),
    ];
    // The first-published spelling of each name: the row with the smallest id.
    let rows = packages::table
        .filter(packages::project_id.eq_any(projects))
        .filter(packages::format.eq(format))
        .filter(packages::status.eq_any(listed))
        .group_by((packages::project_id, packages::normalized_name))
        .select((
            packages::project_id,
            packages::normalized_name,
            diesel::dsl::min(packages::id),
        ))
        .load::<(i64, String, Option<i64>)>(conn)
        .map_err(db)?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.2).collect();
    let mut names: Vec<PackageName> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let spelled = packages::table
            .filter(packages::id.eq_any(chunk))
            .select((
                packages::project_id,
                packages::name,
                packages::normalized_name,
            ))
            .load::<(i64, String, String)>(conn)
            .map_err(db)?;
        names.extend(
            spelled
                .into_iter()
                .map(|(p, name, normalized_name)| PackageName {
                    project_id: ProjectId(p),
                    name,
                    normalized_name,
                }),
        );
    }
    names.sort_by(|a, b| {
        a.normalized_name
            .cmp(&b.normalized_name)
            .then(a.project_id.0.cmp(&b.project_id.0))
    });
    Ok(names)
}

// ---------------------------------------------------------------- settings

fn instance_settings(conn: &mut DbConnection) -> Result<InstanceSettings, CatalogError> {
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

fn set_instance_settings(
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

// ---------------------------------------------------------------- the port

#[async_trait]
impl Catalog for DbCatalog {
    fn change_stamp(&self) -> Result<Option<u64>, CatalogError> {
        DbCatalog::change_stamp(self)
    }

    async fn ping(&self) -> Result<(), CatalogError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map(drop)
                .map_err(db)
        })
        .await
    }

    async fn create_user(&self, new: NewUser) -> Result<User, CatalogError> {
        self.run(move |conn| create_user(conn, &new)).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, CatalogError> {
        self.run_read(move |conn| {
            users::table
                .find(id.0)
                .first::<UserRow>(conn)
                .optional()
                .map(|u| u.map(User::from))
                .map_err(db)
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, CatalogError> {
        let username = username.to_string();
        self.run_read(move |conn| {
            // Case-insensitive, as on GitLab (served by `users_username_ci`).
            users::table
                .filter(lower(users::username).eq(lower(&username)))
                .first::<UserRow>(conn)
                .optional()
                .map(|u| u.map(User::from))
                .map_err(db)
        })
        .await
    }

    async fn count_users(&self) -> Result<i64, CatalogError> {
        self.run(|conn| users::table.count().get_result::<i64>(conn).map_err(db))
            .await
    }

    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError> {
        self.run(move |conn| create_personal_access_token(conn, &new))
            .await
    }

    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<PersonalAccessToken>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| {
            personal_access_tokens::table
                .filter(personal_access_tokens::digest.eq(&digest))
                .first::<PersonalAccessTokenRow>(conn)
                .optional()
                .map_err(db)?
                .map(PersonalAccessToken::try_from)
                .transpose()
        })
        .await
    }

    async fn touch_personal_access_token(
        &self,
        id: TokenId,
        at: Millis,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| {
            diesel::update(personal_access_tokens::table.find(id.0))
                .set(personal_access_tokens::last_used_at.eq(at))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn revoke_personal_access_token(&self, id: TokenId) -> Result<(), CatalogError> {
        self.run(move |conn| {
            diesel::update(personal_access_tokens::table.find(id.0))
                .set(personal_access_tokens::revoked.eq(true))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn create_deploy_token(&self, new: NewDeployToken) -> Result<DeployToken, CatalogError> {
        self.run(move |conn| create_deploy_token(conn, &new)).await
    }

    async fn deploy_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<DeployToken>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| {
            deploy_tokens::table
                .filter(deploy_tokens::digest.eq(&digest))
                .first::<DeployTokenRow>(conn)
                .optional()
                .map_err(db)?
                .map(DeployToken::try_from)
                .transpose()
        })
        .await
    }

    async fn revoke_deploy_token(&self, id: TokenId) -> Result<(), CatalogError> {
        self.run(move |conn| {
            diesel::update(deploy_tokens::table.find(id.0))
                .set(deploy_tokens::revoked.eq(true))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn create_job_token(&self, new: NewJobToken) -> Result<JobToken, CatalogError> {
        self.run(move |conn| create_job_token(conn, &new)).await
    }

    async fn job_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<JobTokenLogin>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| job_token_by_digest(conn, &digest))
            .await
    }

    async fn delete_job_token(&self, id: TokenId) -> Result<bool, CatalogError> {
        self.run(move |conn| {
            diesel::delete(job_tokens::table.find(id.0))
                .execute(conn)
                .map(|n| n > 0)
                .map_err(db)
        })
        .await
    }

    async fn add_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| add_job_token_allowlist(conn, target, source))
            .await
    }

    async fn job_token_allowed(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError> {
        self.run_read(move |conn| {
            diesel::select(diesel::dsl::exists(
                job_token_allowlist::table.find((target.0, source.0)),
            ))
            .get_result::<bool>(conn)
            .map_err(db)
        })
        .await
    }

    async fn create_group(&self, new: NewGroup) -> Result<Group, CatalogError> {
        self.run(move |conn| create_group(conn, &new)).await
    }

    async fn group_by_id(&self, id: GroupId) -> Result<Option<Group>, CatalogError> {
        self.run_read(move |conn| group_by_id(conn, id)).await
    }

    async fn group_by_full_path(&self, full_path: &str) -> Result<Option<Group>, CatalogError> {
        let full_path = full_path.to_string();
        self.run_read(move |conn| {
            // Case-insensitive, as on GitLab (served by `groups_full_path_ci`).
            groups::table
                .filter(lower(groups::full_path).eq(lower(&full_path)))
                .first::<GroupRow>(conn)
                .optional()
                .map_err(db)?
                .map(Group::try_from)
                .transpose()
        })
        .await
    }

    async fn group_ancestors(&self, id: GroupId) -> Result<Vec<Group>, CatalogError> {
        self.run_read(move |conn| group_ancestors(conn, id)).await
    }

    async fn set_group_package_settings(
        &self,
        id: GroupId,
        settings: &PackageSettings,
    ) -> Result<(), CatalogError> {
        let json = to_json(settings)?;
        self.run(move |conn| {
            diesel::update(groups::table.find(id.0))
                .set(groups::package_settings.eq(&json))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn create_project(&self, new: NewProject) -> Result<Project, CatalogError> {
        self.run(move |conn| create_project(conn, &new)).await
    }

    async fn project_by_id(&self, id: ProjectId) -> Result<Option<Project>, CatalogError> {
        self.run_read(move |conn| {
            projects::table
                .find(id.0)
                .first::<ProjectRow>(conn)
                .optional()
                .map_err(db)?
                .map(Project::try_from)
                .transpose()
        })
        .await
    }

    async fn project_by_full_path(&self, full_path: &str) -> Result<Option<Project>, CatalogError> {
        let full_path = full_path.to_string();
        self.run_read(move |conn| {
            // Case-insensitive, as on GitLab (served by `projects_full_path_ci`).
            projects::table
                .filter(lower(projects::full_path).eq(lower(&full_path)))
                .first::<ProjectRow>(conn)
                .optional()
                .map_err(db)?
                .map(Project::try_from)
                .transpose()
        })
        .await
    }

    async fn set_project_registry_access(
        &self,
        id: ProjectId,
        access: RegistryAccess,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| {
            diesel::update(projects::table.find(id.0))
                .set(projects::registry_access.eq(access.as_str()))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn add_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<String>,
    ) -> Result<Member, CatalogError> {
        self.run(move |conn| add_member(conn, source, user, level, expires_at.as_deref()))
            .await
    }

    async fn effective_access_level(
        &self,
        user: UserId,
        project: ProjectId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError> {
        let today = today.to_string();
        self.run_read(move |conn| effective_access_level(conn, user, project, &today))
            .await
    }

    async fn list_users(
        &self,
        filter: UserFilter,
        options: ListOptions,
    ) -> Result<Listing<User>, CatalogError> {
        self.run(move |conn| management::list_users(conn, &filter, &options))
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, CatalogError> {
        let email = email.to_owned();
        self.run(move |conn| management::user_by_email(conn, &email))
            .await
    }

    async fn update_user(
        &self,
        id: UserId,
        update: UserUpdate,
    ) -> Result<Option<User>, CatalogError> {
        self.run(move |conn| management::update_user(conn, id, &update))
            .await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, CatalogError> {
        self.run(move |conn| management::delete_user(conn, id))
            .await
    }

    async fn set_user_state(
        &self,
        id: UserId,
        state: UserState,
    ) -> Result<Option<User>, CatalogError> {
        self.run(move |conn| management::set_user_state(conn, id, state))
            .await
    }

    async fn list_personal_access_tokens(
        &self,
        filter: TokenFilter,
        page: Page,
    ) -> Result<Listing<PersonalAccessToken>, CatalogError> {
        self.run(move |conn| management::list_personal_access_tokens(conn, &filter, page))
            .await
    }

    async fn personal_access_token_by_id(
        &self,
        id: TokenId,
    ) -> Result<Option<PersonalAccessToken>, CatalogError> {
        self.run(move |conn| management::personal_access_token_by_id(conn, id))
            .await
    }

    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError> {
        self.run(move |conn| management::rotate_personal_access_token(conn, old, &new))
            .await
    }

    async fn list_groups(
        &self,
        filter: GroupFilter,
        options: ListOptions,
    ) -> Result<Listing<Group>, CatalogError> {
        self.run(move |conn| management::list_groups(conn, &filter, &options))
            .await
    }

    async fn update_group(
        &self,
        id: GroupId,
        update: GroupUpdate,
    ) -> Result<Option<Group>, CatalogError> {
        self.run(move |conn| management::update_group(conn, id, &update))
            .await
    }

    async fn delete_group(&self, id: GroupId) -> Result<bool, CatalogError> {
        self.run(move |conn| management::delete_group(conn, id))
            .await
    }

    async fn list_projects(
        &self,
        filter: ProjectFilter,
        options: ListOptions,
    ) -> Result<Listing<Project>, CatalogError> {
        self.run(move |conn| management::list_projects(conn, &filter, &options))
            .await
    }

    async fn update_project(
        &self,
        id: ProjectId,
        update: ProjectUpdate,
    ) -> Result<Option<Project>, CatalogError> {
        self.run(move |conn| management::update_project(conn, id, &update))
            .await
    }

    async fn delete_project(&self, id: ProjectId) -> Result<bool, CatalogError> {
        self.run(move |conn| management::delete_project(conn, id))
            .await
    }

    async fn list_members(
        &self,
        source: MemberSource,
        search: Option<String>,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError> {
        self.run(move |conn| management::list_members(conn, source, search.as_deref(), page))
            .await
    }

    async fn list_inherited_members(
        &self,
        sources: Vec<MemberSource>,
        today: &str,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| management::list_inherited_members(conn, &sources, &today, page))
            .await
    }

    async fn member(
        &self,
        source: MemberSource,
        user: UserId,
    ) -> Result<Option<Member>, CatalogError> {
        self.run(move |conn| management::member(conn, source, user))
            .await
    }

    async fn update_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<Option<String>>,
    ) -> Result<Option<Member>, CatalogError> {
        self.run(move |conn| management::update_member(conn, source, user, level, expires_at))
            .await
    }

    async fn remove_member(
        &self,
        source: MemberSource,
        user: UserId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| management::remove_member(conn, source, user))
            .await
    }

    async fn user_memberships(
        &self,
        user: UserId,
        today: &str,
    ) -> Result<Vec<Membership>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| management::user_memberships(conn, user, &today))
            .await
    }

    async fn list_deploy_tokens(
        &self,
        owner: Option<DeployTokenOwner>,
        active_only: bool,
        page: Page,
    ) -> Result<Listing<DeployToken>, CatalogError> {
        self.run(move |conn| management::list_deploy_tokens(conn, owner, active_only, page))
            .await
    }

    async fn deploy_token_by_id(&self, id: TokenId) -> Result<Option<DeployToken>, CatalogError> {
        self.run(move |conn| management::deploy_token_by_id(conn, id))
            .await
    }

    async fn delete_deploy_token(&self, id: TokenId) -> Result<bool, CatalogError> {
        self.run(move |conn| management::delete_deploy_token(conn, id))
            .await
    }

    async fn list_job_token_allowlist(
        &self,
        target: ProjectId,
        page: Page,
    ) -> Result<Listing<Project>, CatalogError> {
        self.run(move |conn| management::list_job_token_allowlist(conn, target, page))
            .await
    }

    async fn remove_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| management::remove_job_token_allowlist(conn, target, source))
            .await
    }

    async fn publish_file(
        &self,
        publish: PublishFile,
    ) -> Result<(Package, PackageFile), CatalogError> {
        self.run(move |conn| publish_file(conn, &publish)).await
    }

    async fn list_packages(
        &self,
        projects: &[ProjectId],
        filter: &PackageFilter,
        order: PackageOrder,
        descending: bool,
        page: Page,
    ) -> Result<(Vec<Package>, i64), CatalogError> {
        let projects = projects.to_vec();
        let filter = filter.clone();
        self.run(move |conn| list_packages(conn, &projects, &filter, order, descending, page))
            .await
    }

    async fn package_by_id(
        &self,
        project: ProjectId,
        id: PackageId,
    ) -> Result<Option<Package>, CatalogError> {
        self.run(move |conn| {
            packages::table
                .filter(packages::id.eq(id.0))
                .filter(packages::project_id.eq(project.0))
                .first::<PackageRow>(conn)
                .optional()
                .map_err(db)?
                .map(Package::try_from)
                .transpose()
        })
        .await
    }

    async fn packages_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        let format = format.to_string();
        let normalized_name = normalized_name.to_string();
        self.run_read(move |conn| {
            let rows = packages::table
                .filter(packages::project_id.eq(project.0))
                .filter(packages::format.eq(&format))
                .filter(packages::normalized_name.eq(&normalized_name))
                .order((packages::created_at.asc(), packages::id.asc()))
                .load::<PackageRow>(conn)
                .map_err(db)?;
            convert_all(rows)
        })
        .await
    }

    async fn package_files(
        &self,
        package: PackageId,
        page: Page,
    ) -> Result<(Vec<PackageFile>, i64), CatalogError> {
        self.run(move |conn| package_files(conn, package, page))
            .await
    }

    async fn package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<Option<PackageFile>, CatalogError> {
        self.run(move |conn| {
            package_files::table
                .filter(package_files::id.eq(id.0))
                .filter(package_files::package_id.eq(package.0))
                .first::<PackageFileRow>(conn)
                .optional()
                .map_err(db)?
                .map(PackageFile::try_from)
                .transpose()
        })
        .await
    }

    async fn newest_package_file(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        version: &str,
        file_name: &str,
        statuses: &[PackageStatus],
    ) -> Result<Option<(Package, PackageFile)>, CatalogError> {
        if statuses.is_empty() {
            return Ok(None);
        }
        let (format, normalized_name, version, file_name) = (
            format.to_string(),
            normalized_name.to_string(),
            version.to_string(),
            file_name.to_string(),
        );
        let statuses: Vec<&'static str> = statuses.iter().map(|s| s.as_str()).collect();
        self.run_read(move |conn| {
            newest_package_file(
                conn,
                project,
                &format,
                &normalized_name,
                &version,
                &file_name,
                &statuses,
            )
        })
        .await
    }

    async fn delete_package(&self, id: PackageId) -> Result<bool, CatalogError> {
        self.run(move |conn| delete_package(conn, id)).await
    }

    async fn delete_package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| delete_package_file(conn, package, id))
            .await
    }

    async fn touch_package_downloaded(
        &self,
        id: PackageId,
        at: Millis,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| {
            diesel::update(packages::table.find(id.0))
                .set(packages::last_downloaded_at.eq(at))
                .execute(conn)
                .map_err(db)
                .and_then(found)
        })
        .await
    }

    async fn package_build_infos(
        &self,
        package: PackageId,
    ) -> Result<Vec<PackageBuildInfo>, CatalogError> {
        self.run(move |conn| {
            package_build_infos::table
                .filter(package_build_infos::package_id.eq(package.0))
                .order(package_build_infos::id.desc())
                .limit(BUILD_INFOS_KEPT)
                .load::<PackageBuildInfoRow>(conn)
                .map(|rows| rows.into_iter().map(PackageBuildInfo::from).collect())
                .map_err(db)
        })
        .await
    }

    async fn package_tags(&self, package: PackageId) -> Result<Vec<PackageTag>, CatalogError> {
        self.run(move |conn| {
            package_tags::table
                .filter(package_tags::package_id.eq(package.0))
                .order((package_tags::name.asc(), package_tags::id.asc()))
                .load::<PackageTagRow>(conn)
                .map(|rows| rows.into_iter().map(PackageTag::from).collect())
                .map_err(db)
        })
        .await
    }

    async fn projects_in_group_tree(&self, group: GroupId) -> Result<Vec<Project>, CatalogError> {
        self.run(move |conn| projects_in_group_tree(conn, group))
            .await
    }

    async fn update_package(
        &self,
        id: PackageId,
        update: PackageUpdate,
    ) -> Result<Option<Package>, CatalogError> {
        self.run(move |conn| update_package(conn, id, &update))
            .await
    }

    async fn update_package_file_metadata(
        &self,
        package: PackageId,
        id: PackageFileId,
        metadata: serde_json::Value,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| update_package_file_metadata(conn, package, id, &metadata))
            .await
    }

    async fn set_package_tag(&self, package: PackageId, tag: &str) -> Result<(), CatalogError> {
        let tag = tag.to_string();
        self.run(move |conn| set_package_tag(conn, package, &tag))
            .await
    }

    async fn delete_package_tag(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
        tag: &str,
    ) -> Result<bool, CatalogError> {
        let (format, name, tag) = (
            format.to_string(),
            normalized_name.to_string(),
            tag.to_string(),
        );
        self.run(move |conn| delete_package_tag(conn, project, &format, &name, &tag))
            .await
    }

    async fn package_tags_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<(String, PackageId)>, CatalogError> {
        let (format, name) = (format.to_string(), normalized_name.to_string());
        self.run_read(move |conn| {
            package_tags::table
                .inner_join(packages::table)
                .filter(packages::project_id.eq(project.0))
                .filter(packages::format.eq(&format))
                .filter(packages::normalized_name.eq(&name))
                .order(package_tags::name.asc())
                .select((package_tags::name, package_tags::package_id))
                .load::<(String, i64)>(conn)
                .map(|rows| rows.into_iter().map(|(t, p)| (t, PackageId(p))).collect())
                .map_err(db)
        })
        .await
    }

    async fn package_files_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageFile>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run_read(move |conn| {
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
        })
        .await
    }

    async fn packages_by_name_in(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<Package>, CatalogError> {
        let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
        let (format, name) = (format.to_string(), normalized_name.to_string());
        self.run(move |conn| {
            packages::table
                .filter(packages::format.eq(&format))
                .filter(packages::normalized_name.eq(&name))
                .filter(packages::project_id.eq_any(&ids))
                .order((packages::created_at.asc(), packages::id.asc()))
                .load::<PackageRow>(conn)
                .map_err(db)?
                .into_iter()
                .map(Package::try_from)
                .collect()
        })
        .await
    }

    async fn package_names(
        &self,
        projects: &[ProjectId],
        format: &str,
    ) -> Result<Vec<PackageName>, CatalogError> {
        let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
        let format = format.to_string();
        self.run(move |conn| package_names(conn, &ids, &format))
            .await
    }

    async fn package_revisions(
        &self,
        projects: &[ProjectId],
        format: &str,
        normalized_name: Option<&str>,
    ) -> Result<Vec<Revision>, CatalogError> {
        let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
        let format = format.to_string();
        let name = normalized_name.unwrap_or("").to_string();
        self.run_read(move |conn| {
            package_revisions::table
                .filter(package_revisions::format.eq(&format))
                .filter(package_revisions::normalized_name.eq(&name))
                .filter(package_revisions::project_id.eq_any(&ids))
                .select((
                    package_revisions::project_id,
                    package_revisions::revision,
                    package_revisions::updated_at,
                ))
                .load::<(i64, i64, i64)>(conn)
                .map(|rows| {
                    rows.into_iter()
                        .map(|(p, revision, updated_at)| Revision {
                            project_id: ProjectId(p),
                            revision,
                            updated_at,
                        })
                        .collect()
                })
                .map_err(db)
        })
        .await
    }

    // ---- package administration (package_admin.rs)
    async fn protection_rules(
        &self,
        project: ProjectId,
        package_type: Option<&str>,
    ) -> Result<Vec<ProtectionRule>, CatalogError> {
        let package_type = package_type.map(str::to_owned);
        self.run(move |conn| {
            package_admin::protection_rules(conn, project, package_type.as_deref())
        })
        .await
    }

    async fn create_protection_rule(
        &self,
        new: NewProtectionRule,
    ) -> Result<ProtectionRule, CatalogError> {
        self.run(move |conn| package_admin::create_protection_rule(conn, &new))
            .await
    }

    async fn update_protection_rule(
        &self,
        rule: &ProtectionRule,
    ) -> Result<Option<ProtectionRule>, CatalogError> {
        let rule = rule.clone();
        self.run(move |conn| package_admin::update_protection_rule(conn, &rule))
            .await
    }

    async fn delete_protection_rule(
        &self,
        project: ProjectId,
        id: i64,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| package_admin::delete_protection_rule(conn, project, id))
            .await
    }

    async fn cleanup_policy(
        &self,
        project: ProjectId,
    ) -> Result<Option<CleanupPolicy>, CatalogError> {
        self.run(move |conn| package_admin::cleanup_policy(conn, project))
            .await
    }

    async fn set_cleanup_policy(
        &self,
        project: ProjectId,
        keep_n_duplicated_package_files: Option<i64>,
        next_run_at: Option<Millis>,
    ) -> Result<CleanupPolicy, CatalogError> {
        self.run(move |conn| {
            package_admin::set_cleanup_policy(
                conn,
                project,
                keep_n_duplicated_package_files,
                next_run_at,
            )
        })
        .await
    }

    async fn due_cleanup_policies(
        &self,
        at: Millis,
        limit: i64,
    ) -> Result<Vec<CleanupPolicy>, CatalogError> {
        self.run(move |conn| package_admin::due_cleanup_policies(conn, at, limit))
            .await
    }

    async fn claim_cleanup_policy(
        &self,
        project: ProjectId,
        expected: Millis,
        next: Millis,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| package_admin::claim_cleanup_policy(conn, project, expected, next))
            .await
    }

    async fn delete_duplicated_package_files(
        &self,
        project: ProjectId,
        keep: i64,
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.run(move |conn| package_admin::delete_duplicated_package_files(conn, project, keep))
            .await
    }

    async fn group_package_settings_document(
        &self,
        group: GroupId,
    ) -> Result<Option<serde_json::Value>, CatalogError> {
        self.run(move |conn| package_admin::group_package_settings_document(conn, group))
            .await
    }

    async fn set_group_package_settings_document(
        &self,
        group: GroupId,
        doc: &serde_json::Value,
    ) -> Result<(), CatalogError> {
        let doc = doc.clone();
        self.run(move |conn| package_admin::set_group_package_settings_document(conn, group, &doc))
            .await
    }

    async fn effective_group_access_level(
        &self,
        user: UserId,
        group: GroupId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| package_admin::effective_group_access_level(conn, user, group, &today))
            .await
    }

    async fn package_tags_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageTag>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run(move |conn| package_admin::package_tags_of(conn, &ids))
            .await
    }

    async fn package_build_infos_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageBuildInfo>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run(move |conn| package_admin::package_build_infos_of(conn, &ids))
            .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, CatalogError> {
        let ids: Vec<i64> = ids.iter().map(|u| u.0).collect();
        self.run(move |conn| package_admin::users_by_ids(conn, &ids))
            .await
    }

    async fn list_packages_by_project_path(
        &self,
        projects: &[ProjectId],
        filter: &PackageFilter,
        descending: bool,
        page: Page,
    ) -> Result<(Vec<Package>, i64), CatalogError> {
        let projects = projects.to_vec();
        let filter = filter.clone();
        self.run(move |conn| {
            package_admin::list_packages_by_project_path(conn, &projects, &filter, descending, page)
        })
        .await
    }

    async fn group_tree(&self, group: GroupId) -> Result<Vec<Group>, CatalogError> {
        self.run(move |conn| package_admin::group_tree(conn, group))
            .await
    }

    async fn member_levels(
        &self,
        user: UserId,
        groups: &[GroupId],
        projects: &[ProjectId],
        today: &str,
    ) -> Result<Vec<(MemberSource, AccessLevel)>, CatalogError> {
        let groups: Vec<i64> = groups.iter().map(|g| g.0).collect();
        let projects: Vec<i64> = projects.iter().map(|p| p.0).collect();
        let today = today.to_owned();
        self.run(move |conn| package_admin::member_levels(conn, user, &groups, &projects, &today))
            .await
    }

    async fn is_blob_referenced(&self, sha256: &str) -> Result<bool, CatalogError> {
        let sha256 = sha256.to_string();
        self.run(move |conn| {
            diesel::select(diesel::dsl::exists(
                package_files::table.filter(package_files::sha256.eq(&sha256)),
            ))
            .get_result::<bool>(conn)
            .map_err(db)
        })
        .await
    }

    async fn package_files_after(
        &self,
        after: PackageFileId,
        limit: i64,
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.run(move |conn| {
            let rows = package_files::table
                .filter(package_files::id.gt(after.0))
                .order(package_files::id.asc())
                .limit(limit.max(0))
                .load::<PackageFileRow>(conn)
                .map_err(db)?;
            convert_all(rows)
        })
        .await
    }

    async fn instance_settings(&self) -> Result<InstanceSettings, CatalogError> {
        self.run_read(instance_settings).await
    }

    async fn set_instance_settings(&self, settings: &InstanceSettings) -> Result<(), CatalogError> {
        let settings = settings.clone();
        self.run(move |conn| set_instance_settings(conn, &settings))
            .await
    }

    // ---- web UI (web.rs)
    async fn shared_secret(&self, name: &str, generate: String) -> Result<String, CatalogError> {
        let name = name.to_owned();
        self.run(move |conn| web::shared_secret(conn, &name, &generate))
            .await
    }

    async fn create_web_session(&self, session: &WebSession) -> Result<(), CatalogError> {
        let session = session.clone();
        self.run(move |conn| web::create_web_session(conn, &session))
            .await
    }

    async fn web_session(
        &self,
        id_digest: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, CatalogError> {
        let id_digest = id_digest.to_owned();
        self.run_read(move |conn| web::web_session(conn, &id_digest, now))
            .await
    }

    async fn delete_web_session(&self, id_digest: &str) -> Result<(), CatalogError> {
        let id_digest = id_digest.to_owned();
        self.run(move |conn| web::delete_web_session(conn, &id_digest))
            .await
    }

    async fn delete_expired_web_sessions(&self, now: Millis) -> Result<u64, CatalogError> {
        self.run(move |conn| web::delete_expired_web_sessions(conn, now))
            .await
    }

    async fn login_failures(&self, username: &str) -> Result<LoginFailures, CatalogError> {
        let username = username.to_owned();
        self.run_read(move |conn| web::login_failures(conn, &username))
            .await
    }

    async fn reserve_login_attempt(
        &self,
        username: &str,
        now: Millis,
        limits: LoginLimits,
    ) -> Result<LoginFailures, CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| web::reserve_login_attempt(conn, &username, now, limits))
            .await
    }

    async fn release_login_attempt(&self, username: &str) -> Result<(), CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| web::release_login_attempt(conn, &username))
            .await
    }

    async fn delete_user_web_sessions(&self, user: UserId) -> Result<u64, CatalogError> {
        self.run(move |conn| web::delete_user_web_sessions(conn, user))
            .await
    }

    async fn clear_login_failures(&self, username: &str) -> Result<(), CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| web::clear_login_failures(conn, &username))
            .await
    }
}

mod management;
#[cfg(test)]
mod management_tests;
mod package_admin;
#[cfg(test)]
mod package_admin_tests;
#[cfg(test)]
mod stamp_tests;
#[cfg(test)]
mod tests;
mod web;
#[cfg(test)]
mod web_tests;
