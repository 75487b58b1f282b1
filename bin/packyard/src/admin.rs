//! `packyard admin ...`: set-up commands for automated installs. Each prints a
//! machine-readable result on stdout (JSON, or only the secret for token commands).

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use packyard_core::model::*;
use packyard_core::Registry;
use serde_json::json;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Write the Go module zip of DIR for MODULE@VERSION as the go command makes it (leaving
    /// out VCS directories, nested modules, vendored packages and symbolic links), check it
    /// as an upload is checked, and print its go.sum lines as JSON.
    #[cfg(feature = "go")]
    GoModuleZip {
        #[arg(long)]
        module: String,
        #[arg(long)]
        version: String,
        /// The module's root directory (holding its go.mod).
        dir: std::path::PathBuf,
        /// Where to write the zip (default: VERSION.zip).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Create a user; prints its JSON.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin: bool,
        /// Read a password for web sign-in from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a personal access token; prints only the token.
    CreateToken {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: api, read_api, read_user, ...
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Create a group (parents must exist); prints its JSON.
    CreateGroup {
        #[arg(long)]
        path: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "private")]
        visibility: String,
    },
    /// Create a project in a group or a user's namespace; prints its JSON.
    CreateProject {
        #[arg(long)]
        path: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "private")]
        visibility: String,
        /// disabled, private, enabled or public ("allow anyone to pull").
        #[arg(long, default_value = "enabled")]
        registry_access: String,
    },
    /// Add a user to a group or project.
    AddMember {
        #[arg(long)]
        path: String,
        #[arg(long)]
        user: String,
        /// 10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner.
        #[arg(long)]
        access_level: i16,
        /// YYYY-MM-DD
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Create a project or group deploy token; prints only the token.
    CreateDeployToken {
        #[arg(long)]
        path: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        #[arg(long)]
        username: Option<String>,
    },
    /// Change a group's duplicate setting of one format (an installed format that has it).
    SetPackageSettings {
        #[arg(long)]
        group: String,
        /// The format's id.
        #[arg(long, default_value = "generic")]
        format: String,
        /// `<format>_duplicates_allowed` (`--generic-duplicates-allowed` still works).
        #[arg(long, alias = "generic-duplicates-allowed")]
        duplicates_allowed: Option<bool>,
        /// `<format>_duplicate_exception_regex`; `''` clears it.
        #[arg(long, alias = "generic-duplicate-exception-regex")]
        duplicate_exception_regex: Option<String>,
    },
    /// Change instance settings.
    SetInstanceSettings {
        #[arg(long)]
        package_registry_allow_anyone_to_pull_option: Option<bool>,
    },
    /// Let CI job tokens of project `source` act on project `project`.
    AllowJobToken {
        #[arg(long)]
        project: String,
        #[arg(long)]
        source: String,
    },
    /// Block a user: signs out all its browsers and refuses its password and tokens until
    /// it is unblocked (memberships and projects stay). Prints its JSON.
    BlockUser {
        #[arg(long)]
        user: String,
    },
    /// Unblock a user: its password and tokens work again. Prints its JSON.
    UnblockUser {
        #[arg(long)]
        user: String,
    },
    /// Write a self-signed certificate and its key for `tls.cert_file` / `tls.key_file`
    /// (tests and small installs; see docs/tls.md for a real one). Needs no database.
    /// Prints what was written as JSON, and how to use it on stderr.
    SelfSignedCert {
        /// A DNS name clients connect to (repeatable).
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// An IP address clients connect to (repeatable).
        #[arg(long = "ip")]
        ips: Vec<std::net::IpAddr>,
        #[arg(long, default_value = "./packyard-cert.pem")]
        cert_out: std::path::PathBuf,
        /// Written with mode 0600.
        #[arg(long, default_value = "./packyard-key.pem")]
        key_out: std::path::PathBuf,
        /// How long the certificate is valid.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
}

impl AdminCommand {
    /// Whether the command works without opening the catalog.
    pub fn needs_registry(&self) -> bool {
        !matches!(self, AdminCommand::SelfSignedCert { .. })
    }
}

/// `packyard admin self-signed-cert`.
pub fn self_signed_cert(cmd: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::SelfSignedCert {
        hosts,
        ips,
        cert_out,
        key_out,
        days,
        force,
    } = cmd
    else {
        bail!("not self-signed-cert");
    };
    for path in [&cert_out, &key_out] {
        if !force && path.exists() {
            bail!("{} exists: pass --force to replace it", path.display());
        }
    }
    let made = crate::tls::self_signed(&hosts, &ips, days)?;
    write_file(&key_out, made.key_pem.as_bytes(), 0o600)?;
    write_file(&cert_out, made.cert_pem.as_bytes(), 0o644)?;
    println!(
        "{}",
        json!({
            "cert_file": cert_out.display().to_string(),
            "key_file": key_out.display().to_string(),
            "hosts": hosts,
            "ips": ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>(),
            "not_after": made.not_after,
            "sha256_fingerprint": made.fingerprint,
        })
    );
    eprintln!(
        "Serve it with\n  PACKYARD_TLS_CERT_FILE={cert} PACKYARD_TLS_KEY_FILE={key} packyard serve\n\
         and have clients trust the certificate, e.g. SSL_CERT_FILE={cert}, curl --cacert {cert},\n\
         or copy it to /usr/local/share/ca-certificates/packyard.crt and run update-ca-certificates.",
        cert = cert_out.display(),
        key = key_out.display(),
    );
    Ok(())
}

/// Writes `bytes` to `path` with `mode` (also when the file existed with another mode).
fn write_file(path: &std::path::Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn api(e: packyard_core::ApiError) -> anyhow::Error {
    anyhow!("{e}")
}

async fn user(registry: &Registry, username: &str) -> anyhow::Result<User> {
    registry
        .catalog()
        .user_by_username(username)
        .await?
        .ok_or_else(|| anyhow!("no user named {username:?}"))
}

async fn project(registry: &Registry, path: &str) -> anyhow::Result<Project> {
    registry
        .catalog()
        .project_by_full_path(path)
        .await?
        .ok_or_else(|| anyhow!("no project at {path:?}"))
}

async fn group(registry: &Registry, path: &str) -> anyhow::Result<Group> {
    registry
        .catalog()
        .group_by_full_path(path)
        .await?
        .ok_or_else(|| anyhow!("no group at {path:?}"))
}

fn visibility(v: &str) -> anyhow::Result<Visibility> {
    Visibility::parse(v)
        .ok_or_else(|| anyhow!("--visibility must be private, internal or public, got {v:?}"))
}

pub async fn run(registry: &Registry, cmd: AdminCommand) -> anyhow::Result<()> {
    let catalog = registry.catalog();
    match cmd {
        #[cfg(feature = "go")]
        AdminCommand::GoModuleZip {
            module,
            version,
            dir,
            out,
        } => {
            let out = out.unwrap_or_else(|| format!("{version}.zip").into());
            let made = go::module_zip(&dir, &module, &version, &out, |files, file| {
                let mut zip = zip::ZipWriter::new(file);
                let options = zip::write::SimpleFileOptions::default()
                    .last_modified_time(zip::DateTime::default());
                for (name, path) in files {
                    zip.start_file(name.as_str(), options)?;
                    std::io::copy(&mut std::fs::File::open(path)?, &mut zip)?;
                }
                zip.finish()?;
                Ok(())
            })
            .map_err(|e| anyhow!(e))?;
            let omitted: Vec<_> = made
                .omitted
                .iter()
                .map(|o| json!({ "path": o.path, "reason": o.why }))
                .collect();
            println!(
                "{}",
                json!({
                    "file": out.display().to_string(),
                    "module": module,
                    "version": version,
                    "files": made.checked.files,
                    "go_sum": [
                        format!("{module} {version} {}", made.checked.h1),
                        format!("{module} {version}/go.mod {}", made.checked.h1_mod),
                    ],
                    "omitted": omitted,
                })
            );
        }
        cmd @ AdminCommand::SelfSignedCert { .. } => self_signed_cert(cmd)?,
        AdminCommand::CreateUser {
            username,
            email,
            name,
            admin,
            password_stdin,
        } => {
            let password_hash = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                let pw = line.trim_end_matches(['\r', '\n']);
                if pw.len() < 8 {
                    bail!("the password must have at least 8 characters");
                }
                Some(
                    registry
                        .passwords()
                        .hash(pw.to_owned())
                        .await
                        .map_err(|e| anyhow!("hashing the password: {e}"))?,
                )
            } else {
                None
            };
            if username.is_empty()
                || !username
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                bail!("--username may use letters, digits, '_', '-' and '.'");
            }
            let u = catalog
                .create_user(NewUser {
                    email: email.unwrap_or_else(|| format!("{username}@localhost")),
                    name: name.unwrap_or_else(|| username.clone()),
                    username,
                    is_admin: admin,
                    password_hash,
                })
                .await?;
            println!(
                "{}",
                json!({ "id": u.id, "username": u.username, "email": u.email, "is_admin": u.is_admin })
            );
        }
        AdminCommand::CreateToken {
            user: username,
            name,
            scopes,
            expires_at,
        } => {
            let u = user(registry, &username).await?;
            let (secret, _) = registry
                .create_personal_access_token(u.id, &name, &scopes, expires_at)
                .await
                .map_err(api)?;
            println!("{secret}");
        }
        AdminCommand::CreateGroup {
            path,
            name,
            visibility: v,
        } => {
            let (parent, leaf) = match path.rsplit_once('/') {
                Some((p, l)) => (Some(group(registry, p).await?.id), l.to_owned()),
                None => (None, path.clone()),
            };
            let g = registry
                .create_group(NewGroup {
                    name: name.unwrap_or_else(|| leaf.clone()),
                    path: leaf,
                    parent_id: parent,
                    visibility: visibility(&v)?,
                    description: String::new(),
                })
                .await
                .map_err(api)?;
            println!(
                "{}",
                json!({ "id": g.id, "full_path": g.full_path, "visibility": g.visibility })
            );
        }
        AdminCommand::CreateProject {
            path,
            name,
            visibility: v,
            registry_access,
        } => {
            let (ns, leaf) = path
                .rsplit_once('/')
                .ok_or_else(|| anyhow!("--path must be namespace/project"))?;
            let namespace = match catalog.group_by_full_path(ns).await? {
                Some(g) => Namespace::Group(g.id),
                None => match catalog.user_by_username(ns).await? {
                    Some(u) if !ns.contains('/') => Namespace::User(u.id),
                    _ => bail!("no group or user namespace at {ns:?}"),
                },
            };
            let access = RegistryAccess::parse(&registry_access).ok_or_else(|| {
                anyhow!("--registry-access must be disabled, private, enabled or public")
            })?;
            let p = registry
                .create_project(NewProject {
                    name: name.unwrap_or_else(|| leaf.to_owned()),
                    path: leaf.to_owned(),
                    namespace,
                    visibility: visibility(&v)?,
                    description: String::new(),
                    registry_access: access,
                    creator_id: None,
                })
                .await
                .map_err(api)?;
            println!(
                "{}",
                json!({ "id": p.id, "full_path": p.full_path, "visibility": p.visibility })
            );
        }
        AdminCommand::AddMember {
            path,
            user: username,
            access_level,
            expires_at,
        } => {
            let u = user(registry, &username).await?;
            let level = AccessLevel::from_i16(access_level)
                .ok_or_else(|| anyhow!("--access-level must be 10, 20, 30, 40 or 50"))?;
            let source = match catalog.project_by_full_path(&path).await? {
                Some(p) => MemberSource::Project(p.id),
                None => MemberSource::Group(group(registry, &path).await?.id),
            };
            catalog.add_member(source, u.id, level, expires_at).await?;
            println!(
                "{}",
                json!({ "path": path, "user_id": u.id, "access_level": access_level })
            );
        }
        AdminCommand::CreateDeployToken {
            path,
            name,
            scopes,
            username,
        } => {
            let owner = match catalog.project_by_full_path(&path).await? {
                Some(p) => DeployTokenOwner::Project(p.id),
                None => DeployTokenOwner::Group(group(registry, &path).await?.id),
            };
            let (secret, _) = registry
                .create_deploy_token(owner, &name, username, &scopes, None)
                .await
                .map_err(api)?;
            println!("{secret}");
        }
        AdminCommand::SetPackageSettings {
            group: path,
            format,
            duplicates_allowed,
            duplicate_exception_regex,
        } => {
            let g = group(registry, &path).await?;
            // Through the settings document, so other formats' settings are kept.
            let mut s = registry.namespace_package_settings(&g).await.map_err(api)?;
            let Some(setting) = s.formats.get_mut(&format) else {
                let with: Vec<&str> = s.formats.keys().map(String::as_str).collect();
                bail!(
                    "--format {format:?} names no installed format with a duplicate setting (these have one: {})",
                    with.join(", ")
                );
            };
            if let Some(a) = duplicates_allowed {
                setting.allowed = a;
            }
            if let Some(re) = duplicate_exception_regex {
                packyard_core::cleanup::validate_exception_regex(&re)
                    .map_err(|why| anyhow!("--duplicate-exception-regex {why}"))?;
                setting.exception_regex = re;
            }
            registry
                .set_namespace_package_settings(&g, &s)
                .await
                .map_err(api)?;
            println!("{}", serde_json::to_string(&s.to_json())?);
        }
        AdminCommand::SetInstanceSettings {
            package_registry_allow_anyone_to_pull_option,
        } => {
            let mut s = catalog.instance_settings().await?;
            if let Some(v) = package_registry_allow_anyone_to_pull_option {
                s.package_registry_allow_anyone_to_pull_option = v;
            }
            catalog.set_instance_settings(&s).await?;
            println!("{}", serde_json::to_string(&s)?);
        }
        AdminCommand::AllowJobToken {
            project: target,
            source,
        } => {
            let t = project(registry, &target).await?;
            let s = project(registry, &source).await?;
            catalog.add_job_token_allowlist(t.id, s.id).await?;
            println!(
                "{}",
                json!({ "project_id": t.id, "source_project_id": s.id })
            );
        }
        AdminCommand::BlockUser { user: username } => {
            let u = user(registry, &username).await?;
            let u = registry
                .set_user_state_account(None, u.id, UserState::Blocked)
                .await
                .map_err(api)?;
            println!(
                "{}",
                json!({ "id": u.id, "username": u.username, "state": u.state })
            );
        }
        AdminCommand::UnblockUser { user: username } => {
            let u = user(registry, &username).await?;
            let u = registry
                .set_user_state_account(None, u.id, UserState::Active)
                .await
                .map_err(api)?;
            println!(
                "{}",
                json!({ "id": u.id, "username": u.username, "state": u.state })
            );
        }
    }
    Ok(())
}
