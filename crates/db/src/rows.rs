//! Rows as stored, and their conversion to and from the core model.
//!
//! Each `*Row` lists the columns of its table in [`crate::schema`] order, so it loads with
//! the table's default select (`table::all_columns`). Enums are stored as the model's
//! lowercase `as_str`, JSON as text; a value the model cannot read is a backend error,
//! never a panic.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use crate::schema::*;

/// A stored value the model cannot read (hand-edited row, newer schema, ...).
#[derive(Debug, thiserror::Error)]
#[error("unreadable value in {table}.{column}: {detail}")]
pub(crate) struct DecodeError {
    table: &'static str,
    column: &'static str,
    detail: String,
}

impl DecodeError {
    /// The parent chain of a group loops or runs deeper than any real tree.
    pub(crate) fn cycle(id: GroupId) -> DecodeError {
        DecodeError {
            table: "groups",
            column: "parent_id",
            detail: format!("the ancestors of group {id} do not end"),
        }
    }
}

fn bad(table: &'static str, column: &'static str, detail: impl ToString) -> CatalogError {
    CatalogError::backend(DecodeError {
        table,
        column,
        detail: detail.to_string(),
    })
}

fn json<T: serde::de::DeserializeOwned>(
    table: &'static str,
    column: &'static str,
    s: &str,
) -> Result<T, CatalogError> {
    serde_json::from_str(s).map_err(|e| bad(table, column, e))
}

/// Serializes a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, CatalogError> {
    serde_json::to_string(value).map_err(CatalogError::backend)
}

fn visibility(table: &'static str, s: &str) -> Result<Visibility, CatalogError> {
    Visibility::parse(s).ok_or_else(|| bad(table, "visibility", s))
}

#[derive(Queryable)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    name: String,
    email: String,
    is_admin: bool,
    password_hash: Option<String>,
    created_at: i64,
    state: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: UserId(r.id),
            username: r.username,
            name: r.name,
            email: r.email,
            is_admin: r.is_admin,
            password_hash: r.password_hash,
            created_at: r.created_at,
            // A `CHECK` keeps the column to the two values; anything else would fail
            // closed, as a user whose credentials do not work.
            state: UserState::parse(&r.state).unwrap_or(UserState::Blocked),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub is_admin: bool,
    pub password_hash: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct GroupRow {
    pub id: i64,
    name: String,
    path: String,
    pub full_path: String,
    pub parent_id: Option<i64>,
    visibility: String,
    description: String,
    package_settings: String,
    created_at: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = CatalogError;
    fn try_from(r: GroupRow) -> Result<Group, CatalogError> {
        Ok(Group {
            id: GroupId(r.id),
            visibility: visibility("groups", &r.visibility)?,
            package_settings: json("groups", "package_settings", &r.package_settings)?,
            name: r.name,
            path: r.path,
            full_path: r.full_path,
            parent_id: r.parent_id.map(GroupId),
            description: r.description,
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = groups)]
pub(crate) struct NewGroupRow<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub full_path: &'a str,
    pub parent_id: Option<i64>,
    pub visibility: &'a str,
    pub description: &'a str,
    pub package_settings: &'a str,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct ProjectRow {
    id: i64,
    name: String,
    path: String,
    full_path: String,
    pub group_id: Option<i64>,
    owner_user_id: Option<i64>,
    visibility: String,
    description: String,
    registry_access: String,
    creator_id: Option<i64>,
    created_at: i64,
}

impl TryFrom<ProjectRow> for Project {
    type Error = CatalogError;
    fn try_from(r: ProjectRow) -> Result<Project, CatalogError> {
        let namespace = match (r.group_id, r.owner_user_id) {
            (Some(g), _) => Namespace::Group(GroupId(g)),
            (None, Some(u)) => Namespace::User(UserId(u)),
            (None, None) => {
                return Err(bad(
                    "projects",
                    "group_id",
                    "neither group_id nor owner_user_id is set",
                ))
            }
        };
        Ok(Project {
            id: ProjectId(r.id),
            visibility: visibility("projects", &r.visibility)?,
            registry_access: RegistryAccess::parse(&r.registry_access)
                .ok_or_else(|| bad("projects", "registry_access", &r.registry_access))?,
            name: r.name,
            path: r.path,
            full_path: r.full_path,
            namespace,
            description: r.description,
            creator_id: r.creator_id.map(UserId),
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = projects)]
pub(crate) struct NewProjectRow<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub full_path: &'a str,
    pub group_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub visibility: &'a str,
    pub description: &'a str,
    pub registry_access: &'a str,
    pub creator_id: Option<i64>,
    pub created_at: i64,
}

pub(crate) const SOURCE_GROUP: &str = "group";
pub(crate) const SOURCE_PROJECT: &str = "project";

#[derive(Queryable)]
pub(crate) struct MemberRow {
    _id: i64,
    source_type: String,
    source_id: i64,
    user_id: i64,
    access_level: i16,
    expires_at: Option<String>,
    created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = CatalogError;
    fn try_from(r: MemberRow) -> Result<Member, CatalogError> {
        let source = match r.source_type.as_str() {
            SOURCE_GROUP => MemberSource::Group(GroupId(r.source_id)),
            SOURCE_PROJECT => MemberSource::Project(ProjectId(r.source_id)),
            other => return Err(bad("members", "source_type", other)),
        };
        Ok(Member {
            source,
            user_id: UserId(r.user_id),
            access_level: AccessLevel::from_i16(r.access_level)
                .ok_or_else(|| bad("members", "access_level", r.access_level))?,
            expires_at: r.expires_at,
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = members)]
pub(crate) struct NewMemberRow<'a> {
    pub source_type: &'a str,
    pub source_id: i64,
    pub user_id: i64,
    pub access_level: i16,
    pub expires_at: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct PersonalAccessTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    scopes: String,
    expires_at: Option<String>,
    revoked: bool,
    last_used_at: Option<i64>,
    _digest: String,
    created_at: i64,
}

impl TryFrom<PersonalAccessTokenRow> for PersonalAccessToken {
    type Error = CatalogError;
    fn try_from(r: PersonalAccessTokenRow) -> Result<PersonalAccessToken, CatalogError> {
        Ok(PersonalAccessToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            scopes: json("personal_access_tokens", "scopes", &r.scopes)?,
            name: r.name,
            expires_at: r.expires_at,
            revoked: r.revoked,
            last_used_at: r.last_used_at,
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = personal_access_tokens)]
pub(crate) struct NewPersonalAccessTokenRow<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<&'a str>,
    pub revoked: bool,
    pub digest: &'a str,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct DeployTokenRow {
    id: i64,
    project_id: Option<i64>,
    group_id: Option<i64>,
    name: String,
    username: String,
    scopes: String,
    expires_at: Option<i64>,
    revoked: bool,
    _digest: String,
    created_at: i64,
}

impl TryFrom<DeployTokenRow> for DeployToken {
    type Error = CatalogError;
    fn try_from(r: DeployTokenRow) -> Result<DeployToken, CatalogError> {
        let owner = match (r.project_id, r.group_id) {
            (Some(p), _) => DeployTokenOwner::Project(ProjectId(p)),
            (None, Some(g)) => DeployTokenOwner::Group(GroupId(g)),
            (None, None) => {
                return Err(bad(
                    "deploy_tokens",
                    "project_id",
                    "neither project_id nor group_id is set",
                ))
            }
        };
        Ok(DeployToken {
            id: TokenId(r.id),
            owner,
            scopes: json("deploy_tokens", "scopes", &r.scopes)?,
            name: r.name,
            username: r.username,
            expires_at: r.expires_at,
            revoked: r.revoked,
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = deploy_tokens)]
pub(crate) struct NewDeployTokenRow<'a> {
    pub project_id: Option<i64>,
    pub group_id: Option<i64>,
    pub name: &'a str,
    pub username: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub digest: &'a str,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct JobTokenRow {
    id: i64,
    project_id: i64,
    user_id: i64,
    pipeline_id: i64,
    job_id: i64,
    git_ref: String,
    sha: String,
    expires_at: i64,
    _digest: String,
    created_at: i64,
    personal_access_token_id: Option<i64>,
    origin: String,
}

impl From<JobTokenRow> for JobToken {
    fn from(r: JobTokenRow) -> JobToken {
        JobToken {
            id: TokenId(r.id),
            project_id: ProjectId(r.project_id),
            user_id: UserId(r.user_id),
            build: BuildInfo {
                pipeline_id: r.pipeline_id,
                job_id: r.job_id,
                git_ref: r.git_ref,
                sha: r.sha,
            },
            expires_at: r.expires_at,
            created_at: r.created_at,
            // Anything but "session" is tied to the token it names (none: refused).
            origin: if r.origin == JobTokenOrigin::Session.as_str() {
                JobTokenOrigin::Session
            } else {
                JobTokenOrigin::PersonalAccessToken(r.personal_access_token_id.map(TokenId))
            },
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = job_tokens)]
pub(crate) struct NewJobTokenRow<'a> {
    pub project_id: i64,
    pub user_id: i64,
    pub pipeline_id: i64,
    pub job_id: i64,
    pub git_ref: &'a str,
    pub sha: &'a str,
    pub expires_at: i64,
    pub digest: &'a str,
    pub created_at: i64,
    pub personal_access_token_id: Option<i64>,
    pub origin: &'a str,
}

#[derive(Queryable)]
pub(crate) struct PackageRow {
    pub id: i64,
    pub project_id: i64,
    pub format: String,
    name: String,
    pub normalized_name: String,
    version: String,
    status: String,
    metadata: String,
    created_at: i64,
    updated_at: i64,
    last_downloaded_at: Option<i64>,
}

impl TryFrom<PackageRow> for Package {
    type Error = CatalogError;
    fn try_from(r: PackageRow) -> Result<Package, CatalogError> {
        Ok(Package {
            id: PackageId(r.id),
            project_id: ProjectId(r.project_id),
            status: PackageStatus::parse(&r.status)
                .ok_or_else(|| bad("packages", "status", &r.status))?,
            metadata: json("packages", "metadata", &r.metadata)?,
            format: r.format,
            name: r.name,
            normalized_name: r.normalized_name,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_downloaded_at: r.last_downloaded_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = packages)]
pub(crate) struct NewPackageRow<'a> {
    pub project_id: i64,
    pub format: &'a str,
    pub name: &'a str,
    pub normalized_name: &'a str,
    pub version: &'a str,
    pub status: &'a str,
    pub metadata: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Queryable)]
pub(crate) struct PackageFileRow {
    id: i64,
    package_id: i64,
    file_name: String,
    size: i64,
    sha256: String,
    sha1: String,
    md5: String,
    sha512: String,
    metadata: String,
    build_info: Option<String>,
    created_at: i64,
}

impl TryFrom<PackageFileRow> for PackageFile {
    type Error = CatalogError;
    fn try_from(r: PackageFileRow) -> Result<PackageFile, CatalogError> {
        Ok(PackageFile {
            id: PackageFileId(r.id),
            package_id: PackageId(r.package_id),
            metadata: json("package_files", "metadata", &r.metadata)?,
            build: r
                .build_info
                .as_deref()
                .map(|b| json("package_files", "build_info", b))
                .transpose()?,
            file_name: r.file_name,
            size: r.size,
            sha256: r.sha256,
            sha1: r.sha1,
            md5: r.md5,
            sha512: r.sha512,
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = package_files)]
pub(crate) struct NewPackageFileRow<'a> {
    pub package_id: i64,
    pub file_name: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub sha1: &'a str,
    pub md5: &'a str,
    pub sha512: &'a str,
    pub metadata: &'a str,
    pub build_info: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Queryable)]
pub(crate) struct PackageTagRow {
    id: i64,
    package_id: i64,
    name: String,
    created_at: i64,
    updated_at: i64,
}

impl From<PackageTagRow> for PackageTag {
    fn from(r: PackageTagRow) -> PackageTag {
        PackageTag {
            id: r.id,
            package_id: PackageId(r.package_id),
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Queryable)]
pub(crate) struct PackageBuildInfoRow {
    id: i64,
    package_id: i64,
    user_id: Option<i64>,
    pipeline_id: i64,
    job_id: i64,
    git_ref: String,
    sha: String,
    created_at: i64,
}

impl From<PackageBuildInfoRow> for PackageBuildInfo {
    fn from(r: PackageBuildInfoRow) -> PackageBuildInfo {
        PackageBuildInfo {
            id: r.id,
            package_id: PackageId(r.package_id),
            user_id: r.user_id.map(UserId),
            build: BuildInfo {
                pipeline_id: r.pipeline_id,
                job_id: r.job_id,
                git_ref: r.git_ref,
                sha: r.sha,
            },
            created_at: r.created_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = package_build_infos)]
pub(crate) struct NewPackageBuildInfoRow<'a> {
    pub package_id: i64,
    pub user_id: Option<i64>,
    pub pipeline_id: i64,
    pub job_id: i64,
    pub git_ref: &'a str,
    pub sha: &'a str,
    pub created_at: i64,
}

/// Converts loaded rows, stopping at the first unreadable one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, CatalogError>
where
    T: TryFrom<R, Error = CatalogError>,
{
    rows.into_iter().map(T::try_from).collect()
}
