//! Snapshots: the access policy as a readable table, and GitLab's package file entity.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use crate::gitlab_json::package_file;
use crate::model::{
    AccessLevel, BuildInfo, PackageFile, PackageFileId, PackageId, RegistryAccess, UserId,
    Visibility,
};
use crate::policy::{decide, Action, Actor, Decision, ProjectAccessFacts, Refusal};

// ------------------------------------------------------------------------- policy table

/// The callers of the permission-matrix test in `policy.rs` (the same roles and credentials),
/// so the table shows every cell that test checks against its oracle.
const ROLES: [(&str, Option<AccessLevel>, bool); 7] = [
    ("non-member", None, false),
    ("guest", Some(AccessLevel::Guest), false),
    ("reporter", Some(AccessLevel::Reporter), false),
    ("developer", Some(AccessLevel::Developer), false),
    ("maintainer", Some(AccessLevel::Maintainer), false),
    ("owner", Some(AccessLevel::Owner), false),
    ("admin, not a member", None, true),
];

#[derive(Clone, Copy)]
enum Cred {
    Anonymous,
    Pat(&'static [&'static str]),
    Session,
    Deploy {
        read: bool,
        write: bool,
        covers: bool,
    },
    Job {
        allowed: bool,
    },
}

const CREDS: [(&str, Cred); 12] = [
    ("anonymous", Cred::Anonymous),
    ("token: api", Cred::Pat(&["api"])),
    ("token: read_api", Cred::Pat(&["read_api"])),
    ("token: read_user", Cred::Pat(&["read_user"])),
    ("session", Cred::Session),
    (
        "deploy: read",
        Cred::Deploy {
            read: true,
            write: false,
            covers: true,
        },
    ),
    (
        "deploy: write",
        Cred::Deploy {
            read: false,
            write: true,
            covers: true,
        },
    ),
    (
        "deploy: read+write",
        Cred::Deploy {
            read: true,
            write: true,
            covers: true,
        },
    ),
    (
        "deploy: no package scope",
        Cred::Deploy {
            read: false,
            write: false,
            covers: true,
        },
    ),
    (
        "deploy: of another project",
        Cred::Deploy {
            read: true,
            write: true,
            covers: false,
        },
    ),
    ("job token: allowed", Cred::Job { allowed: true }),
    ("job token: not allowlisted", Cred::Job { allowed: false }),
];

fn actor(cred: Cred, is_admin: bool) -> Actor {
    match cred {
        Cred::Anonymous => Actor::Anonymous,
        Cred::Pat(scopes) => Actor::User {
            id: UserId(7),
            is_admin,
            scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        },
        Cred::Session => Actor::User {
            id: UserId(7),
            is_admin,
            scopes: None,
        },
        Cred::Deploy {
            read,
            write,
            covers,
        } => Actor::DeployToken {
            read,
            write,
            covers_project: covers,
        },
        Cred::Job { allowed } => Actor::JobToken {
            user: UserId(7),
            is_admin,
            allowed_on_project: allowed,
        },
    }
}

fn cell(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "ok",
        Decision::Deny(Refusal::NotVisible) => "hidden",
        Decision::Deny(Refusal::RegistryDisabled) => "disabled",
        Decision::Deny(Refusal::InsufficientScope) => "scope",
        Decision::Deny(Refusal::Forbidden) => "forbidden",
    }
}

/// One line of the table: the caller, then one column per action.
fn row(credential: &str, role: &str, cells: &[&str]) -> String {
    format!(
        "{credential:<27} {role:<20} {:<12} {:<12} {:<9} {:<9} {}\n",
        cells[0], cells[1], cells[2], cells[3], cells[4]
    )
}

fn policy_table() -> (String, usize) {
    let mut out = String::from(
        "Every combination of the permission-matrix test (crates/core/src/policy.rs), as `decide` answers.\n\
         ok: allowed. hidden: NotVisible (REST 404; package routes 401 to anonymous, else 404).\n\
         disabled: RegistryDisabled (403). scope: InsufficientScope (403).\n\
         forbidden: Forbidden (403; 401 to anonymous on package routes).\n\
         \"any role\": every role gets the same answers with that credential.\n",
    );
    let mut cells = 0;
    for vis in Visibility::ALL {
        for reg in RegistryAccess::ALL {
            for anyone in [false, true] {
                let _ = write!(
                    out,
                    "\n== project {}, package registry {}, instance allows anyone to pull: {} ==\n",
                    format!("{vis:?}").to_lowercase(),
                    format!("{reg:?}").to_lowercase(),
                    if anyone { "yes" } else { "no" },
                );
                let header = ["read-project", "read-package", "publish", "delete", "admin"];
                out.push_str(&row("credential", "role", &header));
                for (cred_name, cred) in CREDS {
                    let rows: Vec<(&str, Vec<&str>)> = ROLES
                        .iter()
                        .map(|&(role, level, is_admin)| {
                            let facts = ProjectAccessFacts {
                                visibility: vis,
                                registry_access: reg,
                                allow_anyone_to_pull_option: anyone,
                                member_level: level,
                            };
                            let a = actor(cred, is_admin);
                            let row = Action::ALL
                                .iter()
                                .map(|&action| cell(decide(&a, action, &facts)))
                                .collect();
                            (role, row)
                        })
                        .collect();
                    cells += rows.len() * Action::ALL.len();
                    let same = rows.iter().all(|(_, r)| *r == rows[0].1);
                    let shown: Vec<(&str, &Vec<&str>)> = if same {
                        vec![("any role", &rows[0].1)]
                    } else {
                        rows.iter().map(|(role, r)| (*role, r)).collect()
                    };
                    for (role, r) in shown {
                        out.push_str(&row(cred_name, role, r));
                    }
                }
            }
        }
    }
    (out, cells)
}

#[test]
fn policy_table_of_every_combination() {
    let (table, cells) = policy_table();
    // The same 10,080 cells as `policy_matches_oracle_on_every_combination`.
    assert_eq!(cells, 10_080);
    insta::assert_snapshot!(table);
}

// ------------------------------------------------------------------------- package file

fn file(build: Option<BuildInfo>) -> PackageFile {
    PackageFile {
        id: PackageFileId(25),
        package_id: PackageId(4),
        file_name: "demo-1.0.0.tar.gz".into(),
        size: 1_048_576,
        sha256: "a".repeat(64),
        sha1: "b".repeat(40),
        md5: "c".repeat(32),
        sha512: "d".repeat(128),
        metadata: serde_json::json!({ "ignored": true }),
        build,
        created_at: 1_574_825_858_711,
    }
}

#[test]
fn gitlab_package_file() {
    insta::assert_json_snapshot!(package_file(&file(None)));
}

#[test]
fn gitlab_package_file_from_a_pipeline() {
    insta::assert_json_snapshot!(package_file(&file(Some(BuildInfo {
        pipeline_id: 123,
        job_id: 456,
        git_ref: "main".into(),
        sha: "e".repeat(40),
    }))));
}
