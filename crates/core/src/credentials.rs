//! Credentials as GitLab accepts them (spec §1.1) and the secrets behind them.
//!
//! `PRIVATE-TOKEN`, `JOB-TOKEN`, `DEPLOY-TOKEN`, `Authorization: Bearer`, `?private_token=`,
//! `?job_token=`, and HTTP Basic with any username and the token as password (user
//! `gitlab-ci-token` for job tokens). Secrets are random, stored only as SHA-256 digests,
//! compared through their digests (a database lookup by digest, plus a constant-time check).

use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a request presented, before it is checked.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    PrivateToken(String),
    JobToken(String),
    DeployToken(String),
    /// `Authorization: Bearer`: a PAT, deploy token or job token.
    Bearer(String),
    /// HTTP Basic; the username only matters for `gitlab-ci-token`.
    Basic {
        username: String,
        password: String,
    },
}

// Never print a secret, not even in debug logs.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Credential::PrivateToken(_) => "PrivateToken",
            Credential::JobToken(_) => "JobToken",
            Credential::DeployToken(_) => "DeployToken",
            Credential::Bearer(_) => "Bearer",
            Credential::Basic { .. } => "Basic",
        };
        write!(f, "Credential::{kind}(<redacted>)")
    }
}

impl Credential {
    pub fn secret(&self) -> &str {
        match self {
            Credential::PrivateToken(s)
            | Credential::JobToken(s)
            | Credential::DeployToken(s)
            | Credential::Bearer(s)
            | Credential::Basic { password: s, .. } => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("malformed Authorization header")]
    MalformedAuthorization,
    #[error("several different credentials were sent")]
    Ambiguous,
}

/// Username that marks a job token in Basic auth.
pub const JOB_TOKEN_USER: &str = "gitlab-ci-token";

/// Reads the credential of a request from its headers and query. `None` = anonymous.
/// `basic_allowed` is true on package routes, where Basic carries tokens.
pub fn extract(
    header: impl Fn(&str) -> Option<String>,
    query: &str,
    basic_allowed: bool,
) -> Result<Option<Credential>, CredentialError> {
    let mut found: Vec<Credential> = Vec::new();
    if let Some(v) = header("private-token") {
        found.push(Credential::PrivateToken(v.trim().to_owned()));
    }
    if let Some(v) = header("job-token") {
        found.push(Credential::JobToken(v.trim().to_owned()));
    }
    if let Some(v) = header("deploy-token") {
        found.push(Credential::DeployToken(v.trim().to_owned()));
    }
    if let Some(v) = header("authorization") {
        found.push(parse_authorization(&v, basic_allowed)?);
    }
    for (k, v) in form_pairs(query) {
        match k.as_str() {
            "private_token" => found.push(Credential::PrivateToken(v)),
            "job_token" => found.push(Credential::JobToken(v)),
            _ => {}
        }
    }
    found.retain(|c| !c.secret().is_empty());
    found.dedup();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(CredentialError::Ambiguous),
    }
}

fn parse_authorization(value: &str, basic_allowed: bool) -> Result<Credential, CredentialError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(CredentialError::MalformedAuthorization);
        }
        return Ok(Credential::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| CredentialError::MalformedAuthorization)?;
        let text =
            String::from_utf8(decoded).map_err(|_| CredentialError::MalformedAuthorization)?;
        let (user, pass) = text
            .split_once(':')
            .ok_or(CredentialError::MalformedAuthorization)?;
        if !basic_allowed {
            // The REST API takes no Basic auth (spec §1.1); treat it as a bad credential.
            return Err(CredentialError::MalformedAuthorization);
        }
        return Ok(Credential::Basic {
            username: user.to_owned(),
            password: pass.to_owned(),
        });
    }
    // Cargo sends its token verbatim, without a scheme: on package routes a lone word is
    // the token. Anything else is malformed.
    if basic_allowed && rest.is_empty() && !scheme.is_empty() {
        return Ok(Credential::Bearer(scheme.to_owned()));
    }
    Err(CredentialError::MalformedAuthorization)
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Prefixes that say which kind a secret is (cosmetic, as GitLab's).
pub const PAT_PREFIX: &str = "glpat-";
pub const DEPLOY_TOKEN_PREFIX: &str = "gldt-";
pub const JOB_TOKEN_PREFIX: &str = "glcbt-";

/// A new random secret with `prefix`: 32 alphanumeric characters (~190 bits).
pub fn new_secret(prefix: &str) -> String {
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

/// The hex SHA-256 digest under which a secret is stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of two digests.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Hashes a password with argon2id (for web sign-in).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hdrs<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn private_token_header_is_read() {
        let c = extract(hdrs(&[("PRIVATE-TOKEN", "abc")]), "", false).unwrap();
        assert_eq!(c, Some(Credential::PrivateToken("abc".into())));
    }

    #[test]
    fn basic_with_any_user_carries_the_token_on_package_routes() {
        let b = base64::engine::general_purpose::STANDARD.encode("whoever:tok");
        let c = extract(hdrs(&[("Authorization", &format!("Basic {b}"))]), "", true).unwrap();
        assert_eq!(
            c,
            Some(Credential::Basic {
                username: "whoever".into(),
                password: "tok".into()
            })
        );
    }

    #[test]
    fn malformed_basic_header_is_an_error() {
        assert_eq!(
            extract(hdrs(&[("Authorization", "Basic !!!notbase64")]), "", true),
            Err(CredentialError::MalformedAuthorization)
        );
        let no_colon = base64::engine::general_purpose::STANDARD.encode("nocolon");
        assert_eq!(
            extract(
                hdrs(&[("Authorization", &format!("Basic {no_colon}"))]),
                "",
                true
            ),
            Err(CredentialError::MalformedAuthorization)
        );
    }

    #[test]
    fn a_bare_token_is_taken_on_package_routes_only() {
        // cargo sends `Authorization: <token>` with no scheme.
        assert_eq!(
            extract(hdrs(&[("Authorization", "glpat-abc")]), "", true),
            Ok(Some(Credential::Bearer("glpat-abc".into())))
        );
        assert_eq!(
            extract(hdrs(&[("Authorization", "glpat-abc")]), "", false),
            Err(CredentialError::MalformedAuthorization)
        );
        assert_eq!(
            extract(hdrs(&[("Authorization", "Digest a=b")]), "", true),
            Err(CredentialError::MalformedAuthorization)
        );
    }

    #[test]
    fn query_tokens_are_read_and_decoded() {
        let c = extract(hdrs(&[]), "a=1&private_token=x%2By", false).unwrap();
        assert_eq!(c, Some(Credential::PrivateToken("x+y".into())));
    }

    #[test]
    fn two_different_credentials_are_ambiguous() {
        assert_eq!(
            extract(
                hdrs(&[("PRIVATE-TOKEN", "a"), ("JOB-TOKEN", "b")]),
                "",
                false
            ),
            Err(CredentialError::Ambiguous)
        );
    }

    #[test]
    fn secrets_are_random_prefixed_and_digests_stable() {
        let a = new_secret(PAT_PREFIX);
        let b = new_secret(PAT_PREFIX);
        assert!(a.starts_with("glpat-") && a.len() == 38);
        assert_ne!(a, b);
        assert_eq!(
            digest("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(digests_match(&digest(&a), &digest(&a)));
        assert!(!digests_match(&digest(&a), &digest(&b)));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let c = Credential::PrivateToken("glpat-secret".into());
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("s3cret").unwrap();
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("wrong", &h));
    }
}
