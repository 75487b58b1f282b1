//! The management operations of the GitLab-compatible REST API: who may see and change
//! users, personal access tokens, groups, projects, members, deploy tokens and the CI
//! job-token allowlist (<https://docs.gitlab.com/api/users/>, <https://docs.gitlab.com/api/groups/>,
//! <https://docs.gitlab.com/api/projects/>, <https://docs.gitlab.com/api/members/>,
//! <https://docs.gitlab.com/api/deploy_tokens/>, <https://docs.gitlab.com/api/personal_access_tokens/>;
//! `specs/gitlab-api.md` §1.3, §2).
//!
//! Roles follow GitLab's defaults: any signed-in user creates top-level groups and projects
//! in its own namespace; Maintainer+ of a group creates subgroups, Developer+ creates its
//! projects; Owner changes or deletes a group and manages its members; Maintainer+ changes a
//! project, manages its members (Owner only grants Owner), deploy tokens and allowlist;
//! Owner deletes a project; admins may do everything. What a caller may not see is 404;
//! what it sees but may not change is 403; a write without a user behind it is 401.

use actix_web::http::StatusCode;

use crate::credentials::{self, Credential};
use crate::error::ApiError;
use crate::model::*;
use crate::registry::{validate_path_segment, Principal, Registry};

/// What a request needs from the caller's token scopes (spec §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// GET/HEAD: `api` or `read_api`.
    Read,
    /// `GET /user`, `/users`: `api`, `read_api` or `read_user`.
    ReadUser,
    /// Anything that changes state: `api`.
    Write,
}

/// Minimum length of an account password (GitLab's default).
pub const MIN_PASSWORD_LENGTH: usize = 8;

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// The parameters of `POST /users`.
#[derive(Debug, Clone)]
pub struct UserParams {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password: Option<String>,
    pub is_admin: bool,
}

/// The parameters of `POST /projects`.
#[derive(Debug, Clone)]
pub struct ProjectParams {
    pub name: String,
    pub path: String,
    /// `None`: the caller's personal namespace.
    pub group: Option<Group>,
    pub visibility: Visibility,
    pub description: String,
    pub registry_access: RegistryAccess,
}

/// 400 `{"message": {"<field>": ["<text>"]}}`, GitLab's model-validation shape.
pub fn field_error(field: &str, text: &str) -> ApiError {
    ApiError::with_body(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "message": { field: [text] } }),
    )
}

/// A username: GitLab's characters, not a number (so `:id` stays unambiguous).
pub fn validate_username(username: &str) -> Result<(), ApiError> {
    let ok = !username.is_empty()
        && username.len() <= 255
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !username.starts_with(['-', '.'])
        && !username.ends_with('.')
        && !username.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(field_error(
            "username",
            "can contain only letters, digits, '_', '-' and '.', cannot start with '-' or '.', and cannot be a number",
        ))
    }
}

fn validate_email(email: &str) -> Result<(), ApiError> {
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && email.len() <= 255
                && !email.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(field_error("email", "is invalid")),
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(field_error(
            "password",
            "is too short (minimum is 8 characters)",
        ));
    }
    Ok(())
}

impl Registry {
    // ------------------------------------------------------------ callers

    /// The user behind a management request, checking the token's scopes for `need`.
    /// Anonymous callers are `None` for reads and 401 for writes; deploy and job tokens
    /// are not accepted on these routes (401), as on GitLab.
    pub fn management_user<'a>(
        &self,
        principal: &'a Principal,
        need: Need,
    ) -> Result<Option<&'a User>, ApiError> {
        match principal {
            Principal::Anonymous if need == Need::Write => Err(ApiError::unauthorized()),
            Principal::Anonymous => Ok(None),
            Principal::Deploy(_) | Principal::Job { .. } => Err(ApiError::unauthorized()),
            p @ Principal::User { user, .. } => {
                let ok = match need {
                    Need::Write => p.has_any_scope(&["api"]),
                    Need::Read => p.has_any_scope(&["api", "read_api"]),
                    Need::ReadUser => p.has_any_scope(&["api", "read_api", "read_user"]),
                };
                if ok {
                    Ok(Some(user))
                } else {
                    Err(ApiError::insufficient_scope())
                }
            }
        }
    }

    /// Like [`Registry::management_user`], but a user is required (401 otherwise).
    pub fn signed_in_user<'a>(
        &self,
        principal: &'a Principal,
        need: Need,
    ) -> Result<&'a User, ApiError> {
        self.management_user(principal, need)?
            .ok_or_else(ApiError::unauthorized)
    }

    /// An admin (403 for other users, 401 when anonymous).
    pub fn admin_user<'a>(
        &self,
        principal: &'a Principal,
        need: Need,
    ) -> Result<&'a User, ApiError> {
        let user = self.signed_in_user(principal, need)?;
        if user.is_admin {
            Ok(user)
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// What `user` may see of groups and projects, for listing queries.
    /// `membership_only`: leave out what is visible only by its visibility level.
    pub async fn reach(
        &self,
        user: Option<&User>,
        membership_only: bool,
    ) -> Result<Reach, ApiError> {
        let Some(user) = user else {
            return Ok(Reach {
                min_visibility: (!membership_only).then_some(Visibility::Public),
                ..Reach::default()
            });
        };
        if user.is_admin && !membership_only {
            return Ok(Reach {
                everything: true,
                ..Reach::default()
            });
        }
        let mut reach = Reach {
            min_visibility: (!membership_only).then_some(Visibility::Internal),
            owner: Some(user.id),
            ..Reach::default()
        };
        for m in self.catalog().user_memberships(user.id, &today()).await? {
            match m.source {
                MemberSource::Project(p) => reach.project_ids.push(p),
                MemberSource::Group(g) => reach.group_ids.push(g),
            }
        }
        Ok(reach)
    }

    /// The caller's effective role in a group: its own membership or an ancestor's (the
    /// ancestors by `parent_id`, not by path prefix); admins are Owners everywhere.
    pub async fn group_role(
        &self,
        user: Option<&User>,
        group: &Group,
    ) -> Result<Option<AccessLevel>, ApiError> {
        let Some(user) = user else { return Ok(None) };
        if user.is_admin {
            return Ok(Some(AccessLevel::Owner));
        }
        Ok(self
            .catalog()
            .effective_group_access_level(user.id, group.id, &today())
            .await?)
    }

    /// The caller's effective role in a project (the owner of a personal namespace is
    /// Owner; admins are Owners everywhere).
    pub async fn project_role(
        &self,
        user: Option<&User>,
        project: &Project,
    ) -> Result<Option<AccessLevel>, ApiError> {
        let Some(user) = user else { return Ok(None) };
        if user.is_admin || project.namespace == Namespace::User(user.id) {
            return Ok(Some(AccessLevel::Owner));
        }
        Ok(self
            .catalog()
            .effective_access_level(user.id, project.id, &today())
            .await?)
    }

    /// Resolves a group the caller may see (404 otherwise) and, with `min`, checks its
    /// role (403). Returns the group and the caller's role.
    pub async fn authorize_group(
        &self,
        user: Option<&User>,
        id: &str,
        min: Option<AccessLevel>,
    ) -> Result<(Group, Option<AccessLevel>), ApiError> {
        let not_found = || ApiError::not_found("Group");
        let group = self.find_group(id).await?.ok_or_else(not_found)?;
        let role = self.group_role(user, &group).await?;
        let visible = role.is_some()
            || group.visibility == Visibility::Public
            || (group.visibility == Visibility::Internal && user.is_some())
            || self.has_membership_below(user, group.id).await?;
        if !visible {
            return Err(not_found());
        }
        if let Some(min) = min {
            if role.is_none_or(|r| r < min) {
                return Err(ApiError::forbidden());
            }
        }
        Ok((group, role))
    }

    /// A member of a subgroup or of a project inside sees the groups above it (GitLab
    /// shows the path to it). "Inside" is the tree of `group` by `parent_id`.
    async fn has_membership_below(
        &self,
        user: Option<&User>,
        group: GroupId,
    ) -> Result<bool, ApiError> {
        let Some(user) = user else { return Ok(false) };
        let memberships = self.catalog().user_memberships(user.id, &today()).await?;
        if memberships.is_empty() {
            return Ok(false);
        }
        let tree: std::collections::HashSet<GroupId> = self
            .catalog()
            .group_tree(group)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        for m in memberships {
            let below = match m.source {
                MemberSource::Group(g) => g != group && tree.contains(&g),
                MemberSource::Project(p) => self.catalog().project_by_id(p).await?.is_some_and(
                    |p| matches!(p.namespace, Namespace::Group(g) if tree.contains(&g)),
                ),
            };
            if below {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Resolves a project the caller may see (404 otherwise) and, with `min`, checks its
    /// role (403). Returns the project and the caller's role.
    pub async fn authorize_project_role(
        &self,
        user: Option<&User>,
        id: &str,
        min: Option<AccessLevel>,
    ) -> Result<(Project, Option<AccessLevel>), ApiError> {
        let project = self
            .find_project(id)
            .await?
            .ok_or_else(ApiError::project_not_found)?;
        let role = self.project_role(user, &project).await?;
        let visible = role.is_some()
            || project.visibility == Visibility::Public
            || (project.visibility == Visibility::Internal && user.is_some());
        if !visible {
            return Err(ApiError::project_not_found());
        }
        if let Some(min) = min {
            if role.is_none_or(|r| r < min) {
                return Err(ApiError::forbidden());
            }
        }
        Ok((project, role))
    }

    // ------------------------------------------------------------ users

    /// `POST /users` (the caller is already known to be an admin).
    pub async fn create_user_account(&self, p: UserParams) -> Result<User, ApiError> {
        validate_username(&p.username)?;
        validate_email(&p.email)?;
        if p.name.trim().is_empty() {
            return Err(ApiError::error(StatusCode::BAD_REQUEST, "name is missing"));
        }
        if let Some(password) = &p.password {
            check_password(password)?;
        }
        if self
            .catalog()
            .user_by_username(&p.username)
            .await?
            .is_some()
        {
            return Err(ApiError::conflict("Username has already been taken"));
        }
        if self.catalog().user_by_email(&p.email).await?.is_some() {
            return Err(ApiError::conflict("Email has already been taken"));
        }
        // Hashed last, once the cheap checks passed, through the one bound on argon2.
        let password_hash = match p.password {
            Some(password) => Some(self.passwords().hash(password).await?),
            None => None,
        };
        Ok(self
            .catalog()
            .create_user(NewUser {
                username: p.username,
                name: p.name,
                email: p.email,
                is_admin: p.is_admin,
                password_hash,
            })
            .await?)
    }

    /// `PUT /users/:id`. `password` is hashed here.
    pub async fn update_user_account(
        &self,
        id: UserId,
        mut update: UserUpdate,
        password: Option<String>,
    ) -> Result<User, ApiError> {
        if self.catalog().user_by_id(id).await?.is_none() {
            return Err(ApiError::not_found("User"));
        }
        if let Some(u) = &update.username {
            validate_username(u)?;
            // Usernames compare case-insensitively: `Alice` may become `alice`, not `bob`'s.
            if let Some(other) = self.catalog().user_by_username(u).await? {
                if other.id != id {
                    return Err(ApiError::conflict("Username has already been taken"));
                }
            }
        }
        if let Some(e) = &update.email {
            validate_email(e)?;
            if let Some(other) = self.catalog().user_by_email(e).await? {
                if other.id != id {
                    return Err(ApiError::conflict("Email has already been taken"));
                }
            }
        }
        if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(field_error("name", "can't be blank"));
        }
        update.password_hash = match password {
            Some(password) => {
                check_password(&password)?;
                Some(self.passwords().hash(password).await?)
            }
            None => None,
        };
        self.catalog()
            .update_user(id, update)
            .await?
            .ok_or_else(|| ApiError::not_found("User"))
    }

    /// `POST /users/:id/block` and `/unblock`, `packyard admin block-user`: sets the user's
    /// state as `admin`. Blocking ends the user's web sessions in the same commit, and from
    /// that commit on its personal access and job tokens are refused at authentication.
    /// Blocking or unblocking twice is not an error. `admin` is the acting admin (`None`
    /// for the command line, which acts as the server's operator).
    pub async fn set_user_state_account(
        &self,
        admin: Option<&User>,
        id: UserId,
        state: UserState,
    ) -> Result<User, ApiError> {
        if state == UserState::Blocked && admin.is_some_and(|a| a.id == id) {
            return Err(ApiError::message(
                StatusCode::FORBIDDEN,
                "403 Forbidden - You cannot block your own account; ask another admin.",
            ));
        }
        self.catalog()
            .set_user_state(id, state)
            .await?
            .ok_or_else(|| ApiError::not_found("User"))
    }

    // ------------------------------------------------------------ personal access tokens

    /// The personal access token a request authenticated with (`/personal_access_tokens/self`).
    pub async fn presented_personal_access_token(
        &self,
        credential: Option<Credential>,
    ) -> Result<Option<PersonalAccessToken>, ApiError> {
        let Some(cred) = credential else {
            return Ok(None);
        };
        Ok(self
            .catalog()
            .personal_access_token_by_digest(&credentials::digest(cred.secret()))
            .await?)
    }

    /// Revokes `old` and issues a token with the same name and scopes; returns the new
    /// secret (shown once) and row. `expires_at` defaults to a week ahead, at most a year.
    pub async fn rotate_personal_access_token(
        &self,
        old: &PersonalAccessToken,
        expires_at: Option<String>,
    ) -> Result<(String, PersonalAccessToken), ApiError> {
        if old.revoked {
            return Err(ApiError::bad_request("Token already revoked"));
        }
        let today = chrono::Utc::now().date_naive();
        let expires = match expires_at {
            Some(d) => {
                let date = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| ApiError::invalid_param("expires_at"))?;
                if date <= today || date > today + chrono::Days::new(366) {
                    return Err(ApiError::bad_request(
                        "expires_at must be after today and at most a year ahead",
                    ));
                }
                date
            }
            None => today + chrono::Days::new(7),
        };
        let secret = credentials::new_secret(credentials::PAT_PREFIX);
        let token = self
            .catalog()
            .rotate_personal_access_token(
                old.id,
                NewPersonalAccessToken {
                    user_id: old.user_id,
                    name: old.name.clone(),
                    scopes: old.scopes.clone(),
                    expires_at: Some(expires.format("%Y-%m-%d").to_string()),
                    digest: credentials::digest(&secret),
                },
            )
            .await
            .map_err(|e| match e {
                crate::ports::CatalogError::Conflict(m) => ApiError::bad_request(m),
                other => other.into(),
            })?;
        Ok((secret, token))
    }

    // ------------------------------------------------------------ groups and projects

    /// `POST /groups`: top-level groups by any user, subgroups by Maintainer+ of the
    /// parent. The creator becomes the group's Owner.
    pub async fn create_group_as(&self, user: &User, new: NewGroup) -> Result<Group, ApiError> {
        if let Some(parent) = new.parent_id {
            self.authorize_group(
                Some(user),
                &parent.0.to_string(),
                Some(AccessLevel::Maintainer),
            )
            .await?;
        }
        if new.name.trim().is_empty() {
            return Err(ApiError::error(StatusCode::BAD_REQUEST, "name is missing"));
        }
        let group = self.create_group(new).await.map_err(conflict_as_400)?;
        self.catalog()
            .add_member(
                MemberSource::Group(group.id),
                user.id,
                AccessLevel::Owner,
                None,
            )
            .await?;
        Ok(group)
    }

    /// `PUT /groups/:id` (Owner). A narrower visibility than a subgroup's or project's, or
    /// wider than the parent's, is refused as GitLab does.
    pub async fn update_group_as(
        &self,
        group: &Group,
        update: GroupUpdate,
    ) -> Result<Group, ApiError> {
        if let Some(path) = &update.path {
            validate_path_segment(path)?;
        }
        if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(field_error("name", "can't be blank"));
        }
        if let Some(v) = update.visibility {
            if let Some(parent) = group.parent_id {
                if let Some(parent) = self.catalog().group_by_id(parent).await? {
                    if v > parent.visibility {
                        return Err(field_error(
                            "visibility_level",
                            &format!(
                                "{} is not allowed since the parent group has a {} visibility.",
                                v.as_str(),
                                parent.visibility.as_str()
                            ),
                        ));
                    }
                }
            }
            // Visible to a reach of "this visibility or wider than `v`" only.
            let wider = || Reach {
                min_visibility: Visibility::ALL.into_iter().find(|x| *x > v),
                ..Reach::default()
            };
            let wider_child = self
                .catalog()
                .list_groups(
                    GroupFilter {
                        reach: wider(),
                        parent: Some(group.id),
                        ..GroupFilter::default()
                    },
                    first_only(),
                )
                .await?
                .total
                .unwrap_or(0)
                > 0;
            let wider_project = self
                .catalog()
                .list_projects(
                    ProjectFilter {
                        reach: wider(),
                        group: Some(group.id),
                        ..ProjectFilter::default()
                    },
                    first_only(),
                )
                .await?
                .total
                .unwrap_or(0)
                > 0;
            if wider_child || wider_project {
                return Err(field_error(
                    "visibility_level",
                    &format!(
                        "{} is not allowed since there are sub-groups or projects with a higher visibility.",
                        v.as_str()
                    ),
                ));
            }
        }
        self.catalog()
            .update_group(group.id, update)
            .await
            .map_err(|e| conflict_as_400(e.into()))?
            .ok_or_else(|| ApiError::not_found("Group"))
    }

    /// `POST /projects`: in the caller's namespace, or in a group where it is Developer+.
    pub async fn create_project_as(
        &self,
        user: &User,
        p: ProjectParams,
    ) -> Result<Project, ApiError> {
        if p.name.trim().is_empty() {
            return Err(ApiError::error(StatusCode::BAD_REQUEST, "name is missing"));
        }
        let namespace = match &p.group {
            Some(group) => {
                let role = self.group_role(Some(user), group).await?;
                if role.is_none_or(|r| r < AccessLevel::Developer) {
                    return Err(ApiError::forbidden());
                }
                Namespace::Group(group.id)
            }
            None => Namespace::User(user.id),
        };
        self.create_project(NewProject {
            name: p.name,
            path: p.path,
            namespace,
            visibility: p.visibility,
            description: p.description,
            registry_access: p.registry_access,
            creator_id: Some(user.id),
        })
        .await
        .map_err(conflict_as_400)
    }

    /// `PUT /projects/:id` (Maintainer+). The visibility may not exceed the group's.
    pub async fn update_project_as(
        &self,
        project: &Project,
        update: ProjectUpdate,
    ) -> Result<Project, ApiError> {
        if let Some(path) = &update.path {
            validate_path_segment(path)?;
        }
        if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(field_error("name", "can't be blank"));
        }
        if let (Some(v), Namespace::Group(g)) = (update.visibility, project.namespace) {
            if let Some(group) = self.catalog().group_by_id(g).await? {
                if v > group.visibility {
                    return Err(field_error(
                        "visibility_level",
                        &format!(
                            "{} is not allowed in a {} group.",
                            v.as_str(),
                            group.visibility.as_str()
                        ),
                    ));
                }
            }
        }
        self.catalog()
            .update_project(project.id, update)
            .await
            .map_err(|e| conflict_as_400(e.into()))?
            .ok_or_else(ApiError::project_not_found)
    }

    // ------------------------------------------------------------ members

    /// The member sources whose members count for `source`: itself and the groups above.
    pub async fn member_sources(
        &self,
        source: MemberSource,
    ) -> Result<Vec<MemberSource>, ApiError> {
        let group = match source {
            MemberSource::Project(p) => match self.catalog().project_by_id(p).await? {
                Some(Project {
                    namespace: Namespace::Group(g),
                    ..
                }) => Some(g),
                _ => None,
            },
            MemberSource::Group(g) => Some(g),
        };
        let mut sources = vec![source];
        if let Some(g) = group {
            for a in self.catalog().group_ancestors(g).await? {
                let s = MemberSource::Group(a.id);
                if !sources.contains(&s) {
                    sources.push(s);
                }
            }
        }
        Ok(sources)
    }

    /// Adds a member; only an Owner (or admin) grants Owner.
    pub async fn add_member_as(
        &self,
        caller_role: Option<AccessLevel>,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<String>,
    ) -> Result<Member, ApiError> {
        if level == AccessLevel::Owner && caller_role != Some(AccessLevel::Owner) {
            return Err(ApiError::forbidden());
        }
        if self.catalog().user_by_id(user).await?.is_none() {
            return Err(ApiError::not_found("User"));
        }
        Ok(self
            .catalog()
            .add_member(source, user, level, expires_at)
            .await?)
    }
}

/// A one-row page, for existence checks through the listing queries.
fn first_only() -> ListOptions {
    ListOptions {
        order: ListOrder::Id,
        descending: false,
        paging: Paging::Offset(Page {
            page: 1,
            per_page: 1,
        }),
    }
}

/// GitLab answers a taken path with 400 and the field named.
fn conflict_as_400(e: ApiError) -> ApiError {
    if e.status() == StatusCode::CONFLICT {
        field_error("path", "has already been taken")
    } else {
        e
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_gitlab_rules_and_are_never_numbers() {
        assert!(validate_username("alice.b-c_d").is_ok());
        for bad in ["", "123", "-a", ".a", "a.", "a b", "a/b", "é"] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(validate_email("a@b.c").is_ok());
        for bad in ["", "a", "@b", "a@", "a b@c"] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_passwords_are_refused_with_the_field_named() {
        let e = check_password("short").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("password"), "{e}");
    }
}
