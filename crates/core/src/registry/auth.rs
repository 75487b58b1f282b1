//! Authentication: credentials (tokens, passwords, sessions) to a `Principal`.

use super::*;

impl Registry {
    /// Checks a credential. Unknown, expired and revoked tokens are 401, even where anonymous
    /// access would be allowed (spec §1.3).
    pub async fn authenticate(
        &self,
        cred: Option<Credential>,
        class: RouteClass,
    ) -> Result<Principal, ApiError> {
        if cred.is_none() {
            return Ok(Principal::Anonymous);
        }
        self.authenticate_at(self.stamp(), cred, class).await
    }

    /// [`Registry::authenticate`] under a stamp already taken for this request.
    pub async fn authenticate_at(
        &self,
        Stamp(stamp): Stamp,
        cred: Option<Credential>,
        class: RouteClass,
    ) -> Result<Principal, ApiError> {
        let Some(cred) = cred else {
            return Ok(Principal::Anonymous);
        };
        let unknown = || match class {
            RouteClass::Package => ApiError::unauthorized_basic(),
            RouteClass::Rest => ApiError::unauthorized(),
        };
        let secret = cred.secret().to_owned();
        enum Kind {
            Pat,
            Deploy,
            Job,
        }
        let by_prefix = |s: &str| -> Vec<Kind> {
            if s.starts_with(credentials::PAT_PREFIX) {
                vec![Kind::Pat]
            } else if s.starts_with(credentials::DEPLOY_TOKEN_PREFIX) {
                vec![Kind::Deploy]
            } else if s.starts_with(credentials::JOB_TOKEN_PREFIX) {
                vec![Kind::Job]
            } else {
                vec![Kind::Pat, Kind::Deploy, Kind::Job]
            }
        };
        let kinds = match &cred {
            Credential::PrivateToken(_) => vec![Kind::Pat],
            Credential::JobToken(_) => vec![Kind::Job],
            Credential::DeployToken(_) => vec![Kind::Deploy],
            Credential::Bearer(s) => by_prefix(s),
            Credential::Basic { username, .. } if username == JOB_TOKEN_USER => vec![Kind::Job],
            Credential::Basic { password, .. } => by_prefix(password)
                .into_iter()
                .filter(|k| !matches!(k, Kind::Job))
                .collect(),
        };
        let digest = credentials::digest(&secret);
        let now = now_millis();
        let user_by_id = |id: UserId| {
            self.reads
                .users
                .get_or_load(stamp, id, move || self.catalog.user_by_id(id))
        };
        for kind in kinds {
            match kind {
                Kind::Pat => {
                    if let Some(t) = self
                        .reads
                        .pats
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.personal_access_token_by_digest(&digest)
                        })
                        .await?
                    {
                        if t.revoked {
                            return Err(revoked(class));
                        }
                        if t.expires_at
                            .as_deref()
                            .is_some_and(|d| d < today().as_str())
                        {
                            return Err(expired(class));
                        }
                        let user = user_by_id(t.user_id).await?.ok_or_else(unknown)?;
                        if user.is_blocked() {
                            return Err(blocked());
                        }
                        if t.last_used_at.is_none_or(|at| now - at > 60_000) {
                            self.catalog.touch_personal_access_token(t.id, now).await?;
                        }
                        return Ok(Principal::User {
                            user,
                            scopes: Some(t.scopes),
                        });
                    }
                }
                Kind::Deploy => {
                    if let Some(t) = self
                        .reads
                        .deploy_tokens
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.deploy_token_by_digest(&digest)
                        })
                        .await?
                    {
                        if t.revoked {
                            return Err(revoked(class));
                        }
                        if t.expires_at.is_some_and(|e| e < now) {
                            return Err(expired(class));
                        }
                        return Ok(Principal::Deploy(t));
                    }
                }
                Kind::Job => {
                    // One query gives the token, its user and the token that minted it;
                    // expiry depends on the clock, so it is checked here at every use.
                    if let Some(login) = self
                        .reads
                        .job_tokens
                        .get_or_load(stamp, digest.clone(), || {
                            self.catalog.job_token_by_digest(&digest)
                        })
                        .await?
                    {
                        let JobTokenLogin {
                            token,
                            user,
                            minted_by,
                        } = login;
                        if token.expires_at < now {
                            return Err(expired(class));
                        }
                        // Whoever minted it (a token or a session), a blocked user's CI
                        // job acts for nobody.
                        if user.is_blocked() {
                            return Err(blocked());
                        }
                        if let JobTokenOrigin::PersonalAccessToken(id) = token.origin {
                            // The job token lives no longer than the token that minted it.
                            match minted_by {
                                Some(pat) if Some(pat.id) == id => {
                                    if pat.revoked {
                                        return Err(revoked(class));
                                    }
                                    if pat
                                        .expires_at
                                        .as_deref()
                                        .is_some_and(|d| d < today().as_str())
                                    {
                                        return Err(expired(class));
                                    }
                                }
                                _ => return Err(revoked(class)),
                            }
                        }
                        return Ok(Principal::Job { token, user });
                    }
                }
            }
        }
        Err(unknown())
    }

    // ------------------------------------------------------------ authorization
}
