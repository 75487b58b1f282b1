//! Package writes after publish: deletes, tags, metadata, each checked by role and protection rules.

use super::*;

impl Registry {
    /// Deletes a package after checking `Action::DeletePackage` and its protection rules
    /// (`403 Package protected.`). `NotFound` when it is gone.
    pub async fn delete_package(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
    ) -> Result<(), ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Delete)
            .await?;
        if self.catalog.delete_package(package.id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("Package"))
        }
    }

    /// Deletes one file of a package after checking `Action::DeletePackage` and the
    /// package's protection rules. `false` when the file is not there.
    pub async fn delete_package_file(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        file: PackageFileId,
    ) -> Result<bool, ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Delete)
            .await?;
        Ok(self.catalog.delete_package_file(package.id, file).await?)
    }

    // ------------------------------------------------------------ package writes
    //
    // Every change to an existing package goes through one of these methods, which check the
    // policy and the package protection rules themselves, so that no format can skip them:
    // tags, deprecations and metadata are guarded like a publish (`Guarded::Push`), yank and
    // un-yank like a delete (`Guarded::Delete`), since a yanked version vanishes for
    // resolvers. Formats read through [`Registry::packages`] and never see the `Catalog`.

    /// The policy decision (`PublishPackage` for a push, `DeletePackage` for a delete) and
    /// the protection rules of `package`'s name for one write.
    pub(super) async fn authorize_package_write(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        guarded: Guarded,
    ) -> Result<(), ApiError> {
        if package.project_id != project.id {
            return Err(ApiError::not_found("Package"));
        }
        self.authorize_name_write(
            principal,
            project,
            &package.format,
            &[package.name.as_str(), package.normalized_name.as_str()],
            guarded,
        )
        .await
    }

    /// The checks of a write on the package name `names` (given and normalized) of
    /// `format`, without writing: for a handler that makes several writes and wants to be
    /// refused before the first rather than half-way. Every write method checks again.
    pub async fn authorize_name_write(
        &self,
        principal: &Principal,
        project: &Project,
        format: &str,
        names: &[&str],
        guarded: Guarded,
    ) -> Result<(), ApiError> {
        let action = match guarded {
            Guarded::Push => Action::PublishPackage,
            Guarded::Delete => Action::DeletePackage,
        };
        self.check(principal, project, action, RouteClass::Package)
            .await?;
        self.enforce_protection(principal, project, format, names, guarded)
            .await
    }

    /// Points `tag` at `package` (taking it from any other version of the name): a push.
    pub async fn set_package_tag(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        tag: &str,
    ) -> Result<(), ApiError> {
        self.authorize_package_write(principal, project, package, Guarded::Push)
            .await?;
        Ok(self.catalog.set_package_tag(package.id, tag).await?)
    }

    /// Removes `tag` from whichever version of the name has it: a push. `false` when none
    /// had it.
    pub async fn delete_package_tag(
        &self,
        principal: &Principal,
        project: &Project,
        format: FormatId,
        normalized_name: &str,
        tag: &str,
    ) -> Result<bool, ApiError> {
        self.authorize_name_write(
            principal,
            project,
            format.0,
            &[normalized_name],
            Guarded::Push,
        )
        .await?;
        Ok(self
            .catalog
            .delete_package_tag(project.id, format.0, normalized_name, tag)
            .await?)
    }

    /// Changes the status and/or metadata of `package`, guarded as `guarded` says
    /// (`Push` for deprecations and metadata, `Delete` for yank and un-yank). `NotFound`
    /// when the package is gone.
    pub async fn update_package(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        update: PackageUpdate,
        guarded: Guarded,
    ) -> Result<Package, ApiError> {
        self.authorize_package_write(principal, project, package, guarded)
            .await?;
        self.catalog
            .update_package(package.id, update)
            .await?
            .ok_or_else(|| ApiError::not_found("Package"))
    }

    /// Replaces one file's metadata, guarded as `guarded` says (see
    /// [`Registry::update_package`]). `false` when the file is gone.
    pub async fn update_package_file_metadata(
        &self,
        principal: &Principal,
        project: &Project,
        package: &Package,
        file: PackageFileId,
        metadata: serde_json::Value,
        guarded: Guarded,
    ) -> Result<bool, ApiError> {
        self.authorize_package_write(principal, project, package, guarded)
            .await?;
        Ok(self
            .catalog
            .update_package_file_metadata(package.id, file, metadata)
            .await?)
    }
}
