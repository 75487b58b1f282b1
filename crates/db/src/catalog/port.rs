//! [`Catalog`] for [`DbCatalog`]: each method runs a plain function of the entity's module
//! on the blocking pool ([`DbCatalog::run`], or [`DbCatalog::run_read`] for reads).

use async_trait::async_trait;
use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::{Catalog, CatalogError, PublishFile};

use super::{
    cleanup, db, files, groups, logins, members, packages, projects, protection, revisions,
    sessions, settings, tags, tokens, users,
};
use crate::rows::to_json;
use crate::DbCatalog;

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
        self.run(move |conn| users::create_user(conn, &new)).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, CatalogError> {
        self.run_read(move |conn| users::user_by_id(conn, id)).await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, CatalogError> {
        let username = username.to_string();
        self.run_read(move |conn| users::user_by_username(conn, &username))
            .await
    }

    async fn count_users(&self) -> Result<i64, CatalogError> {
        self.run(users::count_users).await
    }

    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError> {
        self.run(move |conn| tokens::create_personal_access_token(conn, &new))
            .await
    }

    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<PersonalAccessToken>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| tokens::personal_access_token_by_digest(conn, &digest))
            .await
    }

    async fn touch_personal_access_token(
        &self,
        id: TokenId,
        at: Millis,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| tokens::touch_personal_access_token(conn, id, at))
            .await
    }

    async fn revoke_personal_access_token(&self, id: TokenId) -> Result<(), CatalogError> {
        self.run(move |conn| tokens::revoke_personal_access_token(conn, id))
            .await
    }

    async fn create_deploy_token(&self, new: NewDeployToken) -> Result<DeployToken, CatalogError> {
        self.run(move |conn| tokens::create_deploy_token(conn, &new))
            .await
    }

    async fn deploy_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<DeployToken>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| tokens::deploy_token_by_digest(conn, &digest))
            .await
    }

    async fn revoke_deploy_token(&self, id: TokenId) -> Result<(), CatalogError> {
        self.run(move |conn| tokens::revoke_deploy_token(conn, id))
            .await
    }

    async fn create_job_token(&self, new: NewJobToken) -> Result<JobToken, CatalogError> {
        self.run(move |conn| tokens::create_job_token(conn, &new))
            .await
    }

    async fn job_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<JobTokenLogin>, CatalogError> {
        let digest = digest.to_string();
        self.run_read(move |conn| tokens::job_token_by_digest(conn, &digest))
            .await
    }

    async fn delete_job_token(&self, id: TokenId) -> Result<bool, CatalogError> {
        self.run(move |conn| tokens::delete_job_token(conn, id))
            .await
    }

    async fn add_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| tokens::add_job_token_allowlist(conn, target, source))
            .await
    }

    async fn job_token_allowed(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError> {
        self.run_read(move |conn| tokens::job_token_allowed(conn, target, source))
            .await
    }

    async fn create_group(&self, new: NewGroup) -> Result<Group, CatalogError> {
        self.run(move |conn| groups::create_group(conn, &new)).await
    }

    async fn group_by_id(&self, id: GroupId) -> Result<Option<Group>, CatalogError> {
        self.run_read(move |conn| groups::group_by_id(conn, id))
            .await
    }

    async fn group_by_full_path(&self, full_path: &str) -> Result<Option<Group>, CatalogError> {
        let full_path = full_path.to_string();
        self.run_read(move |conn| groups::group_by_full_path(conn, &full_path))
            .await
    }

    async fn group_ancestors(&self, id: GroupId) -> Result<Vec<Group>, CatalogError> {
        self.run_read(move |conn| groups::group_ancestors(conn, id))
            .await
    }

    async fn set_group_package_settings(
        &self,
        id: GroupId,
        settings: &PackageSettings,
    ) -> Result<(), CatalogError> {
        let json = to_json(settings)?;
        self.run(move |conn| settings::set_group_package_settings(conn, id, &json))
            .await
    }

    async fn create_project(&self, new: NewProject) -> Result<Project, CatalogError> {
        self.run(move |conn| projects::create_project(conn, &new))
            .await
    }

    async fn project_by_id(&self, id: ProjectId) -> Result<Option<Project>, CatalogError> {
        self.run_read(move |conn| projects::project_by_id(conn, id))
            .await
    }

    async fn project_by_full_path(&self, full_path: &str) -> Result<Option<Project>, CatalogError> {
        let full_path = full_path.to_string();
        self.run_read(move |conn| projects::project_by_full_path(conn, &full_path))
            .await
    }

    async fn set_project_registry_access(
        &self,
        id: ProjectId,
        access: RegistryAccess,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| projects::set_project_registry_access(conn, id, access))
            .await
    }

    async fn add_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<String>,
    ) -> Result<Member, CatalogError> {
        self.run(move |conn| members::add_member(conn, source, user, level, expires_at.as_deref()))
            .await
    }

    async fn effective_access_level(
        &self,
        user: UserId,
        project: ProjectId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError> {
        let today = today.to_string();
        self.run_read(move |conn| members::effective_access_level(conn, user, project, &today))
            .await
    }

    async fn list_users(
        &self,
        filter: UserFilter,
        options: ListOptions,
    ) -> Result<Listing<User>, CatalogError> {
        self.run(move |conn| users::list_users(conn, &filter, &options))
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, CatalogError> {
        let email = email.to_owned();
        self.run(move |conn| users::user_by_email(conn, &email))
            .await
    }

    async fn update_user(
        &self,
        id: UserId,
        update: UserUpdate,
    ) -> Result<Option<User>, CatalogError> {
        self.run(move |conn| users::update_user(conn, id, &update))
            .await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, CatalogError> {
        self.run(move |conn| users::delete_user(conn, id)).await
    }

    async fn set_user_state(
        &self,
        id: UserId,
        state: UserState,
    ) -> Result<Option<User>, CatalogError> {
        self.run(move |conn| users::set_user_state(conn, id, state))
            .await
    }

    async fn list_personal_access_tokens(
        &self,
        filter: TokenFilter,
        page: Page,
    ) -> Result<Listing<PersonalAccessToken>, CatalogError> {
        self.run(move |conn| tokens::list_personal_access_tokens(conn, &filter, page))
            .await
    }

    async fn personal_access_token_by_id(
        &self,
        id: TokenId,
    ) -> Result<Option<PersonalAccessToken>, CatalogError> {
        self.run(move |conn| tokens::personal_access_token_by_id(conn, id))
            .await
    }

    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
    ) -> Result<PersonalAccessToken, CatalogError> {
        self.run(move |conn| tokens::rotate_personal_access_token(conn, old, &new))
            .await
    }

    async fn list_groups(
        &self,
        filter: GroupFilter,
        options: ListOptions,
    ) -> Result<Listing<Group>, CatalogError> {
        self.run(move |conn| groups::list_groups(conn, &filter, &options))
            .await
    }

    async fn update_group(
        &self,
        id: GroupId,
        update: GroupUpdate,
    ) -> Result<Option<Group>, CatalogError> {
        self.run(move |conn| groups::update_group(conn, id, &update))
            .await
    }

    async fn delete_group(&self, id: GroupId) -> Result<bool, CatalogError> {
        self.run(move |conn| groups::delete_group(conn, id)).await
    }

    async fn list_projects(
        &self,
        filter: ProjectFilter,
        options: ListOptions,
    ) -> Result<Listing<Project>, CatalogError> {
        self.run(move |conn| projects::list_projects(conn, &filter, &options))
            .await
    }

    async fn update_project(
        &self,
        id: ProjectId,
        update: ProjectUpdate,
    ) -> Result<Option<Project>, CatalogError> {
        self.run(move |conn| projects::update_project(conn, id, &update))
            .await
    }

    async fn delete_project(&self, id: ProjectId) -> Result<bool, CatalogError> {
        self.run(move |conn| projects::delete_project(conn, id))
            .await
    }

    async fn list_members(
        &self,
        source: MemberSource,
        search: Option<String>,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError> {
        self.run(move |conn| members::list_members(conn, source, search.as_deref(), page))
            .await
    }

    async fn list_inherited_members(
        &self,
        sources: Vec<MemberSource>,
        today: &str,
        page: Page,
    ) -> Result<Listing<MemberWithUser>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| members::list_inherited_members(conn, &sources, &today, page))
            .await
    }

    async fn member(
        &self,
        source: MemberSource,
        user: UserId,
    ) -> Result<Option<Member>, CatalogError> {
        self.run(move |conn| members::member(conn, source, user))
            .await
    }

    async fn update_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<Option<String>>,
    ) -> Result<Option<Member>, CatalogError> {
        self.run(move |conn| members::update_member(conn, source, user, level, expires_at))
            .await
    }

    async fn remove_member(
        &self,
        source: MemberSource,
        user: UserId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| members::remove_member(conn, source, user))
            .await
    }

    async fn user_memberships(
        &self,
        user: UserId,
        today: &str,
    ) -> Result<Vec<Membership>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| members::user_memberships(conn, user, &today))
            .await
    }

    async fn list_deploy_tokens(
        &self,
        owner: Option<DeployTokenOwner>,
        active_only: bool,
        page: Page,
    ) -> Result<Listing<DeployToken>, CatalogError> {
        self.run(move |conn| tokens::list_deploy_tokens(conn, owner, active_only, page))
            .await
    }

    async fn deploy_token_by_id(&self, id: TokenId) -> Result<Option<DeployToken>, CatalogError> {
        self.run(move |conn| tokens::deploy_token_by_id(conn, id))
            .await
    }

    async fn delete_deploy_token(&self, id: TokenId) -> Result<bool, CatalogError> {
        self.run(move |conn| tokens::delete_deploy_token(conn, id))
            .await
    }

    async fn list_job_token_allowlist(
        &self,
        target: ProjectId,
        page: Page,
    ) -> Result<Listing<Project>, CatalogError> {
        self.run(move |conn| tokens::list_job_token_allowlist(conn, target, page))
            .await
    }

    async fn remove_job_token_allowlist(
        &self,
        target: ProjectId,
        source: ProjectId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| tokens::remove_job_token_allowlist(conn, target, source))
            .await
    }

    async fn publish_file(
        &self,
        publish: PublishFile,
    ) -> Result<(Package, PackageFile), CatalogError> {
        self.run(move |conn| packages::publish_file(conn, &publish))
            .await
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
        self.run(move |conn| {
            packages::list_packages(conn, &projects, &filter, order, descending, page)
        })
        .await
    }

    async fn package_by_id(
        &self,
        project: ProjectId,
        id: PackageId,
    ) -> Result<Option<Package>, CatalogError> {
        self.run(move |conn| packages::package_by_id(conn, project, id))
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
            packages::packages_by_name(conn, project, &format, &normalized_name)
        })
        .await
    }

    async fn package_files(
        &self,
        package: PackageId,
        page: Page,
    ) -> Result<(Vec<PackageFile>, i64), CatalogError> {
        self.run(move |conn| files::package_files(conn, package, page))
            .await
    }

    async fn package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<Option<PackageFile>, CatalogError> {
        self.run(move |conn| files::package_file(conn, package, id))
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
            files::newest_package_file(
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
        self.run(move |conn| packages::delete_package(conn, id))
            .await
    }

    async fn delete_package_file(
        &self,
        package: PackageId,
        id: PackageFileId,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| files::delete_package_file(conn, package, id))
            .await
    }

    async fn touch_package_downloaded(
        &self,
        id: PackageId,
        at: Millis,
    ) -> Result<(), CatalogError> {
        self.run(move |conn| packages::touch_package_downloaded(conn, id, at))
            .await
    }

    async fn package_build_infos(
        &self,
        package: PackageId,
    ) -> Result<Vec<PackageBuildInfo>, CatalogError> {
        self.run(move |conn| packages::package_build_infos(conn, package))
            .await
    }

    async fn package_tags(&self, package: PackageId) -> Result<Vec<PackageTag>, CatalogError> {
        self.run(move |conn| tags::package_tags(conn, package))
            .await
    }

    async fn projects_in_group_tree(&self, group: GroupId) -> Result<Vec<Project>, CatalogError> {
        self.run(move |conn| projects::projects_in_group_tree(conn, group))
            .await
    }

    async fn update_package(
        &self,
        id: PackageId,
        update: PackageUpdate,
    ) -> Result<Option<Package>, CatalogError> {
        self.run(move |conn| packages::update_package(conn, id, &update))
            .await
    }

    async fn update_package_file_metadata(
        &self,
        package: PackageId,
        id: PackageFileId,
        metadata: serde_json::Value,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| files::update_package_file_metadata(conn, package, id, &metadata))
            .await
    }

    async fn set_package_tag(&self, package: PackageId, tag: &str) -> Result<(), CatalogError> {
        let tag = tag.to_string();
        self.run(move |conn| tags::set_package_tag(conn, package, &tag))
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
        self.run(move |conn| tags::delete_package_tag(conn, project, &format, &name, &tag))
            .await
    }

    async fn package_tags_by_name(
        &self,
        project: ProjectId,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<(String, PackageId)>, CatalogError> {
        let (format, name) = (format.to_string(), normalized_name.to_string());
        self.run_read(move |conn| tags::package_tags_by_name(conn, project, &format, &name))
            .await
    }

    async fn package_files_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageFile>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run_read(move |conn| files::package_files_of(conn, &ids))
            .await
    }

    async fn projects_with_package(
        &self,
        format: &str,
        normalized_name: &str,
    ) -> Result<Vec<ProjectId>, CatalogError> {
        let (format, name) = (format.to_string(), normalized_name.to_string());
        self.run_read(move |conn| packages::projects_with_package(conn, &format, &name))
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
        self.run(move |conn| packages::packages_by_name_in(conn, &ids, &format, &name))
            .await
    }

    async fn package_names(
        &self,
        projects: &[ProjectId],
        format: &str,
    ) -> Result<Vec<PackageName>, CatalogError> {
        let ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
        let format = format.to_string();
        self.run(move |conn| packages::package_names(conn, &ids, &format))
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
        self.run_read(move |conn| revisions::package_revisions(conn, &ids, &format, &name))
            .await
    }

    // ---- package administration (protection.rs, cleanup.rs, and the batched lookups)
    async fn protection_rules(
        &self,
        project: ProjectId,
        package_type: Option<&str>,
    ) -> Result<Vec<ProtectionRule>, CatalogError> {
        let package_type = package_type.map(str::to_owned);
        self.run(move |conn| protection::protection_rules(conn, project, package_type.as_deref()))
            .await
    }

    async fn create_protection_rule(
        &self,
        new: NewProtectionRule,
    ) -> Result<ProtectionRule, CatalogError> {
        self.run(move |conn| protection::create_protection_rule(conn, &new))
            .await
    }

    async fn update_protection_rule(
        &self,
        rule: &ProtectionRule,
    ) -> Result<Option<ProtectionRule>, CatalogError> {
        let rule = rule.clone();
        self.run(move |conn| protection::update_protection_rule(conn, &rule))
            .await
    }

    async fn delete_protection_rule(
        &self,
        project: ProjectId,
        id: i64,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| protection::delete_protection_rule(conn, project, id))
            .await
    }

    async fn cleanup_policy(
        &self,
        project: ProjectId,
    ) -> Result<Option<CleanupPolicy>, CatalogError> {
        self.run(move |conn| cleanup::cleanup_policy(conn, project))
            .await
    }

    async fn set_cleanup_policy(
        &self,
        project: ProjectId,
        keep_n_duplicated_package_files: Option<i64>,
        next_run_at: Option<Millis>,
    ) -> Result<CleanupPolicy, CatalogError> {
        self.run(move |conn| {
            cleanup::set_cleanup_policy(conn, project, keep_n_duplicated_package_files, next_run_at)
        })
        .await
    }

    async fn due_cleanup_policies(
        &self,
        at: Millis,
        limit: i64,
    ) -> Result<Vec<CleanupPolicy>, CatalogError> {
        self.run(move |conn| cleanup::due_cleanup_policies(conn, at, limit))
            .await
    }

    async fn claim_cleanup_policy(
        &self,
        project: ProjectId,
        expected: Millis,
        next: Millis,
    ) -> Result<bool, CatalogError> {
        self.run(move |conn| cleanup::claim_cleanup_policy(conn, project, expected, next))
            .await
    }

    async fn delete_duplicated_package_files(
        &self,
        project: ProjectId,
        keep: i64,
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.run(move |conn| cleanup::delete_duplicated_package_files(conn, project, keep))
            .await
    }

    async fn group_package_settings_document(
        &self,
        group: GroupId,
    ) -> Result<Option<serde_json::Value>, CatalogError> {
        self.run(move |conn| settings::group_package_settings_document(conn, group))
            .await
    }

    async fn set_group_package_settings_document(
        &self,
        group: GroupId,
        doc: &serde_json::Value,
    ) -> Result<(), CatalogError> {
        let doc = doc.clone();
        self.run(move |conn| settings::set_group_package_settings_document(conn, group, &doc))
            .await
    }

    async fn effective_group_access_level(
        &self,
        user: UserId,
        group: GroupId,
        today: &str,
    ) -> Result<Option<AccessLevel>, CatalogError> {
        let today = today.to_owned();
        self.run(move |conn| members::effective_group_access_level(conn, user, group, &today))
            .await
    }

    async fn package_tags_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageTag>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run(move |conn| tags::package_tags_of(conn, &ids))
            .await
    }

    async fn package_build_infos_of(
        &self,
        packages: &[PackageId],
    ) -> Result<Vec<PackageBuildInfo>, CatalogError> {
        let ids: Vec<i64> = packages.iter().map(|p| p.0).collect();
        self.run(move |conn| packages::package_build_infos_of(conn, &ids))
            .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, CatalogError> {
        let ids: Vec<i64> = ids.iter().map(|u| u.0).collect();
        self.run(move |conn| users::users_by_ids(conn, &ids)).await
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
            packages::list_packages_by_project_path(conn, &projects, &filter, descending, page)
        })
        .await
    }

    async fn group_tree(&self, group: GroupId) -> Result<Vec<Group>, CatalogError> {
        self.run(move |conn| groups::group_tree(conn, group)).await
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
        self.run(move |conn| members::member_levels(conn, user, &groups, &projects, &today))
            .await
    }

    async fn is_blob_referenced(&self, sha256: &str) -> Result<bool, CatalogError> {
        let sha256 = sha256.to_string();
        self.run(move |conn| files::is_blob_referenced(conn, &sha256))
            .await
    }

    async fn package_files_after(
        &self,
        after: PackageFileId,
        limit: i64,
    ) -> Result<Vec<PackageFile>, CatalogError> {
        self.run(move |conn| files::package_files_after(conn, after, limit))
            .await
    }

    async fn instance_settings(&self) -> Result<InstanceSettings, CatalogError> {
        self.run_read(settings::instance_settings).await
    }

    async fn set_instance_settings(&self, settings: &InstanceSettings) -> Result<(), CatalogError> {
        let settings = settings.clone();
        self.run(move |conn| settings::set_instance_settings(conn, &settings))
            .await
    }

    // ---- web UI (sessions.rs, logins.rs)
    async fn shared_secret(&self, name: &str, generate: String) -> Result<String, CatalogError> {
        let name = name.to_owned();
        self.run(move |conn| sessions::shared_secret(conn, &name, &generate))
            .await
    }

    async fn create_web_session(&self, session: &WebSession) -> Result<(), CatalogError> {
        let session = session.clone();
        self.run(move |conn| sessions::create_web_session(conn, &session))
            .await
    }

    async fn web_session(
        &self,
        id_digest: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, CatalogError> {
        let id_digest = id_digest.to_owned();
        self.run_read(move |conn| sessions::web_session(conn, &id_digest, now))
            .await
    }

    async fn delete_web_session(&self, id_digest: &str) -> Result<(), CatalogError> {
        let id_digest = id_digest.to_owned();
        self.run(move |conn| sessions::delete_web_session(conn, &id_digest))
            .await
    }

    async fn delete_expired_web_sessions(&self, now: Millis) -> Result<u64, CatalogError> {
        self.run(move |conn| sessions::delete_expired_web_sessions(conn, now))
            .await
    }

    async fn login_failures(&self, username: &str) -> Result<LoginFailures, CatalogError> {
        let username = username.to_owned();
        self.run_read(move |conn| logins::login_failures(conn, &username))
            .await
    }

    async fn reserve_login_attempt(
        &self,
        username: &str,
        now: Millis,
        limits: LoginLimits,
    ) -> Result<LoginFailures, CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| logins::reserve_login_attempt(conn, &username, now, limits))
            .await
    }

    async fn release_login_attempt(&self, username: &str) -> Result<(), CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| logins::release_login_attempt(conn, &username))
            .await
    }

    async fn delete_user_web_sessions(&self, user: UserId) -> Result<u64, CatalogError> {
        self.run(move |conn| sessions::delete_user_web_sessions(conn, user))
            .await
    }

    async fn clear_login_failures(&self, username: &str) -> Result<(), CatalogError> {
        let username = username.to_owned();
        self.run(move |conn| logins::clear_login_failures(conn, &username))
            .await
    }
}
