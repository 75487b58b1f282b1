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
    /// A credential was sent but cannot be a token (empty, not printable ASCII): a bad
    /// credential, never anonymous. The field names where it came from.
    #[error("the {0} is not a valid token")]
    Unusable(&'static str),
    #[error("several different credentials were sent")]
    Ambiguous,
}

/// Username that marks a job token in Basic auth.
pub const JOB_TOKEN_USER: &str = "gitlab-ci-token";

/// Query parameters that carry a secret, as GitLab reads them or clients try them. They are
/// never echoed into a response (pagination links, redirects): see [`query_without`].
pub const CREDENTIAL_PARAMS: &[&str] = &[
    "private_token",
    "job_token",
    "access_token",
    "deploy_token",
    "oauth_token",
    "token",
    "password",
];

/// Reads the credential of a request from its headers and query. `None` = anonymous.
/// `basic_allowed` is true on package routes, where Basic carries tokens.
///
/// `header(name)` gives every value of that header, as raw bytes. A credential that is
/// present but cannot be a token (`Basic Og==`, an empty or non-ASCII `PRIVATE-TOKEN`) is an
/// error, not anonymous. The same secret sent in several places (a `PRIVATE-TOKEN` header
/// beside the Basic auth curl takes from `.netrc`) is one credential; different secrets
/// are [`CredentialError::Ambiguous`].
pub fn extract(
    header: impl Fn(&str) -> Vec<Vec<u8>>,
    query: &str,
    basic_allowed: bool,
) -> Result<Option<Credential>, CredentialError> {
    // In order of preference when one secret comes in several places: the headers that name
    // the token kind first.
    let mut found: Vec<Credential> = Vec::new();
    type Make = fn(String) -> Credential;
    let typed: [(&str, &'static str, Make); 3] = [
        (
            "private-token",
            "PRIVATE-TOKEN header",
            Credential::PrivateToken,
        ),
        ("job-token", "JOB-TOKEN header", Credential::JobToken),
        (
            "deploy-token",
            "DEPLOY-TOKEN header",
            Credential::DeployToken,
        ),
    ];
    for (name, what, make) in typed {
        for raw in header(name) {
            found.push(make(token_from_bytes(&raw, what)?));
        }
    }
    for (k, v) in form_pairs(query) {
        match k.as_str() {
            "private_token" => found.push(Credential::PrivateToken(usable(
                v,
                "private_token parameter",
            )?)),
            "job_token" => found.push(Credential::JobToken(usable(v, "job_token parameter")?)),
            _ => {}
        }
    }
    for raw in header("authorization") {
        let text =
            std::str::from_utf8(&raw).map_err(|_| CredentialError::MalformedAuthorization)?;
        found.push(parse_authorization(text, basic_allowed)?);
    }
    let Some(first) = found.first() else {
        return Ok(None);
    };
    if found
        .iter()
        .skip(1)
        .any(|c| !secrets_equal(c.secret(), first.secret()))
    {
        return Err(CredentialError::Ambiguous);
    }
    Ok(found.into_iter().next())
}

/// Constant-time equality of two presented secrets (their lengths may show).
fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Whether `s` can be a token: non-empty printable ASCII, no spaces.
fn is_token_text(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

fn usable(s: String, what: &'static str) -> Result<String, CredentialError> {
    if is_token_text(&s) {
        Ok(s)
    } else {
        Err(CredentialError::Unusable(what))
    }
}

fn token_from_bytes(raw: &[u8], what: &'static str) -> Result<String, CredentialError> {
    let text = std::str::from_utf8(raw).map_err(|_| CredentialError::Unusable(what))?;
    usable(text.trim().to_owned(), what)
}

fn parse_authorization(value: &str, basic_allowed: bool) -> Result<Credential, CredentialError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if !is_token_text(rest) {
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
        // `Basic Og==` (":"), or a password that cannot be a token: a bad credential.
        if !is_token_text(pass) {
            return Err(CredentialError::MalformedAuthorization);
        }
        return Ok(Credential::Basic {
            username: user.to_owned(),
            password: pass.to_owned(),
        });
    }
    // Cargo sends its token verbatim, without a scheme: on package routes a lone word is
    // the token. Anything else is malformed.
    if basic_allowed && rest.is_empty() && is_token_text(scheme) {
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
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `query` (a raw query string) without the parameters named in `drop` and without any
/// parameter that carries a credential ([`CREDENTIAL_PARAMS`], matched on the decoded,
/// lower-cased name): the query to write into a URL sent back to the client.
pub fn query_without(query: &str, drop: &[&str]) -> String {
    query
        .split('&')
        .filter(|pair| {
            if pair.is_empty() {
                return false;
            }
            let key = form_decode(pair.split('=').next().unwrap_or_default());
            let lower = key.to_ascii_lowercase();
            !drop.contains(&key.as_str()) && !CREDENTIAL_PARAMS.contains(&lower.as_str())
        })
        .collect::<Vec<_>>()
        .join("&")
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

/// The memory one argon2 call with our parameters works in (19 MiB), allocated once and
/// reused by one thread: allocating and freeing 19 MiB per call fragments the allocator's
/// heap, and forty sign-ins then left hundreds of MiB resident.
pub struct Argon2Memory(Vec<argon2::Block>);

impl Argon2Memory {
    pub fn new() -> Self {
        Argon2Memory(vec![
            argon2::Block::new();
            argon2::Params::default().block_count()
        ])
    }
}

impl Default for Argon2Memory {
    fn default() -> Self {
        Self::new()
    }
}

/// [`hash_password`], working in `memory`.
pub fn hash_password_in(
    password: &str,
    memory: &mut Argon2Memory,
) -> Result<String, argon2::password_hash::Error> {
    use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            raw_salt,
            &mut out,
            &mut memory.0[..params.block_count()],
        )
        .map_err(|_| argon2::password_hash::Error::Password)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// [`verify_password`], working in `memory` when the hash's parameters fit in it.
pub fn verify_password_in(password: &str, phc: &str, memory: &mut Argon2Memory) -> bool {
    use argon2::password_hash::PasswordHash;
    use argon2::{Algorithm, Argon2, Params, Version};
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(hash.algorithm),
        Params::try_from(&hash),
        hash.salt,
        hash.hash,
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let done = if blocks <= memory.0.len() {
        argon.hash_password_into_with_memory(
            password.as_bytes(),
            raw_salt,
            &mut out,
            &mut memory.0[..blocks],
        )
    } else {
        // A hash made with more memory than ours (imported): a one-off allocation.
        argon.hash_password_into(password.as_bytes(), raw_salt, &mut out)
    };
    done.is_ok() && bool::from(expected.as_bytes().ct_eq(&out))
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

    fn hdrs<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Vec<Vec<u8>> + 'a {
        move |name| raw_hdrs(pairs.iter().map(|(k, v)| (*k, v.as_bytes())))(name)
    }

    fn raw_hdrs<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> impl Fn(&str) -> Vec<Vec<u8>> {
        let pairs: Vec<(String, Vec<u8>)> =
            pairs.map(|(k, v)| (k.to_owned(), v.to_vec())).collect();
        move |name| {
            pairs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect()
        }
    }

    fn basic(userpass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(userpass)
        )
    }

    #[test]
    fn a_present_but_unusable_credential_is_an_error_not_anonymous() {
        // `Basic Og==` is ":": no token at all.
        assert_eq!(
            extract(hdrs(&[("Authorization", "Basic Og==")]), "", true),
            Err(CredentialError::MalformedAuthorization)
        );
        assert_eq!(
            extract(hdrs(&[("Authorization", &basic("user:"))]), "", true),
            Err(CredentialError::MalformedAuthorization)
        );
        for name in [
            "PRIVATE-TOKEN",
            "JOB-TOKEN",
            "DEPLOY-TOKEN",
            "Authorization",
        ] {
            let value: &[u8] = b"glpat-\xc3\xa9t\xe9";
            let got = extract(raw_hdrs([(name, value)].into_iter()), "", true);
            assert!(got.is_err(), "non-ASCII {name}: {got:?}");
            let got = extract(hdrs(&[(name, "")]), "", true);
            assert!(got.is_err(), "empty {name}: {got:?}");
        }
        assert_eq!(
            extract(hdrs(&[("PRIVATE-TOKEN", "glpat-\u{e9}")]), "", false),
            Err(CredentialError::Unusable("PRIVATE-TOKEN header"))
        );
        assert_eq!(
            extract(hdrs(&[("Authorization", "Bearer a b")]), "", false),
            Err(CredentialError::MalformedAuthorization)
        );
        for q in [
            "private_token=",
            "job_token=",
            "private_token=%C3%A9",
            "job_token=%FF",
        ] {
            assert!(extract(hdrs(&[]), q, false).is_err(), "{q}");
        }
    }

    #[test]
    fn the_same_secret_in_several_places_is_one_credential() {
        let tok = "glpat-samesecret";
        for other in [
            ("Authorization", basic(&format!("me:{tok}"))),
            ("Authorization", format!("Bearer {tok}")),
            ("PRIVATE-TOKEN", tok.to_owned()),
        ] {
            let got = extract(
                hdrs(&[("PRIVATE-TOKEN", tok), (other.0, &other.1)]),
                "",
                true,
            );
            assert_eq!(got, Ok(Some(Credential::PrivateToken(tok.into()))));
        }
        assert_eq!(
            extract(
                hdrs(&[("PRIVATE-TOKEN", tok)]),
                &format!("private_token={tok}"),
                false
            ),
            Ok(Some(Credential::PrivateToken(tok.into())))
        );
        // Different secrets stay ambiguous, wherever they come from.
        assert_eq!(
            extract(
                hdrs(&[
                    ("PRIVATE-TOKEN", tok),
                    ("Authorization", &basic("me:glpat-other"))
                ]),
                "",
                true
            ),
            Err(CredentialError::Ambiguous)
        );
        assert_eq!(
            extract(
                hdrs(&[("PRIVATE-TOKEN", tok), ("PRIVATE-TOKEN", "glpat-other")]),
                "",
                false
            ),
            Err(CredentialError::Ambiguous)
        );
    }

    #[test]
    fn credential_params_are_left_out_of_echoed_queries() {
        assert_eq!(
            query_without(
                "a=1&private_token=x&page=2&JOB_TOKEN=y&private%5Ftoken=z&access_token=w&b=2",
                &["page"]
            ),
            "a=1&b=2"
        );
        assert_eq!(
            query_without("deploy_token=q&&per_page=3", &[]),
            "per_page=3"
        );
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
        // The reusable-memory variants agree with the crate's own, both ways.
        let mut memory = Argon2Memory::new();
        assert!(verify_password_in("s3cret", &h, &mut memory));
        assert!(!verify_password_in("wrong", &h, &mut memory));
        let mine = hash_password_in("s3cret", &mut memory).unwrap();
        assert!(
            mine.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{mine}"
        );
        assert!(verify_password("s3cret", &mine));
        assert!(!verify_password("wrong", &mine));
        assert!(verify_password_in("s3cret", &mine, &mut memory));
        assert!(!verify_password_in(
            "s3cret",
            "not a phc string",
            &mut memory
        ));
    }
}
