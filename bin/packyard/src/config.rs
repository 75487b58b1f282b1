//! Configuration: `packyard.toml` < `PACKYARD_*` environment < command-line flags.
//!
//! One typed tree with `deny_unknown_fields`; every key has an environment name (see
//! `ENV_KEYS` and docs/configuration.md). Validated at start with errors that name the key.
//! Each installed format owns its `[<id>]` section and its `PACKYARD_<ID>_<KEY>` names
//! (`packyard_core::FormatFactory`, listed in `crate::formats`): they are read and checked
//! here by the format's declarations, with no per-format code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use packyard_core::format_config::ConfigValue;
use packyard_core::{FormatFactory, FormatSettings};

use anyhow::{bail, Context};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// Folder for the SQLite catalog and the filesystem blob store.
    pub data_dir: PathBuf,
    /// Base of absolute URLs written into responses; default `http://<listen>`, or
    /// `https://<listen>` when TLS is on.
    pub external_url: Option<String>,
    /// `sqlite://PATH` or `postgres://...`; default `sqlite://<data_dir>/packyard.sqlite3`.
    pub database_url: Option<String>,
    pub database_pool_size: u32,
    /// HTTP worker threads; default: the number of CPUs.
    pub workers: Option<usize>,
    /// `text` or `json`.
    pub log_format: String,
    /// When set and the catalog has no users, creates the admin `root` with this token.
    pub initial_root_token: Option<String>,
    pub job_token_ttl_secs: u64,
    pub gc_grace_period_secs: u64,
    /// How often `serve` runs the package cleanup policies that are due, and how long a
    /// policy waits between runs; 0 turns the schedule off (`packyard cleanup` still works).
    pub cleanup_interval_secs: u64,
    pub storage: StorageConfig,
    pub web: WebSection,
    pub tls: TlsSection,
    /// Each installed format's section, checked against its declarations; a format whose
    /// section is absent has its defaults.
    #[serde(skip)]
    pub formats: BTreeMap<&'static str, FormatSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `filesystem` or `s3`.
    pub backend: String,
    /// Filesystem store folder; default `<data_dir>/blobs`.
    pub path: Option<PathBuf>,
    pub s3: S3Section,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Section {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Falls back to `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// Falls back to `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    pub path_style: bool,
    /// Key prefix inside the bucket, e.g. `packyard/`.
    pub prefix: String,
    /// Answer downloads with a redirect to a presigned URL.
    pub presigned_downloads: bool,
    pub presign_ttl_secs: u64,
    /// Parallel multipart parts per upload (bounds memory: 8 MiB each).
    pub max_concurrent_parts: usize,
}

/// HTTPS served by `packyard serve` itself (`[tls]`): both files or neither.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// PEM: the server's certificate first, then its chain.
    pub cert_file: Option<PathBuf>,
    /// PEM: the certificate's private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: Option<PathBuf>,
    /// A second, plain-HTTP address that redirects every request to `external_url`.
    pub redirect_listen: Option<String>,
}

/// The web UI (`[web]`): sessions and sign-in throttling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// How long a sign-in lasts, in seconds.
    pub session_ttl_secs: u64,
    /// Failed sign-ins of one username within `login_window_secs` that lock it.
    pub login_max_failures: i64,
    pub login_window_secs: u64,
    /// How long a locked username is refused, in seconds.
    pub login_lockout_secs: u64,
}

impl Default for WebSection {
    fn default() -> Self {
        let d = packyard_web::WebConfig::default();
        WebSection {
            session_ttl_secs: d.session_ttl_secs,
            login_max_failures: d.login_max_failures,
            login_window_secs: d.login_window_secs,
            login_lockout_secs: d.login_lockout_secs,
        }
    }
}

impl WebSection {
    pub fn web_config(&self) -> packyard_web::WebConfig {
        packyard_web::WebConfig {
            session_ttl_secs: self.session_ttl_secs.max(60),
            login_max_failures: self.login_max_failures.max(1),
            login_window_secs: self.login_window_secs,
            login_lockout_secs: self.login_lockout_secs,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            external_url: None,
            database_url: None,
            database_pool_size: 16,
            workers: None,
            log_format: "text".into(),
            initial_root_token: None,
            job_token_ttl_secs: 3600,
            gc_grace_period_secs: 86_400,
            // GitLab runs cleanup policies every 12 hours.
            cleanup_interval_secs: 43_200,
            storage: StorageConfig::default(),
            web: WebSection::default(),
            tls: TlsSection::default(),
            formats: BTreeMap::new(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: "filesystem".into(),
            path: None,
            s3: S3Section::default(),
        }
    }
}

impl Default for S3Section {
    fn default() -> Self {
        S3Section {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            access_key_id: None,
            secret_access_key: None,
            path_style: true,
            prefix: String::new(),
            presigned_downloads: false,
            presign_ttl_secs: 300,
            max_concurrent_parts: 2,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
}

/// Every environment variable and the key it sets.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("PACKYARD_LISTEN", "listen"),
    ("PACKYARD_DATA_DIR", "data_dir"),
    ("PACKYARD_EXTERNAL_URL", "external_url"),
    ("PACKYARD_DATABASE_URL", "database_url"),
    ("PACKYARD_DATABASE_POOL_SIZE", "database_pool_size"),
    ("PACKYARD_WORKERS", "workers"),
    ("PACKYARD_LOG_FORMAT", "log_format"),
    ("PACKYARD_INITIAL_ROOT_TOKEN", "initial_root_token"),
    ("PACKYARD_JOB_TOKEN_TTL_SECS", "job_token_ttl_secs"),
    ("PACKYARD_GC_GRACE_PERIOD_SECS", "gc_grace_period_secs"),
    ("PACKYARD_CLEANUP_INTERVAL_SECS", "cleanup_interval_secs"),
    ("PACKYARD_STORAGE_BACKEND", "storage.backend"),
    ("PACKYARD_STORAGE_PATH", "storage.path"),
    ("PACKYARD_S3_ENDPOINT", "storage.s3.endpoint"),
    ("PACKYARD_S3_REGION", "storage.s3.region"),
    ("PACKYARD_S3_BUCKET", "storage.s3.bucket"),
    ("PACKYARD_S3_ACCESS_KEY_ID", "storage.s3.access_key_id"),
    (
        "PACKYARD_S3_SECRET_ACCESS_KEY",
        "storage.s3.secret_access_key",
    ),
    ("PACKYARD_S3_PATH_STYLE", "storage.s3.path_style"),
    ("PACKYARD_S3_PREFIX", "storage.s3.prefix"),
    (
        "PACKYARD_S3_PRESIGNED_DOWNLOADS",
        "storage.s3.presigned_downloads",
    ),
    (
        "PACKYARD_S3_PRESIGN_TTL_SECS",
        "storage.s3.presign_ttl_secs",
    ),
    (
        "PACKYARD_S3_MAX_CONCURRENT_PARTS",
        "storage.s3.max_concurrent_parts",
    ),
    ("PACKYARD_WEB_SESSION_TTL_SECS", "web.session_ttl_secs"),
    ("PACKYARD_WEB_LOGIN_MAX_FAILURES", "web.login_max_failures"),
    ("PACKYARD_WEB_LOGIN_WINDOW_SECS", "web.login_window_secs"),
    ("PACKYARD_WEB_LOGIN_LOCKOUT_SECS", "web.login_lockout_secs"),
    ("PACKYARD_TLS_CERT_FILE", "tls.cert_file"),
    ("PACKYARD_TLS_KEY_FILE", "tls.key_file"),
    ("PACKYARD_TLS_REDIRECT_LISTEN", "tls.redirect_listen"),
];

fn kind_of(key: &str) -> Kind {
    match key {
        "database_pool_size"
        | "workers"
        | "job_token_ttl_secs"
        | "gc_grace_period_secs"
        | "cleanup_interval_secs"
        | "storage.s3.presign_ttl_secs"
        | "storage.s3.max_concurrent_parts"
        | "web.session_ttl_secs"
        | "web.login_max_failures"
        | "web.login_window_secs"
        | "web.login_lockout_secs" => Kind::Int,
        "storage.s3.path_style" | "storage.s3.presigned_downloads" => Kind::Bool,
        _ => Kind::Str,
    }
}

fn set(table: &mut toml::Table, key: &str, raw: &str, origin: &str) -> anyhow::Result<()> {
    let value =
        match kind_of(key) {
            Kind::Str => toml::Value::String(raw.to_owned()),
            Kind::Int => toml::Value::Integer(raw.trim().parse::<i64>().with_context(|| {
                format!("{origin}: `{key}` must be a whole number, got {raw:?}")
            })?),
            Kind::Bool => match raw.trim() {
                "true" | "1" | "yes" => toml::Value::Boolean(true),
                "false" | "0" | "no" => toml::Value::Boolean(false),
                _ => bail!("{origin}: `{key}` must be true or false, got {raw:?}"),
            },
        };
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut cur = table;
    for p in parts {
        cur = cur
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .with_context(|| format!("{origin}: `{p}` must be a table"))?;
    }
    cur.insert(last.to_owned(), value);
    Ok(())
}

/// Loads the file (if any), then the environment, then `flags` (key, value) on top, with the
/// sections of the formats compiled in.
pub fn load(
    file: Option<&std::path::Path>,
    env: impl Fn(&str) -> Option<String>,
    flags: &[(&str, String)],
) -> anyhow::Result<Config> {
    load_with(&crate::formats::factories(), file, env, flags)
}

/// [`load`] with these formats installed.
pub fn load_with(
    factories: &[FormatFactory],
    file: Option<&std::path::Path>,
    env: impl Fn(&str) -> Option<String>,
    flags: &[(&str, String)],
) -> anyhow::Result<Config> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("parsing config file {}", path.display()))?
        }
        None => toml::Table::new(),
    };
    for (name, key) in ENV_KEYS {
        if let Some(v) = env(name).filter(|v| !v.is_empty()) {
            set(&mut table, key, &v, name)?;
        }
    }
    for (key, v) in flags {
        set(&mut table, key, v, &format!("flag for {key}"))?;
    }
    // The formats' sections come out before the rest is read, which refuses what is left
    // unknown (a misspelt key, the section of a format not compiled in).
    let mut formats = BTreeMap::new();
    for factory in factories {
        let section = table.remove(factory.id);
        formats.insert(factory.id, format_section(factory, section, &env)?);
    }
    let mut config: Config = toml::Value::Table(table)
        .try_into()
        .context("invalid configuration")?;
    config.formats = formats;
    if config.storage.s3.access_key_id.is_none() {
        config.storage.s3.access_key_id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
    }
    if config.storage.s3.secret_access_key.is_none() {
        config.storage.s3.secret_access_key =
            env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
    }
    config.validate()?;
    Ok(config)
}

/// One format's settings: its declarations' defaults, then the file's `[<id>]` section, then
/// its `PACKYARD_<ID>_<KEY>` variables, then the format's own checks.
fn format_section(
    factory: &FormatFactory,
    section: Option<toml::Value>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<FormatSettings> {
    let id = factory.id;
    let mut settings = factory.defaults();
    match section {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (key, value) in t {
                let value = match value {
                    toml::Value::Integer(n) => match u64::try_from(n) {
                        Ok(n) => ConfigValue::UInt(n),
                        Err(_) => bail!("`{id}.{key}` must be a whole number, 0 or more, got {n}"),
                    },
                    toml::Value::Boolean(b) => ConfigValue::Bool(b),
                    toml::Value::String(s) => ConfigValue::Str(s.into()),
                    other => bail!("`{id}.{key}` has an unsupported value: {other}"),
                };
                settings
                    .set(factory, &key, value)
                    .map_err(|e| anyhow::anyhow!("in the config file: {e}"))?;
            }
        }
        Some(_) => bail!("`{id}` must be a table ([{id}])"),
    }
    for key in &factory.keys {
        let name = factory.env_name(key.name);
        if let Some(raw) = env(&name).filter(|v| !v.is_empty()) {
            settings
                .set_text(factory, key.name, &raw)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
    }
    (factory.validate)(&settings).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    Ok(settings)
}

impl Config {
    /// The settings of one installed format (its defaults when the config was not loaded).
    pub fn format_settings(&self, factory: &FormatFactory) -> FormatSettings {
        self.formats
            .get(factory.id)
            .cloned()
            .unwrap_or_else(|| factory.defaults())
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("`listen` must be address:port, got {:?}", self.listen))?;
        if let Some(u) = &self.external_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("`external_url` must start with http:// or https://, got {u:?}");
            }
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "`log_format` must be text or json, got {:?}",
                self.log_format
            );
        }
        match self.storage.backend.as_str() {
            "filesystem" => {}
            "s3" => {
                for (k, v) in [
                    ("storage.s3.endpoint", &self.storage.s3.endpoint),
                    ("storage.s3.bucket", &self.storage.s3.bucket),
                ] {
                    if v.is_empty() {
                        bail!("`{k}` is required when `storage.backend` is s3");
                    }
                }
                if self.storage.s3.access_key_id.is_none()
                    || self.storage.s3.secret_access_key.is_none()
                {
                    bail!("`storage.s3.access_key_id` and `storage.s3.secret_access_key` (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) are required when `storage.backend` is s3");
                }
            }
            other => bail!("`storage.backend` must be filesystem or s3, got {other:?}"),
        }
        if self.database_pool_size == 0 {
            bail!("`database_pool_size` must be at least 1");
        }
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), Some(_)) | (None, None) => {}
            (Some(_), None) => bail!("`tls.cert_file` is set but `tls.key_file` is not: TLS needs both (PACKYARD_TLS_CERT_FILE and PACKYARD_TLS_KEY_FILE)"),
            (None, Some(_)) => bail!("`tls.key_file` is set but `tls.cert_file` is not: TLS needs both (PACKYARD_TLS_CERT_FILE and PACKYARD_TLS_KEY_FILE)"),
        }
        if let Some(addr) = &self.tls.redirect_listen {
            if self.tls_files().is_none() {
                bail!("`tls.redirect_listen` redirects to https, which needs `tls.cert_file` and `tls.key_file`");
            }
            let redirect: std::net::SocketAddr = addr.parse().with_context(|| {
                format!("`tls.redirect_listen` must be address:port, got {addr:?}")
            })?;
            if Ok(redirect) == self.listen.parse::<std::net::SocketAddr>() {
                bail!("`tls.redirect_listen` ({addr}) must differ from `listen`");
            }
            if !self.external_url().starts_with("https://") {
                bail!(
                    "`tls.redirect_listen` redirects to `external_url`, which must then be https://, got {:?}",
                    self.external_url()
                );
            }
        }
        Ok(())
    }

    /// The certificate and key to serve, when TLS is on.
    pub fn tls_files(&self) -> Option<crate::tls::TlsFiles> {
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(cert_file), Some(key_file)) => Some(crate::tls::TlsFiles {
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
            }),
            _ => None,
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("packyard.sqlite3").display()
            )
        })
    }

    pub fn external_url(&self) -> String {
        self.external_url
            .clone()
            .unwrap_or_else(|| {
                let scheme = if self.tls_files().is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{}", self.listen)
            })
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn blob_path(&self) -> PathBuf {
        self.storage
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_run_on_data_folder_and_local_port() {
        let c = load(None, env(&[]), &[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./data/packyard.sqlite3");
        assert_eq!(c.external_url(), "http://127.0.0.1:8080");
        assert_eq!(c.storage.backend, "filesystem");
    }

    #[test]
    fn web_settings_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(
            &f,
            "[web]\nsession_ttl_secs = 3600\nlogin_lockout_secs = 30\n",
        )
        .unwrap();
        let c = load(
            Some(&f),
            env(&[("PACKYARD_WEB_LOGIN_MAX_FAILURES", "3")]),
            &[],
        )
        .unwrap();
        let web = c.web.web_config();
        assert_eq!(web.session_ttl_secs, 3600);
        assert_eq!(web.login_lockout_secs, 30);
        assert_eq!(web.login_max_failures, 3);
        assert_eq!(web.login_window_secs, 600, "default");
        let bad = load(None, env(&[("PACKYARD_WEB_SESSION_TTL_SECS", "soon")]), &[]);
        assert!(format!("{:#}", bad.unwrap_err()).contains("web.session_ttl_secs"));
    }

    #[test]
    fn tls_needs_both_files_and_makes_the_default_url_https() {
        let c = load(
            None,
            env(&[
                ("PACKYARD_TLS_CERT_FILE", "/etc/packyard/cert.pem"),
                ("PACKYARD_TLS_KEY_FILE", "/etc/packyard/key.pem"),
                ("PACKYARD_LISTEN", "0.0.0.0:8443"),
                ("PACKYARD_TLS_REDIRECT_LISTEN", "0.0.0.0:8080"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(c.external_url(), "https://0.0.0.0:8443");
        let files = c.tls_files().unwrap();
        assert_eq!(files.cert_file, PathBuf::from("/etc/packyard/cert.pem"));
        assert_eq!(c.tls.redirect_listen.as_deref(), Some("0.0.0.0:8080"));

        let e = format!(
            "{:#}",
            load(None, env(&[("PACKYARD_TLS_CERT_FILE", "c.pem")]), &[]).unwrap_err()
        );
        assert!(e.contains("`tls.key_file`"), "{e}");
        let e = format!(
            "{:#}",
            load(None, env(&[("PACKYARD_TLS_KEY_FILE", "k.pem")]), &[]).unwrap_err()
        );
        assert!(e.contains("`tls.cert_file`"), "{e}");
        let e = format!(
            "{:#}",
            load(
                None,
                env(&[("PACKYARD_TLS_REDIRECT_LISTEN", "127.0.0.1:80")]),
                &[]
            )
            .unwrap_err()
        );
        assert!(e.contains("tls.redirect_listen"), "{e}");
        let tls = [
            ("PACKYARD_TLS_CERT_FILE", "c.pem"),
            ("PACKYARD_TLS_KEY_FILE", "k.pem"),
            ("PACKYARD_TLS_REDIRECT_LISTEN", "127.0.0.1:80"),
            ("PACKYARD_EXTERNAL_URL", "http://reg.example"),
        ];
        let e = format!("{:#}", load(None, env(&tls), &[]).unwrap_err());
        assert!(e.contains("must then be https://"), "{e}");
        let c = load(None, env(&tls[..2]), &[]).unwrap();
        assert!(c.tls.redirect_listen.is_none());
        assert_eq!(c.external_url(), "https://127.0.0.1:8080");
    }

    #[test]
    fn file_then_env_then_flags_win_in_that_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:1\"\nexternal_url = \"http://file\"\n[generic]\nmax_file_size = 10\n").unwrap();
        let c = load(
            Some(&f),
            env(&[
                ("PACKYARD_LISTEN", "127.0.0.1:2"),
                ("PACKYARD_GENERIC_MAX_FILE_SIZE", "20"),
            ]),
            &[("listen", "127.0.0.1:3".into())],
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:3");
        assert_eq!(c.external_url(), "http://file");
        assert_eq!(c.formats["generic"].uint("max_file_size"), 20);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("lisen"), "{e}");
        let e = format!(
            "{:#}",
            load(None, env(&[("PACKYARD_DATABASE_POOL_SIZE", "many")]), &[]).unwrap_err()
        );
        assert!(e.contains("database_pool_size"), "{e}");
        let e = format!(
            "{:#}",
            load(None, env(&[("PACKYARD_STORAGE_BACKEND", "s3")]), &[]).unwrap_err()
        );
        assert!(e.contains("storage.s3.endpoint"), "{e}");
    }

    #[test]
    fn format_sections_come_from_the_formats_declarations() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(
            &f,
            "[npm]\nmax_file_size = 1000\n[cargo]\nmax_file_size = 7\n",
        )
        .unwrap();
        let c = load(
            Some(&f),
            env(&[
                ("PACKYARD_CARGO_MAX_FILE_SIZE", "9"),
                ("PACKYARD_PYPI_MAX_FILE_SIZE", "5"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(c.formats["npm"].uint("max_file_size"), 1000);
        assert_eq!(c.formats["cargo"].uint("max_file_size"), 9, "env over file");
        assert_eq!(c.formats["pypi"].uint("max_file_size"), 5);
        assert_eq!(
            c.formats["generic"].uint("max_file_size"),
            5 * 1024 * 1024 * 1024,
            "default"
        );
        // Every format compiled in is built from its section.
        assert_eq!(
            crate::formats::enabled(&c).len(),
            crate::formats::factories().len()
        );
    }

    #[test]
    fn bad_format_settings_name_the_key_and_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        let e = format!(
            "{:#}",
            load(None, env(&[("PACKYARD_NPM_MAX_FILE_SIZE", "big")]), &[]).unwrap_err()
        );
        assert!(e.contains("PACKYARD_NPM_MAX_FILE_SIZE"), "{e}");
        assert!(
            e.contains("`npm.max_file_size` must be a whole number"),
            "{e}"
        );
        std::fs::write(&f, "[pypi]\nmax_file_size = -1\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("`pypi.max_file_size`"), "{e}");
        std::fs::write(&f, "[pypi]\nmax_file_size = \"1G\"\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(
            e.contains("`pypi.max_file_size` must be a whole number"),
            "{e}"
        );
        std::fs::write(&f, "[generic]\nmax_filesize = 1\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("unknown key `generic.max_filesize`"), "{e}");
        // A section of no installed format (an id no format has).
        std::fs::write(&f, "[no-such-format]\nmax_file_size = 1\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("no-such-format"), "{e}");
        std::fs::write(&f, "npm = 3\n").unwrap();
        let e = format!("{:#}", load(Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("`npm` must be a table"), "{e}");
    }

    #[test]
    fn a_format_without_its_section_installed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "[npm]\nmax_file_size = 1\n").unwrap();
        let e = format!("{:#}", load_with(&[], Some(&f), env(&[]), &[]).unwrap_err());
        assert!(e.contains("npm"), "{e}");
        // Without the format its variables are not read at all.
        load_with(&[], None, env(&[("PACKYARD_NPM_MAX_FILE_SIZE", "x")]), &[]).unwrap();
    }

    /// docs/configuration.md lists every installed format's keys as the formats declare
    /// them (`FormatFactory::doc_rows`): change the declaration, change the docs.
    #[test]
    fn configuration_docs_list_each_formats_keys_as_declared() {
        let docs = include_str!("../../../docs/configuration.md");
        for factory in crate::formats::factories() {
            for row in factory.doc_rows() {
                assert!(
                    docs.lines().any(|l| l == row),
                    "docs/configuration.md lacks the row\n{row}"
                );
            }
        }
    }
}
