//! Administration: creating groups, projects and tokens, the first root, gc, fsck, readiness.

use super::*;

impl Registry {
    /// Mints a CI job token for `principal` (a Developer+ user) on `project`. `minted_with`
    /// is the personal access token the request authenticated with (`None` for a web
    /// session): the job token is tied to it and ends when it is revoked or expires.
    pub async fn mint_job_token(
        &self,
        principal: &Principal,
        project: &Project,
        build: BuildInfo,
        minted_with: Option<&PersonalAccessToken>,
    ) -> Result<(String, JobToken), ApiError> {
        let Principal::User { user, scopes } = principal else {
            return Err(ApiError::forbidden());
        };
        if !scopes.as_ref().is_none_or(|s| s.iter().any(|x| x == "api")) {
            return Err(ApiError::insufficient_scope());
        }
        let origin = match (scopes, minted_with) {
            (None, None) => JobTokenOrigin::Session,
            (Some(_), Some(t)) if t.user_id == user.id && !t.revoked => {
                JobTokenOrigin::PersonalAccessToken(Some(t.id))
            }
            // A token principal must name its token, and a session has none.
            _ => return Err(ApiError::unauthorized()),
        };
        self.check(principal, project, Action::PublishPackage, RouteClass::Rest)
            .await?;
        let secret = credentials::new_secret(credentials::JOB_TOKEN_PREFIX);
        let ttl = i64::try_from(self.config.job_token_ttl.as_millis()).unwrap_or(i64::MAX);
        let token = self
            .catalog
            .create_job_token(NewJobToken {
                project_id: project.id,
                user_id: user.id,
                build,
                expires_at: now_millis().saturating_add(ttl),
                digest: credentials::digest(&secret),
                origin,
            })
            .await?;
        Ok((secret, token))
    }

    // ------------------------------------------------------------ administration

    pub async fn create_group(&self, new: NewGroup) -> Result<Group, ApiError> {
        validate_path_segment(&new.path)?;
        if let Some(parent) = new.parent_id {
            let parent = self
                .catalog
                .group_by_id(parent)
                .await?
                .ok_or_else(|| ApiError::not_found("Group"))?;
            if new.visibility > parent.visibility {
                return Err(ApiError::bad_request(format!(
                    "visibility {} is not allowed since the parent group has {} visibility",
                    new.visibility.as_str(),
                    parent.visibility.as_str()
                )));
            }
        }
        Ok(self.catalog.create_group(new).await?)
    }

    pub async fn create_project(&self, new: NewProject) -> Result<Project, ApiError> {
        validate_path_segment(&new.path)?;
        if let Namespace::Group(g) = new.namespace {
            let group = self
                .catalog
                .group_by_id(g)
                .await?
                .ok_or_else(|| ApiError::not_found("Group"))?;
            if new.visibility > group.visibility {
                return Err(ApiError::bad_request(format!(
                    "visibility {} is not allowed since the group has {} visibility",
                    new.visibility.as_str(),
                    group.visibility.as_str()
                )));
            }
        }
        Ok(self.catalog.create_project(new).await?)
    }

    /// Creates a personal access token; returns the secret (shown once) and the row.
    pub async fn create_personal_access_token(
        &self,
        user: UserId,
        name: &str,
        scopes: &[String],
        expires_at: Option<String>,
    ) -> Result<(String, PersonalAccessToken), ApiError> {
        if name.trim().is_empty() {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "name is missing",
            ));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !PAT_SCOPES.contains(&s.as_str())) {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "scopes does not have a valid value",
            ));
        }
        if let Some(d) = &expires_at {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ApiError::error(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "expires_at is invalid",
                )
            })?;
        }
        let secret = credentials::new_secret(credentials::PAT_PREFIX);
        let token = self
            .catalog
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: user,
                name: name.to_owned(),
                scopes: scopes.to_vec(),
                expires_at,
                digest: credentials::digest(&secret),
            })
            .await?;
        Ok((secret, token))
    }

    pub async fn create_deploy_token(
        &self,
        owner: DeployTokenOwner,
        name: &str,
        username: Option<String>,
        scopes: &[String],
        expires_at: Option<Millis>,
    ) -> Result<(String, DeployToken), ApiError> {
        if scopes.is_empty()
            || scopes
                .iter()
                .any(|s| !DEPLOY_TOKEN_SCOPES.contains(&s.as_str()))
        {
            return Err(ApiError::error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "scopes does not have a valid value",
            ));
        }
        let secret = credentials::new_secret(credentials::DEPLOY_TOKEN_PREFIX);
        let token = self
            .catalog
            .create_deploy_token(NewDeployToken {
                owner,
                name: name.to_owned(),
                username,
                scopes: scopes.to_vec(),
                expires_at,
                digest: credentials::digest(&secret),
            })
            .await?;
        Ok((secret, token))
    }

    /// For automated installs: when the catalog has no users, creates the admin `root`
    /// holding `token` as a personal access token with scope `api`.
    pub async fn ensure_initial_root(&self, token: &str) -> Result<bool, ApiError> {
        if self.catalog.count_users().await? > 0 {
            return Ok(false);
        }
        let user = self
            .catalog
            .create_user(NewUser {
                username: "root".into(),
                name: "Administrator".into(),
                email: "root@localhost".into(),
                is_admin: true,
                password_hash: None,
            })
            .await?;
        self.catalog
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: user.id,
                name: "initial root token".into(),
                scopes: vec!["api".into()],
                expires_at: None,
                digest: credentials::digest(token),
            })
            .await?;
        Ok(true)
    }

    // ------------------------------------------------------------ maintenance

    /// Deletes blobs that no row references and that are older than `grace`.
    pub async fn gc(&self, grace: Duration) -> Result<GcReport, ApiError> {
        let cutoff = now_millis() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut report = GcReport::default();
        for blob in self.blobs.list().await? {
            if blob.modified > cutoff || self.catalog.is_blob_referenced(&blob.sha256).await? {
                report.kept += 1;
                continue;
            }
            // The listing can be minutes old. An upload of the same bytes since then has
            // re-written the blob (a fresh age) and may be about to commit its row: ask the
            // store again, then the catalog again, right before deleting.
            match self.blobs.modified(&blob.sha256).await {
                Ok(modified) if modified <= cutoff => {}
                Ok(_) => {
                    report.kept += 1;
                    continue;
                }
                Err(crate::ports::BlobError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
            if self.catalog.is_blob_referenced(&blob.sha256).await? {
                report.kept += 1;
                continue;
            }
            self.blobs.delete(&blob.sha256).await?;
            report.deleted += 1;
        }
        Ok(report)
    }

    /// Checks that every package file's blob exists and hashes to its sha256.
    pub async fn fsck(&self) -> Result<Vec<FsckProblem>, ApiError> {
        let mut problems = Vec::new();
        let mut verified: HashSet<String> = HashSet::new();
        let mut after = PackageFileId(0);
        loop {
            let files = self.catalog.package_files_after(after, 500).await?;
            let Some(last) = files.last() else { break };
            after = last.id;
            for f in files {
                if verified.contains(&f.sha256) {
                    continue;
                }
                let problem = match self.blobs.get(&f.sha256, None).await {
                    Err(crate::ports::BlobError::NotFound) => Some("missing"),
                    Err(e) => return Err(e.into()),
                    Ok(read) => {
                        let mut hasher = Sha256::new();
                        let mut stream = read.stream;
                        let mut failed = false;
                        while let Some(chunk) = stream.next().await {
                            match chunk {
                                Ok(c) => hasher.update(&c),
                                Err(_) => {
                                    failed = true;
                                    break;
                                }
                            }
                        }
                        (failed || hex::encode(hasher.finalize()) != f.sha256)
                            .then_some("hash_mismatch")
                    }
                };
                match problem {
                    Some(p) => problems.push(FsckProblem {
                        package_file_id: f.id.0,
                        package_id: f.package_id.0,
                        file_name: f.file_name,
                        sha256: f.sha256,
                        problem: p,
                    }),
                    None => {
                        verified.insert(f.sha256);
                    }
                }
            }
        }
        Ok(problems)
    }

    /// Readiness: both ports answer.
    pub async fn ready(&self) -> Result<(), ApiError> {
        self.catalog.ping().await?;
        self.blobs.check().await?;
        Ok(())
    }
}
