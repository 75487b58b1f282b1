//! Access: resolving projects and groups, gathering the policy's facts, deciding.

use super::*;

impl Registry {
    /// Finds a project by numeric id or (URL-encoded) full path.
    pub async fn find_project(&self, id: &str) -> Result<Option<Project>, ApiError> {
        self.find_project_at(self.stamp().0, id).await
    }

    pub(super) async fn find_project_at(
        &self,
        stamp: Option<u64>,
        id: &str,
    ) -> Result<Option<Project>, ApiError> {
        let Some(key) = IdOrPath::parse(id) else {
            return Ok(None);
        };
        Ok(self
            .reads
            .projects
            .get_or_load(stamp, key.clone(), || async {
                match &key {
                    IdOrPath::Id(n) => self.catalog.project_by_id(ProjectId(*n)).await,
                    IdOrPath::Path(p) => self.catalog.project_by_full_path(p).await,
                }
            })
            .await?)
    }

    /// Finds a group by numeric id or (URL-encoded) full path.
    pub async fn find_group(&self, id: &str) -> Result<Option<Group>, ApiError> {
        Ok(match IdOrPath::parse(id) {
            Some(IdOrPath::Id(n)) => self.catalog.group_by_id(GroupId(n)).await?,
            Some(IdOrPath::Path(p)) => self.catalog.group_by_full_path(&p).await?,
            None => None,
        })
    }

    /// The policy's view of this principal on this project.
    pub async fn access_facts(
        &self,
        principal: &Principal,
        project: &Project,
    ) -> Result<(Actor, ProjectAccessFacts), ApiError> {
        self.access_facts_at(self.stamp().0, principal, project)
            .await
    }

    pub(super) async fn access_facts_at(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
    ) -> Result<(Actor, ProjectAccessFacts), ApiError> {
        // The instance option only matters to projects set to "allow anyone to pull" (see
        // `policy`); other projects skip the query.
        let allow_anyone_to_pull_option = project.registry_access == RegistryAccess::Public
            && self
                .reads
                .settings
                .get_or_load(stamp, (), || self.catalog.instance_settings())
                .await?
                .package_registry_allow_anyone_to_pull_option;
        // The owner of a personal namespace is Owner of its projects, as in GitLab.
        let level_of = |user: UserId| async move {
            if project.namespace == Namespace::User(user) {
                return Ok::<_, crate::ports::CatalogError>(Some(AccessLevel::Owner));
            }
            let today = today();
            self.reads
                .levels
                .get_or_load(stamp, (user, project.id, today.clone()), || {
                    self.catalog
                        .effective_access_level(user, project.id, &today)
                })
                .await
        };
        let (actor, member_level) = match principal {
            Principal::Anonymous => (Actor::Anonymous, None),
            Principal::User { user, scopes } => (
                Actor::User {
                    id: user.id,
                    is_admin: user.is_admin,
                    scopes: scopes.clone(),
                },
                level_of(user.id).await?,
            ),
            Principal::Deploy(t) => {
                let covers = match t.owner {
                    DeployTokenOwner::Project(p) => p == project.id,
                    DeployTokenOwner::Group(g) => match project.namespace {
                        Namespace::Group(pg) => self
                            .reads
                            .ancestors
                            .get_or_load(stamp, pg, || async {
                                Ok::<_, crate::ports::CatalogError>(
                                    self.catalog
                                        .group_ancestors(pg)
                                        .await?
                                        .iter()
                                        .map(|a| a.id)
                                        .collect(),
                                )
                            })
                            .await?
                            .contains(&g),
                        Namespace::User(_) => false,
                    },
                };
                let has = |s: &str| t.scopes.iter().any(|x| x == s);
                (
                    Actor::DeployToken {
                        read: has("read_package_registry"),
                        write: has("write_package_registry"),
                        covers_project: covers,
                    },
                    None,
                )
            }
            Principal::Job { token, user } => {
                let allowed = token.project_id == project.id
                    || self
                        .reads
                        .job_allowlist
                        .get_or_load(stamp, (project.id, token.project_id), || {
                            self.catalog.job_token_allowed(project.id, token.project_id)
                        })
                        .await?;
                (
                    Actor::JobToken {
                        user: user.id,
                        is_admin: user.is_admin,
                        allowed_on_project: allowed,
                    },
                    level_of(user.id).await?,
                )
            }
        };
        Ok((
            actor,
            ProjectAccessFacts {
                visibility: project.visibility,
                registry_access: project.registry_access,
                allow_anyone_to_pull_option,
                member_level,
            },
        ))
    }

    pub async fn decide(
        &self,
        principal: &Principal,
        project: &Project,
        action: Action,
    ) -> Result<Decision, ApiError> {
        self.decide_at(self.stamp().0, principal, project, action)
            .await
    }

    pub(super) async fn decide_at(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
        action: Action,
    ) -> Result<Decision, ApiError> {
        let (actor, facts) = self.access_facts_at(stamp, principal, project).await?;
        Ok(policy::decide(&actor, action, &facts))
    }

    /// Finds the project `id` and decides `action` on it, for callers that answer refusals
    /// in their own shape. `Deny(NotVisible)` when the project does not exist.
    pub async fn find_and_decide(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
    ) -> Result<(Option<Project>, Decision), ApiError> {
        self.find_and_decide_at(self.stamp(), principal, id, action)
            .await
    }

    /// [`Registry::find_and_decide`] under a stamp already taken for this request.
    pub async fn find_and_decide_at(
        &self,
        Stamp(stamp): Stamp,
        principal: &Principal,
        id: &str,
        action: Action,
    ) -> Result<(Option<Project>, Decision), ApiError> {
        let Some(project) = self.find_project_at(stamp, id).await? else {
            return Ok((None, Decision::Deny(Refusal::NotVisible)));
        };
        let decision = self.decide_at(stamp, principal, &project, action).await?;
        Ok((Some(project), decision))
    }

    /// Resolves `id` and checks `action`, answering refusals as `class` requires.
    pub async fn authorize_project(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
        class: RouteClass,
    ) -> Result<Project, ApiError> {
        self.authorize_project_at(self.stamp(), principal, id, action, class)
            .await
    }

    /// [`Registry::authorize_project`] under a stamp already taken for this request.
    pub async fn authorize_project_at(
        &self,
        stamp: Stamp,
        principal: &Principal,
        id: &str,
        action: Action,
        class: RouteClass,
    ) -> Result<Project, ApiError> {
        let Stamp(raw) = stamp;
        let refuse = |r| ApiError::from_refusal(r, class, principal.is_anonymous());
        let Some(project) = self.find_project_at(raw, id).await? else {
            return Err(refuse(Refusal::NotVisible));
        };
        match self
            .decide_for_route(raw, principal, &project, action, class)
            .await?
        {
            Decision::Allow => Ok(project),
            Decision::Deny(r) => Err(refuse(r)),
        }
    }

    /// `decide`, with the one rule that depends on the route: "allow anyone to pull" opens
    /// the package-manager routes only. On REST (and web) routes a package read also needs
    /// to see the project, as GitLab's packages API finds the project with `read_project`
    /// first; so package lists, build infos and project paths stay hidden from callers
    /// whose only access is pulling.
    pub(super) async fn decide_for_route(
        &self,
        stamp: Option<u64>,
        principal: &Principal,
        project: &Project,
        action: Action,
        class: RouteClass,
    ) -> Result<Decision, ApiError> {
        if class == RouteClass::Rest && action == Action::ReadPackage {
            let seen = self
                .decide_at(stamp, principal, project, Action::ReadProject)
                .await?;
            if !seen.is_allowed() {
                return Ok(seen);
            }
        }
        self.decide_at(stamp, principal, project, action).await
    }

    /// Checks `action` on a project already loaded.
    pub async fn check(
        &self,
        principal: &Principal,
        project: &Project,
        action: Action,
        class: RouteClass,
    ) -> Result<(), ApiError> {
        match self
            .decide_for_route(self.stamp().0, principal, project, action, class)
            .await?
        {
            Decision::Allow => Ok(()),
            Decision::Deny(r) => Err(ApiError::from_refusal(r, class, principal.is_anonymous())),
        }
    }

    // ------------------------------------------------------------ packages

    /// The users who hold Maintainer or Owner on `project` (directly or through its groups),
    /// and the owner of a personal namespace: what cargo calls a crate's owners. A member list
    /// is project information, so it needs `Action::ReadProject`, as GitLab shows members to
    /// whoever can see the project: "allow anyone to pull" grants package reads only.
    pub async fn project_maintainers(
        &self,
        principal: &Principal,
        project: &Project,
    ) -> Result<Vec<User>, ApiError> {
        self.check(principal, project, Action::ReadProject, RouteClass::Package)
            .await?;
        let mut users = Vec::new();
        if let Namespace::User(u) = project.namespace {
            if let Some(user) = self.catalog.user_by_id(u).await? {
                users.push(user);
            }
        }
        let sources = self
            .member_sources(MemberSource::Project(project.id))
            .await?;
        let today = today();
        for page in 1..=100 {
            let listing = self
                .catalog
                .list_inherited_members(
                    sources.clone(),
                    &today,
                    Page {
                        page,
                        per_page: 100,
                    },
                )
                .await?;
            let done = listing.items.len() < 100;
            for m in listing.items {
                if m.member.access_level >= AccessLevel::Maintainer
                    && !users.iter().any(|u| u.id == m.user.id)
                {
                    users.push(m.user);
                }
            }
            if done {
                break;
            }
        }
        Ok(users)
    }

    /// The group `id` and the projects in it and its subgroups whose packages `principal`
    /// may read (group-level package endpoints). A group that is unknown, or that shows this
    /// caller nothing and is not visible to it, is refused as `class` requires (404, or 401
    /// for an anonymous caller on package routes, so clients send credentials).
    pub async fn readable_projects_in_group(
        &self,
        principal: &Principal,
        id: &str,
        class: RouteClass,
    ) -> Result<(Group, Vec<Project>), ApiError> {
        // The facts of every project are gathered in a fixed number of queries.
        let (group, access) = self.package_access_in_group(principal, id, class).await?;
        Ok((group, access.into_iter().map(|a| a.project).collect()))
    }
}
