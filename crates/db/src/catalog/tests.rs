//! Catalog tests: one body per behaviour, run on a fresh SQLite file always and on a fresh
//! PostgreSQL database when `PACKYARD_TEST_POSTGRES_URL` names an admin connection
//! (e.g. `postgres://postgres@127.0.0.1:55432/postgres`). Each PostgreSQL test gets its own
//! `packyard_test_<random>` database, so the tests run in parallel.
#![allow(clippy::unwrap_used)]

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::{Catalog, CatalogError, DuplicatePolicy, PublishFile};

use super::db;
use crate::schema::package_tags;
use crate::DbCatalog;

const POOL_SIZE: u32 = 8;

/// A throw-away PostgreSQL database, dropped (with its connections) when the test ends.
struct PgTestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PgTestDb {
    fn create(admin_url: &str) -> PgTestDb {
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let name = format!("packyard_test_{:016x}", h.finish());
        let mut admin = diesel::PgConnection::establish(admin_url)
            .expect("connect to PACKYARD_TEST_POSTGRES_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
        let host_end = base[host_start..]
            .find('/')
            .map(|i| host_start + i)
            .unwrap_or(base.len());
        let url = format!("{}/{name}{query}", &base[..host_end]);
        PgTestDb {
            admin_url: admin_url.to_string(),
            name,
            url,
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// Runs `test` on a migrated SQLite catalog, then on a migrated PostgreSQL one if configured.
/// Migrations in each tree (`migrations/{sqlite,postgres}` hold the same names).
static MIGRATIONS: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/sqlite"
    ))
    .expect("migrations/sqlite")
    .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
    .count()
});

pub(crate) async fn on_each_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(DbCatalog) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    // A folder that does not exist yet: connect creates it.
    let url = format!("sqlite://{}/data/catalog.db", dir.path().display());
    let cat = DbCatalog::connect(&url, POOL_SIZE).unwrap();
    assert_eq!(cat.migrate().await.unwrap().len(), *MIGRATIONS);
    let started = Instant::now();
    test(cat).await;
    eprintln!("{name}: sqlite {:?}", started.elapsed());

    if let Ok(admin_url) = std::env::var("PACKYARD_TEST_POSTGRES_URL") {
        let pg = tokio::task::spawn_blocking(move || PgTestDb::create(&admin_url))
            .await
            .unwrap();
        let cat = DbCatalog::connect(&pg.url, POOL_SIZE).unwrap();
        assert_eq!(cat.migrate().await.unwrap().len(), *MIGRATIONS);
        let started = Instant::now();
        test(cat).await;
        eprintln!("{name}: postgres {:?}", started.elapsed());
        tokio::task::spawn_blocking(move || drop(pg)).await.unwrap();
    }
}

macro_rules! catalog_test {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            on_each_backend(stringify!($name), bodies::$name).await;
        }
    };
}

catalog_test!(ping_answers_and_migrations_apply_once_and_revert_cleanly);
catalog_test!(users_are_found_by_id_and_username_and_usernames_are_unique);
catalog_test!(personal_access_tokens_are_found_by_digest_touched_and_revoked);
catalog_test!(deploy_tokens_without_username_are_named_after_their_id);
catalog_test!(job_tokens_and_the_allowlist);
catalog_test!(a_job_token_is_read_in_one_join_with_its_user_and_the_token_that_minted_it);
catalog_test!(groups_nest_and_ancestors_run_from_the_group_to_the_root);
catalog_test!(projects_live_in_groups_or_user_namespaces_and_paths_are_unique);
catalog_test!(members_are_unique_per_source_and_need_an_existing_source);
catalog_test!(effective_access_level_inherits_through_three_group_levels_and_skips_expired);
catalog_test!(publish_creates_the_package_then_appends_files);
catalog_test!(concurrent_publishes_of_the_same_file_name_have_exactly_one_winner);
catalog_test!(concurrent_publishes_allowing_duplicates_share_one_package);
catalog_test!(publish_of_an_existing_version_is_rejected_when_the_policy_says_so);
catalog_test!(only_the_last_five_build_infos_are_kept);
catalog_test!(list_packages_filters_orders_paginates_and_counts);
catalog_test!(delete_package_removes_its_files_tags_and_build_infos);
catalog_test!(newest_package_file_respects_statuses);
catalog_test!(blob_references_and_files_after_follow_the_rows);
catalog_test!(instance_settings_default_then_round_trip);
catalog_test!(revisions_move_with_every_change_to_a_name);
catalog_test!(tags_move_between_versions_of_one_name);
catalog_test!(names_files_and_group_trees_for_index_documents);

#[tokio::test]
async fn connect_refuses_an_unknown_scheme() {
    match DbCatalog::connect("mysql://root@localhost/packyard", 1) {
        Err(crate::DbError::UnknownScheme(s)) => assert_eq!(s, "mysql"),
        other => panic!("expected UnknownScheme, got {other:?}"),
    }
}

// ---------------------------------------------------------------- fixtures

pub(crate) fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        name: format!("{username} name"),
        email: format!("{username}@example.com"),
        is_admin: false,
        password_hash: None,
    }
}

pub(crate) fn new_group(path: &str, parent: Option<GroupId>) -> NewGroup {
    NewGroup {
        name: path.to_uppercase(),
        path: path.into(),
        parent_id: parent,
        visibility: Visibility::Private,
        description: String::new(),
    }
}

pub(crate) fn new_project(path: &str, namespace: Namespace) -> NewProject {
    NewProject {
        name: path.into(),
        path: path.into(),
        namespace,
        visibility: Visibility::Internal,
        description: "a project".into(),
        registry_access: RegistryAccess::Enabled,
        creator_id: None,
    }
}

pub(crate) fn digests(n: u64) -> BlobDigests {
    BlobDigests {
        size: n,
        sha256: format!("{n:064x}"),
        sha1: format!("{n:040x}"),
        md5: format!("{n:032x}"),
        sha512: format!("{n:0128x}"),
    }
}

pub(crate) fn publish(
    project: ProjectId,
    name: &str,
    version: &str,
    file: &str,
    policy: DuplicatePolicy,
) -> PublishFile {
    PublishFile {
        package: NewPackage {
            project_id: project,
            format: "generic".into(),
            name: name.into(),
            normalized_name: name.to_lowercase(),
            version: version.into(),
            status: PackageStatus::Default,
            metadata: serde_json::json!({ "kind": "test" }),
        },
        status_override: None,
        file_name: file.into(),
        digests: digests(file.len() as u64),
        file_metadata: serde_json::json!({ "file": file }),
        build: None,
        user_id: None,
        duplicates: policy,
    }
}

pub(crate) fn build(n: i64) -> BuildInfo {
    BuildInfo {
        pipeline_id: 100 + n,
        job_id: 1000 + n,
        git_ref: "main".into(),
        sha: format!("{n:040x}"),
    }
}

pub(crate) const ALL_PAGE: Page = Page {
    page: 1,
    per_page: 100,
};

/// A user and a top-level group project to put packages in.
pub(crate) async fn project(cat: &DbCatalog) -> ProjectId {
    let g = cat.create_group(new_group("acme", None)).await.unwrap();
    cat.create_project(new_project("tools", Namespace::Group(g.id)))
        .await
        .unwrap()
        .id
}

pub(crate) fn conflict_text<T: std::fmt::Debug>(r: Result<T, CatalogError>) -> String {
    match r {
        Err(CatalogError::Conflict(text)) => text,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------- bodies

mod bodies {
    use super::*;

    pub async fn ping_answers_and_migrations_apply_once_and_revert_cleanly(cat: DbCatalog) {
        cat.ping().await.unwrap();
        assert!(cat.migrate().await.unwrap().is_empty());
        // down.sql undoes up.sql: revert everything, then migrate again from scratch.
        let reverted = cat
            .run(|conn| {
                use diesel_migrations::MigrationHarness;
                let migrations = match conn {
                    crate::DbConnection::Sqlite(_) => crate::SQLITE_MIGRATIONS,
                    crate::DbConnection::Pg(_) => crate::POSTGRES_MIGRATIONS,
                };
                conn.revert_all_migrations(migrations)
                    .map(|v| v.len())
                    .map_err(CatalogError::Backend)
            })
            .await
            .unwrap();
        assert_eq!(reverted, *MIGRATIONS);
        assert!(cat.count_users().await.is_err(), "the tables are gone");
        assert_eq!(cat.migrate().await.unwrap().len(), *MIGRATIONS);
        assert_eq!(cat.count_users().await.unwrap(), 0);
    }

    pub async fn users_are_found_by_id_and_username_and_usernames_are_unique(cat: DbCatalog) {
        assert_eq!(cat.count_users().await.unwrap(), 0);
        let mut nu = new_user("alice");
        nu.is_admin = true;
        nu.password_hash = Some("$argon2id$v=19$fake".into());
        let alice = cat.create_user(nu).await.unwrap();
        assert_eq!(alice.username, "alice");
        assert!(alice.is_admin);
        assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$v=19$fake"));
        assert!(
            alice.created_at > 1_700_000_000_000,
            "created_at is in milliseconds"
        );
        let bob = cat.create_user(new_user("bob")).await.unwrap();
        assert_ne!(alice.id, bob.id);

        assert_eq!(cat.user_by_id(alice.id).await.unwrap(), Some(alice.clone()));
        assert_eq!(cat.user_by_username("bob").await.unwrap(), Some(bob));
        assert_eq!(cat.user_by_username("carol").await.unwrap(), None);
        assert_eq!(cat.user_by_id(UserId(9999)).await.unwrap(), None);
        assert_eq!(cat.count_users().await.unwrap(), 2);

        let text = conflict_text(cat.create_user(new_user("alice")).await);
        assert_eq!(text, "username has already been taken");
        assert_eq!(cat.count_users().await.unwrap(), 2);
    }

    pub async fn personal_access_tokens_are_found_by_digest_touched_and_revoked(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let token = cat
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: alice.id,
                name: "ci".into(),
                scopes: vec!["api".into(), "read_api".into()],
                expires_at: Some("2027-01-31".into()),
                digest: "d1".into(),
            })
            .await
            .unwrap();
        assert_eq!(token.scopes, vec!["api", "read_api"]);
        assert_eq!(token.expires_at.as_deref(), Some("2027-01-31"));
        assert!(!token.revoked);
        assert_eq!(token.last_used_at, None);

        assert_eq!(
            cat.personal_access_token_by_digest("d1").await.unwrap(),
            Some(token.clone())
        );
        assert_eq!(
            cat.personal_access_token_by_digest("nope").await.unwrap(),
            None
        );

        cat.touch_personal_access_token(token.id, 1_800_000_000_123)
            .await
            .unwrap();
        cat.revoke_personal_access_token(token.id).await.unwrap();
        let again = cat
            .personal_access_token_by_digest("d1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.last_used_at, Some(1_800_000_000_123));
        assert!(again.revoked);
        assert!(matches!(
            cat.revoke_personal_access_token(TokenId(9999)).await,
            Err(CatalogError::NotFound)
        ));

        // A token for a user that does not exist breaks the foreign key.
        let orphan = cat
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: UserId(9999),
                name: "x".into(),
                scopes: vec![],
                expires_at: None,
                digest: "d2".into(),
            })
            .await;
        assert!(matches!(orphan, Err(CatalogError::NotFound)), "{orphan:?}");
    }

    pub async fn deploy_tokens_without_username_are_named_after_their_id(cat: DbCatalog) {
        let project = project(&cat).await;
        let group = cat.group_by_full_path("acme").await.unwrap().unwrap();
        let named = cat
            .create_deploy_token(NewDeployToken {
                owner: DeployTokenOwner::Project(project),
                name: "deployer".into(),
                username: Some("robot".into()),
                scopes: vec!["read_package_registry".into()],
                expires_at: Some(1_900_000_000_000),
                digest: "dt1".into(),
            })
            .await
            .unwrap();
        assert_eq!(named.username, "robot");
        assert_eq!(named.owner, DeployTokenOwner::Project(project));
        assert_eq!(named.expires_at, Some(1_900_000_000_000));

        let unnamed = cat
            .create_deploy_token(NewDeployToken {
                owner: DeployTokenOwner::Group(group.id),
                name: "group deployer".into(),
                username: None,
                scopes: vec![
                    "read_package_registry".into(),
                    "write_package_registry".into(),
                ],
                expires_at: None,
                digest: "dt2".into(),
            })
            .await
            .unwrap();
        assert_eq!(
            unnamed.username,
            format!("gitlab+deploy-token-{}", unnamed.id)
        );
        assert_eq!(unnamed.owner, DeployTokenOwner::Group(group.id));
        assert_eq!(
            cat.deploy_token_by_digest("dt2").await.unwrap(),
            Some(unnamed.clone())
        );
        assert_eq!(cat.deploy_token_by_digest("dt3").await.unwrap(), None);

        cat.revoke_deploy_token(unnamed.id).await.unwrap();
        assert!(
            cat.deploy_token_by_digest("dt2")
                .await
                .unwrap()
                .unwrap()
                .revoked
        );

        let dup = cat
            .create_deploy_token(NewDeployToken {
                owner: DeployTokenOwner::Project(project),
                name: "again".into(),
                username: None,
                scopes: vec![],
                expires_at: None,
                digest: "dt1".into(),
            })
            .await;
        conflict_text(dup);
    }

    pub async fn job_tokens_and_the_allowlist(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let target = project(&cat).await;
        let source = cat
            .create_project(new_project("app", Namespace::User(alice.id)))
            .await
            .unwrap()
            .id;
        let token = cat
            .create_job_token(NewJobToken {
                project_id: source,
                user_id: alice.id,
                build: build(1),
                expires_at: 1_900_000_000_000,
                digest: "jt".into(),
                origin: JobTokenOrigin::Session,
            })
            .await
            .unwrap();
        assert_eq!(token.build, build(1));
        assert_eq!(token.project_id, source);
        assert_eq!(token.origin, JobTokenOrigin::Session);
        let login = cat.job_token_by_digest("jt").await.unwrap().unwrap();
        assert_eq!(login.token, token);
        assert_eq!(login.user, alice);
        assert_eq!(login.minted_by, None);
        assert_eq!(cat.job_token_by_digest("other").await.unwrap(), None);

        assert!(!cat.job_token_allowed(target, source).await.unwrap());
        cat.add_job_token_allowlist(target, source).await.unwrap();
        // Adding it again is harmless.
        cat.add_job_token_allowlist(target, source).await.unwrap();
        assert!(cat.job_token_allowed(target, source).await.unwrap());
        assert!(
            !cat.job_token_allowed(source, target).await.unwrap(),
            "the allowlist is directed"
        );
    }

    pub async fn a_job_token_is_read_in_one_join_with_its_user_and_the_token_that_minted_it(
        cat: DbCatalog,
    ) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let project = cat
            .create_project(new_project("app", Namespace::User(alice.id)))
            .await
            .unwrap()
            .id;
        let pat = |digest: &str| NewPersonalAccessToken {
            user_id: alice.id,
            name: "ci".into(),
            scopes: vec!["api".into()],
            expires_at: Some("2030-01-01".into()),
            digest: digest.into(),
        };
        let minted_with = cat.create_personal_access_token(pat("pat")).await.unwrap();
        let job = |digest: &str, origin| NewJobToken {
            project_id: project,
            user_id: alice.id,
            build: build(1),
            expires_at: 1_900_000_000_000,
            digest: digest.into(),
            origin,
        };
        let token = cat
            .create_job_token(job(
                "jt",
                JobTokenOrigin::PersonalAccessToken(Some(minted_with.id)),
            ))
            .await
            .unwrap();
        assert_eq!(
            token.origin,
            JobTokenOrigin::PersonalAccessToken(Some(minted_with.id))
        );
        let login = cat.job_token_by_digest("jt").await.unwrap().unwrap();
        assert_eq!(login.token, token);
        assert_eq!(login.user, alice);
        assert_eq!(login.minted_by.as_ref(), Some(&minted_with));
        assert_eq!(
            login.minted_by.unwrap().expires_at.as_deref(),
            Some("2030-01-01")
        );

        // The join follows the minting token's state: revoked shows as revoked.
        cat.revoke_personal_access_token(minted_with.id)
            .await
            .unwrap();
        let login = cat.job_token_by_digest("jt").await.unwrap().unwrap();
        assert!(login.minted_by.unwrap().revoked);

        // A row that names no token (minted before origins were kept) reads without one.
        diesel::update(crate::schema::job_tokens::table)
            .filter(crate::schema::job_tokens::digest.eq("jt"))
            .set(crate::schema::job_tokens::personal_access_token_id.eq(None::<i64>))
            .execute(&mut cat.pool.get().unwrap())
            .unwrap();
        let login = cat.job_token_by_digest("jt").await.unwrap().unwrap();
        assert_eq!(
            login.token.origin,
            JobTokenOrigin::PersonalAccessToken(None)
        );
        assert_eq!(login.minted_by, None);

        // A job token can be ended on its own.
        assert!(cat.delete_job_token(token.id).await.unwrap());
        assert!(!cat.delete_job_token(token.id).await.unwrap());
        assert_eq!(cat.job_token_by_digest("jt").await.unwrap(), None);

        // Deleting the minting token deletes its job tokens (the foreign key cascades).
        let other = cat.create_personal_access_token(pat("pat2")).await.unwrap();
        cat.create_job_token(job(
            "jt2",
            JobTokenOrigin::PersonalAccessToken(Some(other.id)),
        ))
        .await
        .unwrap();
        assert!(cat.job_token_by_digest("jt2").await.unwrap().is_some());
        diesel::delete(crate::schema::personal_access_tokens::table.find(other.id.0))
            .execute(&mut cat.pool.get().unwrap())
            .unwrap();
        assert_eq!(cat.job_token_by_digest("jt2").await.unwrap(), None);
        // And a user's deletion still goes through, taking its tokens along.
        let third = cat.create_personal_access_token(pat("pat3")).await.unwrap();
        cat.create_job_token(job(
            "jt3",
            JobTokenOrigin::PersonalAccessToken(Some(third.id)),
        ))
        .await
        .unwrap();
        assert!(cat.delete_user(alice.id).await.unwrap());
        assert_eq!(cat.job_token_by_digest("jt3").await.unwrap(), None);
    }

    pub async fn groups_nest_and_ancestors_run_from_the_group_to_the_root(cat: DbCatalog) {
        let top = cat.create_group(new_group("acme", None)).await.unwrap();
        let mid = cat
            .create_group(new_group("platform", Some(top.id)))
            .await
            .unwrap();
        let leaf = cat
            .create_group(new_group("infra", Some(mid.id)))
            .await
            .unwrap();
        assert_eq!(top.full_path, "acme");
        assert_eq!(mid.full_path, "acme/platform");
        assert_eq!(leaf.full_path, "acme/platform/infra");
        assert_eq!(leaf.parent_id, Some(mid.id));
        assert_eq!(leaf.package_settings, PackageSettings::default());

        let chain: Vec<String> = cat
            .group_ancestors(leaf.id)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.full_path)
            .collect();
        assert_eq!(chain, ["acme/platform/infra", "acme/platform", "acme"]);
        assert_eq!(
            cat.group_ancestors(top.id).await.unwrap(),
            vec![top.clone()]
        );
        assert!(cat.group_ancestors(GroupId(9999)).await.unwrap().is_empty());

        assert_eq!(cat.group_by_id(mid.id).await.unwrap(), Some(mid.clone()));
        assert_eq!(
            cat.group_by_full_path("acme/platform").await.unwrap(),
            Some(mid.clone())
        );
        assert_eq!(cat.group_by_full_path("platform").await.unwrap(), None);

        // The same path is fine under another parent, taken under the same one.
        cat.create_group(new_group("infra", Some(top.id)))
            .await
            .unwrap();
        let text = conflict_text(cat.create_group(new_group("platform", Some(top.id))).await);
        assert_eq!(text, "path has already been taken");
        conflict_text(cat.create_group(new_group("acme", None)).await);
        assert!(matches!(
            cat.create_group(new_group("x", Some(GroupId(9999)))).await,
            Err(CatalogError::NotFound)
        ));

        let settings = PackageSettings {
            generic_duplicates_allowed: false,
            generic_duplicate_exception_regex: "-SNAPSHOT$".into(),
        };
        cat.set_group_package_settings(mid.id, &settings)
            .await
            .unwrap();
        assert_eq!(
            cat.group_by_id(mid.id)
                .await
                .unwrap()
                .unwrap()
                .package_settings,
            settings
        );
        assert!(matches!(
            cat.set_group_package_settings(GroupId(9999), &settings)
                .await,
            Err(CatalogError::NotFound)
        ));
    }

    pub async fn projects_live_in_groups_or_user_namespaces_and_paths_are_unique(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let top = cat.create_group(new_group("acme", None)).await.unwrap();
        let sub = cat
            .create_group(new_group("platform", Some(top.id)))
            .await
            .unwrap();

        let mut np = new_project("tools", Namespace::Group(sub.id));
        np.creator_id = Some(alice.id);
        let tools = cat.create_project(np).await.unwrap();
        assert_eq!(tools.full_path, "acme/platform/tools");
        assert_eq!(tools.namespace, Namespace::Group(sub.id));
        assert_eq!(tools.creator_id, Some(alice.id));
        assert_eq!(tools.visibility, Visibility::Internal);
        assert_eq!(tools.registry_access, RegistryAccess::Enabled);

        let own = cat
            .create_project(new_project("dotfiles", Namespace::User(alice.id)))
            .await
            .unwrap();
        assert_eq!(own.full_path, "alice/dotfiles");
        assert_eq!(own.namespace, Namespace::User(alice.id));

        assert_eq!(
            cat.project_by_id(tools.id).await.unwrap(),
            Some(tools.clone())
        );
        assert_eq!(
            cat.project_by_full_path("alice/dotfiles").await.unwrap(),
            Some(own)
        );
        assert_eq!(cat.project_by_full_path("alice/other").await.unwrap(), None);

        let text = conflict_text(
            cat.create_project(new_project("tools", Namespace::Group(sub.id)))
                .await,
        );
        assert_eq!(text, "path has already been taken");
        // Groups and projects share one URL space.
        conflict_text(
            cat.create_project(new_project("platform", Namespace::Group(top.id)))
                .await,
        );
        conflict_text(cat.create_group(new_group("tools", Some(sub.id))).await);
        assert!(matches!(
            cat.create_project(new_project("x", Namespace::User(UserId(9999))))
                .await,
            Err(CatalogError::NotFound)
        ));

        cat.set_project_registry_access(tools.id, RegistryAccess::Public)
            .await
            .unwrap();
        assert_eq!(
            cat.project_by_id(tools.id)
                .await
                .unwrap()
                .unwrap()
                .registry_access,
            RegistryAccess::Public
        );
        assert!(matches!(
            cat.set_project_registry_access(ProjectId(9999), RegistryAccess::Disabled)
                .await,
            Err(CatalogError::NotFound)
        ));
    }

    pub async fn members_are_unique_per_source_and_need_an_existing_source(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let project = project(&cat).await;
        let group = cat.group_by_full_path("acme").await.unwrap().unwrap();

        let m = cat
            .add_member(
                MemberSource::Project(project),
                alice.id,
                AccessLevel::Developer,
                Some("2030-01-01".into()),
            )
            .await
            .unwrap();
        assert_eq!(m.source, MemberSource::Project(project));
        assert_eq!(m.access_level, AccessLevel::Developer);
        assert_eq!(m.expires_at.as_deref(), Some("2030-01-01"));

        let text = conflict_text(
            cat.add_member(
                MemberSource::Project(project),
                alice.id,
                AccessLevel::Owner,
                None,
            )
            .await,
        );
        assert_eq!(text, "Member already exists");
        // The same user may also be a member of the group.
        let g = cat
            .add_member(
                MemberSource::Group(group.id),
                alice.id,
                AccessLevel::Guest,
                None,
            )
            .await
            .unwrap();
        assert_eq!(g.source, MemberSource::Group(group.id));

        assert!(matches!(
            cat.add_member(
                MemberSource::Group(GroupId(9999)),
                alice.id,
                AccessLevel::Guest,
                None
            )
            .await,
            Err(CatalogError::NotFound)
        ));
        assert!(matches!(
            cat.add_member(
                MemberSource::Project(project),
                UserId(9999),
                AccessLevel::Guest,
                None
            )
            .await,
            Err(CatalogError::NotFound)
        ));
    }

    pub async fn effective_access_level_inherits_through_three_group_levels_and_skips_expired(
        cat: DbCatalog,
    ) {
        let today = "2026-11-24";
        let top = cat.create_group(new_group("acme", None)).await.unwrap();
        let mid = cat
            .create_group(new_group("platform", Some(top.id)))
            .await
            .unwrap();
        let leaf = cat
            .create_group(new_group("infra", Some(mid.id)))
            .await
            .unwrap();
        let p = cat
            .create_project(new_project("tools", Namespace::Group(leaf.id)))
            .await
            .unwrap()
            .id;
        let other_top = cat.create_group(new_group("other", None)).await.unwrap();

        let [owner, dev, expired, lastday, stranger, mixed] =
            ["owner", "dev", "expired", "lastday", "stranger", "mixed"].map(new_user);
        let owner = cat.create_user(owner).await.unwrap().id;
        let dev = cat.create_user(dev).await.unwrap().id;
        let expired = cat.create_user(expired).await.unwrap().id;
        let lastday = cat.create_user(lastday).await.unwrap().id;
        let stranger = cat.create_user(stranger).await.unwrap().id;
        let mixed = cat.create_user(mixed).await.unwrap().id;

        // Owner of the top-level group: inherited three levels down.
        cat.add_member(MemberSource::Group(top.id), owner, AccessLevel::Owner, None)
            .await
            .unwrap();
        // Developer on the middle group and Guest on the project: the higher wins.
        cat.add_member(
            MemberSource::Group(mid.id),
            dev,
            AccessLevel::Developer,
            None,
        )
        .await
        .unwrap();
        cat.add_member(MemberSource::Project(p), dev, AccessLevel::Guest, None)
            .await
            .unwrap();
        // Expired yesterday: nothing.
        cat.add_member(
            MemberSource::Group(top.id),
            expired,
            AccessLevel::Maintainer,
            Some("2026-11-23".into()),
        )
        .await
        .unwrap();
        // Expires today: still counts.
        cat.add_member(
            MemberSource::Project(p),
            lastday,
            AccessLevel::Reporter,
            Some(today.into()),
        )
        .await
        .unwrap();
        // Member of an unrelated group only.
        cat.add_member(
            MemberSource::Group(other_top.id),
            stranger,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        // An expired Maintainer on the leaf group, a live Reporter on the top group.
        cat.add_member(
            MemberSource::Group(leaf.id),
            mixed,
            AccessLevel::Maintainer,
            Some("2020-01-01".into()),
        )
        .await
        .unwrap();
        cat.add_member(
            MemberSource::Group(top.id),
            mixed,
            AccessLevel::Reporter,
            Some("2027-01-01".into()),
        )
        .await
        .unwrap();

        let level = |u| cat.effective_access_level(u, p, today);
        assert_eq!(level(owner).await.unwrap(), Some(AccessLevel::Owner));
        assert_eq!(level(dev).await.unwrap(), Some(AccessLevel::Developer));
        assert_eq!(level(expired).await.unwrap(), None);
        assert_eq!(level(lastday).await.unwrap(), Some(AccessLevel::Reporter));
        assert_eq!(level(stranger).await.unwrap(), None);
        assert_eq!(level(mixed).await.unwrap(), Some(AccessLevel::Reporter));
        assert_eq!(
            cat.effective_access_level(lastday, p, "2026-11-25")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            cat.effective_access_level(owner, ProjectId(9999), today)
                .await
                .unwrap(),
            None
        );

        // A project in a user's namespace: only its own members count.
        let personal = cat
            .create_project(new_project("mine", Namespace::User(dev)))
            .await
            .unwrap()
            .id;
        assert_eq!(
            cat.effective_access_level(owner, personal, today)
                .await
                .unwrap(),
            None
        );
        cat.add_member(
            MemberSource::Project(personal),
            owner,
            AccessLevel::Maintainer,
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            cat.effective_access_level(owner, personal, today)
                .await
                .unwrap(),
            Some(AccessLevel::Maintainer)
        );
    }

    pub async fn publish_creates_the_package_then_appends_files(cat: DbCatalog) {
        let project = project(&cat).await;
        let uploader = cat.create_user(new_user("ci")).await.unwrap();
        let mut first = publish(
            project,
            "Widget",
            "1.0.0",
            "widget.tar.gz",
            DuplicatePolicy::Allow,
        );
        first.build = Some(build(1));
        first.user_id = Some(uploader.id);
        let (pkg, f1) = cat.publish_file(first).await.unwrap();
        assert_eq!(pkg.name, "Widget");
        assert_eq!(pkg.normalized_name, "widget");
        assert_eq!(pkg.format, "generic");
        assert_eq!(pkg.status, PackageStatus::Default);
        assert_eq!(pkg.metadata, serde_json::json!({ "kind": "test" }));
        assert_eq!(pkg.last_downloaded_at, None);
        assert_eq!(f1.package_id, pkg.id);
        assert_eq!(f1.file_name, "widget.tar.gz");
        assert_eq!(f1.size, 13);
        assert_eq!(f1.sha256, digests(13).sha256);
        assert_eq!(f1.sha512.len(), 128);
        assert_eq!(f1.build, Some(build(1)));
        assert_eq!(f1.metadata, serde_json::json!({ "file": "widget.tar.gz" }));

        let mut second = publish(
            project,
            "Widget",
            "1.0.0",
            "widget.sha256",
            DuplicatePolicy::Allow,
        );
        second.status_override = Some(PackageStatus::Hidden);
        let (pkg2, f2) = cat.publish_file(second).await.unwrap();
        assert_eq!(pkg2.id, pkg.id, "same name and version: same package");
        assert_eq!(
            pkg2.status,
            PackageStatus::Hidden,
            "status_override applies to an existing package"
        );
        assert!(pkg2.updated_at >= pkg.updated_at);
        assert_eq!(f2.build, None);

        // A different version is a different package.
        let (other, _) = cat
            .publish_file(publish(
                project,
                "Widget",
                "2.0.0",
                "widget.tar.gz",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        assert_ne!(other.id, pkg.id);

        assert_eq!(
            cat.package_by_id(project, pkg.id).await.unwrap(),
            Some(pkg2.clone())
        );
        assert_eq!(
            cat.package_by_id(ProjectId(9999), pkg.id).await.unwrap(),
            None,
            "scoped to the project"
        );
        let versions: Vec<String> = cat
            .packages_by_name(project, "generic", "widget")
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.version)
            .collect();
        assert_eq!(versions, ["1.0.0", "2.0.0"]);
        assert!(cat
            .packages_by_name(project, "npm", "widget")
            .await
            .unwrap()
            .is_empty());

        let (files, total) = cat.package_files(pkg.id, ALL_PAGE).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(files, vec![f1.clone(), f2.clone()]);
        let (page2, total) = cat
            .package_files(
                pkg.id,
                Page {
                    page: 2,
                    per_page: 1,
                },
            )
            .await
            .unwrap();
        assert_eq!((page2, total), (vec![f2.clone()], 2));
        assert_eq!(
            cat.package_file(pkg.id, f1.id).await.unwrap(),
            Some(f1.clone())
        );
        assert_eq!(
            cat.package_file(other.id, f1.id).await.unwrap(),
            None,
            "scoped to the package"
        );

        let infos = cat.package_build_infos(pkg.id).await.unwrap();
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0].build, build(1));
        assert_eq!(infos[0].user_id, Some(uploader.id));

        cat.touch_package_downloaded(pkg.id, 1_800_000_000_000)
            .await
            .unwrap();
        assert_eq!(
            cat.package_by_id(project, pkg.id)
                .await
                .unwrap()
                .unwrap()
                .last_downloaded_at,
            Some(1_800_000_000_000)
        );
        assert!(matches!(
            cat.touch_package_downloaded(PackageId(9999), 1).await,
            Err(CatalogError::NotFound)
        ));

        assert!(cat.delete_package_file(pkg.id, f1.id).await.unwrap());
        assert!(!cat.delete_package_file(pkg.id, f1.id).await.unwrap());
        assert!(
            !cat.delete_package_file(other.id, f2.id).await.unwrap(),
            "scoped to the package"
        );
        assert_eq!(
            cat.package_files(pkg.id, ALL_PAGE).await.unwrap(),
            (vec![f2], 1)
        );
    }

    pub async fn concurrent_publishes_of_the_same_file_name_have_exactly_one_winner(
        cat: DbCatalog,
    ) {
        let project = project(&cat).await;
        let policy = DuplicatePolicy::RejectSameFileName {
            message: "file already exists".into(),
        };
        let race = |file: &'static str| {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let cat = cat.clone();
                    let p = publish(project, "race", "1.0.0", file, policy.clone());
                    tokio::spawn(async move { cat.publish_file(p).await })
                })
                .collect();
            async move {
                let (mut ok, mut conflicts) = (0, 0);
                for t in tasks {
                    match t.await.unwrap() {
                        Ok(_) => ok += 1,
                        Err(CatalogError::Conflict(text)) => {
                            assert_eq!(text, "file already exists");
                            conflicts += 1;
                        }
                        Err(e) => panic!("unexpected error: {e:?}"),
                    }
                }
                (ok, conflicts)
            }
        };
        // The package does not exist yet: the publishers also race to create it.
        assert_eq!(race("race.bin").await, (1, 7));
        // The package exists: the publishers race on the file name alone.
        assert_eq!(race("race.sig").await, (1, 7));
        let (pkgs, total) = cat
            .list_packages(
                &[project],
                &PackageFilter::default(),
                PackageOrder::CreatedAt,
                false,
                ALL_PAGE,
            )
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(cat.package_files(pkgs[0].id, ALL_PAGE).await.unwrap().1, 2);
    }

    pub async fn concurrent_publishes_allowing_duplicates_share_one_package(cat: DbCatalog) {
        let project = project(&cat).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cat = cat.clone();
                let p = publish(
                    project,
                    "shared",
                    "1.0.0",
                    "same.bin",
                    DuplicatePolicy::Allow,
                );
                tokio::spawn(async move { cat.publish_file(p).await })
            })
            .collect();
        let mut package_ids = std::collections::BTreeSet::new();
        for t in tasks {
            let (pkg, _) = t.await.unwrap().unwrap();
            package_ids.insert(pkg.id);
        }
        assert_eq!(
            package_ids.len(),
            1,
            "every publisher found or created the same package"
        );
        let id = *package_ids.iter().next().unwrap();
        assert_eq!(cat.package_files(id, ALL_PAGE).await.unwrap().1, 8);
        assert_eq!(
            cat.packages_by_name(project, "generic", "shared")
                .await
                .unwrap()
                .len(),
            1
        );
    }

    pub async fn publish_of_an_existing_version_is_rejected_when_the_policy_says_so(
        cat: DbCatalog,
    ) {
        let project = project(&cat).await;
        let policy = DuplicatePolicy::RejectExistingVersion {
            message: "version 1.0 already exists".into(),
        };
        cat.publish_file(publish(
            project,
            "lib",
            "1.0",
            "lib-1.0.whl",
            policy.clone(),
        ))
        .await
        .unwrap();
        let text = conflict_text(
            cat.publish_file(publish(
                project,
                "lib",
                "1.0",
                "lib-1.0.tar.gz",
                policy.clone(),
            ))
            .await,
        );
        assert_eq!(text, "version 1.0 already exists");
        // Nothing of the refused publish was kept.
        let pkg = &cat
            .packages_by_name(project, "generic", "lib")
            .await
            .unwrap()[0];
        assert_eq!(cat.package_files(pkg.id, ALL_PAGE).await.unwrap().1, 1);

        // Concurrent first publishes of one version: one wins.
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let cat = cat.clone();
                let p = publish(
                    project,
                    "lib",
                    "2.0",
                    &format!("lib-2.0-{i}.whl"),
                    policy.clone(),
                );
                tokio::spawn(async move { cat.publish_file(p).await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(CatalogError::Conflict(_)) => {}
                Err(e) => panic!("unexpected error: {e:?}"),
            }
        }
        assert_eq!(ok, 1);
    }

    pub async fn only_the_last_five_build_infos_are_kept(cat: DbCatalog) {
        let project = project(&cat).await;
        let mut package = None;
        for n in 1..=7 {
            let mut p = publish(
                project,
                "built",
                "1.0",
                &format!("f{n}"),
                DuplicatePolicy::Allow,
            );
            p.build = Some(build(n));
            package = Some(cat.publish_file(p).await.unwrap().0.id);
        }
        // A publish without build info records none.
        cat.publish_file(publish(
            project,
            "built",
            "1.0",
            "f8",
            DuplicatePolicy::Allow,
        ))
        .await
        .unwrap();
        let package = package.unwrap();
        let pipelines: Vec<i64> = cat
            .package_build_infos(package)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.build.pipeline_id)
            .collect();
        assert_eq!(
            pipelines,
            [107, 106, 105, 104, 103],
            "newest first, two oldest dropped"
        );
        let stored = cat
            .run(move |conn| {
                crate::schema::package_build_infos::table
                    .filter(crate::schema::package_build_infos::package_id.eq(package.0))
                    .count()
                    .get_result::<i64>(conn)
                    .map_err(db)
            })
            .await
            .unwrap();
        assert_eq!(stored, 5, "older rows are deleted, not just hidden");
    }

    pub async fn list_packages_filters_orders_paginates_and_counts(cat: DbCatalog) {
        let p1 = project(&cat).await;
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let p2 = cat
            .create_project(new_project("other", Namespace::User(alice.id)))
            .await
            .unwrap()
            .id;
        let p3 = cat
            .create_project(new_project("third", Namespace::User(alice.id)))
            .await
            .unwrap()
            .id;

        let put = |project, format: &str, name: &str, version: &str, status| {
            let mut p = publish(project, name, version, "f", DuplicatePolicy::Allow);
            p.package.format = format.into();
            p.package.status = status;
            let cat = cat.clone();
            async move { cat.publish_file(p).await.unwrap().0 }
        };
        let a = put(p1, "generic", "Alpha", "1.0", PackageStatus::Default).await;
        let b = put(p1, "npm", "beta_pkg", "2.0", PackageStatus::Default).await;
        let c = put(p2, "pypi", "gamma%x", "1.0", PackageStatus::Error).await;
        let d = put(p2, "generic", "delta", "0.5", PackageStatus::Deprecated).await;
        let hidden = put(p1, "generic", "hidden", "1.0", PackageStatus::Hidden).await;
        let pending = put(
            p2,
            "generic",
            "alphabet",
            "1.0",
            PackageStatus::PendingDestruction,
        )
        .await;
        let _elsewhere = put(p3, "generic", "Alpha", "1.0", PackageStatus::Default).await;

        let list = |filter: PackageFilter, order, desc, page| {
            let cat = cat.clone();
            async move {
                let (pkgs, total) = cat
                    .list_packages(&[p1, p2], &filter, order, desc, page)
                    .await
                    .unwrap();
                (pkgs.into_iter().map(|p| p.id).collect::<Vec<_>>(), total)
            }
        };
        let f = PackageFilter::default;

        // Default statuses, creation order, both projects, not the third.
        assert_eq!(
            list(f(), PackageOrder::CreatedAt, false, ALL_PAGE).await,
            (vec![a.id, b.id, c.id, d.id], 4)
        );
        assert_eq!(
            list(f(), PackageOrder::CreatedAt, true, ALL_PAGE).await,
            (vec![d.id, c.id, b.id, a.id], 4)
        );
        // "Alpha" < "beta_pkg" < "delta" < "gamma%x" in byte order.
        assert_eq!(
            list(f(), PackageOrder::Name, false, ALL_PAGE).await.0,
            vec![a.id, b.id, d.id, c.id]
        );
        assert_eq!(
            list(f(), PackageOrder::Version, true, ALL_PAGE).await.0,
            vec![b.id, c.id, a.id, d.id]
        );
        assert_eq!(
            list(f(), PackageOrder::Type, false, ALL_PAGE).await.0,
            vec![a.id, d.id, b.id, c.id]
        );

        // Pages: the total is the filtered count, not the page size.
        assert_eq!(
            list(
                f(),
                PackageOrder::Name,
                false,
                Page {
                    page: 1,
                    per_page: 3
                }
            )
            .await,
            (vec![a.id, b.id, d.id], 4)
        );
        assert_eq!(
            list(
                f(),
                PackageOrder::Name,
                false,
                Page {
                    page: 2,
                    per_page: 3
                }
            )
            .await,
            (vec![c.id], 4)
        );
        assert_eq!(
            list(
                f(),
                PackageOrder::Name,
                false,
                Page {
                    page: 3,
                    per_page: 3
                }
            )
            .await,
            (vec![], 4)
        );

        // Filters.
        let by = |edit: fn(&mut PackageFilter)| {
            let mut filter = PackageFilter::default();
            edit(&mut filter);
            list(filter, PackageOrder::CreatedAt, false, ALL_PAGE)
        };
        assert_eq!(
            by(|f| f.format = Some("generic".into())).await,
            (vec![a.id, d.id], 2)
        );
        assert_eq!(
            by(|f| f.name_contains = Some("ALPH".into())).await,
            (vec![a.id], 1),
            "case-insensitive"
        );
        assert_eq!(
            by(|f| f.name_contains = Some("a_p".into())).await,
            (vec![b.id], 1),
            "_ is literal"
        );
        assert_eq!(
            by(|f| f.name_contains = Some("a%".into())).await,
            (vec![c.id], 1),
            "% is literal"
        );
        assert_eq!(by(|f| f.name_contains = Some("l".into())).await.1, 2);
        assert_eq!(
            by(|f| f.version = Some("1.0".into())).await,
            (vec![a.id, c.id], 2)
        );
        assert_eq!(
            by(|f| f.status = Some(PackageStatus::Hidden)).await,
            (vec![hidden.id], 1)
        );
        assert_eq!(
            by(|f| f.status = Some(PackageStatus::PendingDestruction)).await,
            (vec![pending.id], 1)
        );
        assert_eq!(
            by(|f| f.normalized_name = Some("delta".into())).await,
            (vec![d.id], 1)
        );
        assert_eq!(
            by(|f| f.normalized_name = Some("Delta".into())).await.1,
            0,
            "normalized name is exact"
        );
        let combined = |f: &mut PackageFilter| {
            f.format = Some("generic".into());
            f.name_contains = Some("a".into());
            f.status = Some(PackageStatus::Default);
        };
        assert_eq!(by(combined).await, (vec![a.id], 1));

        // One project, and none.
        let (only_p2, total) = cat
            .list_packages(&[p2], &f(), PackageOrder::CreatedAt, false, ALL_PAGE)
            .await
            .unwrap();
        assert_eq!((only_p2.len(), total), (2, 2));
        assert_eq!(
            cat.list_packages(&[], &f(), PackageOrder::CreatedAt, false, ALL_PAGE)
                .await
                .unwrap(),
            (vec![], 0)
        );
    }

    pub async fn delete_package_removes_its_files_tags_and_build_infos(cat: DbCatalog) {
        let project = project(&cat).await;
        let mut p = publish(project, "doomed", "1.0", "a", DuplicatePolicy::Allow);
        p.build = Some(build(1));
        let (pkg, _) = cat.publish_file(p).await.unwrap();
        let (_, b) = cat
            .publish_file(publish(
                project,
                "doomed",
                "1.0",
                "b",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        let (keep, kept_file) = cat
            .publish_file(publish(project, "kept", "1.0", "a", DuplicatePolicy::Allow))
            .await
            .unwrap();
        // The port has no tag writer yet: insert rows directly.
        for (package, name) in [(pkg.id, "latest"), (pkg.id, "beta"), (keep.id, "latest")] {
            cat.run(move |conn| {
                diesel::insert_into(package_tags::table)
                    .values((
                        package_tags::package_id.eq(package.0),
                        package_tags::name.eq(name),
                        package_tags::created_at.eq(1),
                        package_tags::updated_at.eq(1),
                    ))
                    .execute(conn)
                    .map_err(db)
            })
            .await
            .unwrap();
        }
        let tags: Vec<String> = cat
            .package_tags(pkg.id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(tags, ["beta", "latest"]);

        assert!(cat.delete_package(pkg.id).await.unwrap());
        assert!(!cat.delete_package(pkg.id).await.unwrap(), "already gone");
        assert_eq!(cat.package_by_id(project, pkg.id).await.unwrap(), None);
        assert_eq!(
            cat.package_files(pkg.id, ALL_PAGE).await.unwrap(),
            (vec![], 0)
        );
        assert!(cat.package_tags(pkg.id).await.unwrap().is_empty());
        assert!(cat.package_build_infos(pkg.id).await.unwrap().is_empty());
        assert_eq!(cat.package_file(pkg.id, b.id).await.unwrap(), None);

        // The other package is untouched.
        assert_eq!(
            cat.package_files(keep.id, ALL_PAGE).await.unwrap(),
            (vec![kept_file], 1)
        );
        assert_eq!(cat.package_tags(keep.id).await.unwrap().len(), 1);
    }

    pub async fn newest_package_file_respects_statuses(cat: DbCatalog) {
        let project = project(&cat).await;
        let (_, old) = cat
            .publish_file(publish(
                project,
                "Tool",
                "1.0",
                "tool.bin",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        let (_, other) = cat
            .publish_file(publish(
                project,
                "Tool",
                "1.0",
                "tool.txt",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        let (pkg, new) = cat
            .publish_file(publish(
                project,
                "Tool",
                "1.0",
                "tool.bin",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        let downloadable: Vec<PackageStatus> = PackageStatus::ALL
            .into_iter()
            .filter(|s| s.downloadable())
            .collect();

        let find = |file: &'static str, version: &'static str, statuses: Vec<PackageStatus>| {
            let cat = cat.clone();
            async move {
                cat.newest_package_file(project, "generic", "tool", version, file, &statuses)
                    .await
                    .unwrap()
                    .map(|(p, f)| (p.id, f.id))
            }
        };
        assert_eq!(
            find("tool.bin", "1.0", downloadable.clone()).await,
            Some((pkg.id, new.id))
        );
        assert_ne!(old.id, new.id);
        assert_eq!(
            find("tool.txt", "1.0", downloadable.clone()).await,
            Some((pkg.id, other.id))
        );
        assert_eq!(find("tool.bin", "2.0", downloadable.clone()).await, None);
        assert_eq!(find("nope", "1.0", downloadable.clone()).await, None);
        assert_eq!(find("tool.bin", "1.0", vec![]).await, None);

        // A package in `processing` is not downloadable.
        let mut p = publish(project, "Tool", "1.0", "tool.bin", DuplicatePolicy::Allow);
        p.status_override = Some(PackageStatus::Processing);
        cat.publish_file(p).await.unwrap();
        assert_eq!(find("tool.bin", "1.0", downloadable).await, None);
        assert!(find("tool.bin", "1.0", vec![PackageStatus::Processing])
            .await
            .is_some());
    }

    pub async fn blob_references_and_files_after_follow_the_rows(cat: DbCatalog) {
        let project = project(&cat).await;
        let (pkg, f1) = cat
            .publish_file(publish(project, "b", "1", "one", DuplicatePolicy::Allow))
            .await
            .unwrap();
        let (_, f2) = cat
            .publish_file(publish(project, "b", "1", "three", DuplicatePolicy::Allow))
            .await
            .unwrap();
        let (_, f3) = cat
            .publish_file(publish(project, "b", "2", "seven", DuplicatePolicy::Allow))
            .await
            .unwrap();

        assert!(cat.is_blob_referenced(&f1.sha256).await.unwrap());
        assert!(!cat.is_blob_referenced(&digests(99).sha256).await.unwrap());

        let ids = |files: Vec<PackageFile>| files.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(
            ids(cat.package_files_after(PackageFileId(0), 10).await.unwrap()),
            vec![f1.id, f2.id, f3.id]
        );
        assert_eq!(
            ids(cat.package_files_after(f1.id, 1).await.unwrap()),
            vec![f2.id]
        );
        assert!(cat.package_files_after(f3.id, 10).await.unwrap().is_empty());

        assert!(cat.delete_package_file(pkg.id, f1.id).await.unwrap());
        assert!(!cat.is_blob_referenced(&f1.sha256).await.unwrap());
    }

    async fn revision_of(cat: &DbCatalog, project: ProjectId, name: Option<&str>) -> i64 {
        let revs = cat
            .package_revisions(&[project], "generic", name)
            .await
            .unwrap();
        revs.first().map_or(0, |r| r.revision)
    }

    pub async fn revisions_move_with_every_change_to_a_name(cat: DbCatalog) {
        let project = project(&cat).await;
        assert_eq!(revision_of(&cat, project, Some("lib")).await, 0);
        let (pkg, file) = cat
            .publish_file(publish(project, "Lib", "1.0", "a", DuplicatePolicy::Allow))
            .await
            .unwrap();
        let mut seen = vec![revision_of(&cat, project, Some("lib")).await];
        let list_before = revision_of(&cat, project, None).await;
        assert!(seen[0] > 0 && list_before > 0);

        // Each kind of change bumps the name's revision (and the list's).
        cat.update_package(
            pkg.id,
            PackageUpdate {
                status: None,
                metadata: Some(serde_json::json!({ "yanked": true })),
            },
        )
        .await
        .unwrap()
        .expect("package exists");
        seen.push(revision_of(&cat, project, Some("lib")).await);
        assert!(cat
            .update_package_file_metadata(pkg.id, file.id, serde_json::json!({ "x": 1 }))
            .await
            .unwrap());
        seen.push(revision_of(&cat, project, Some("lib")).await);
        cat.set_package_tag(pkg.id, "latest").await.unwrap();
        seen.push(revision_of(&cat, project, Some("lib")).await);
        assert!(cat
            .delete_package_tag(project, "generic", "lib", "latest")
            .await
            .unwrap());
        seen.push(revision_of(&cat, project, Some("lib")).await);
        assert!(cat.delete_package_file(pkg.id, file.id).await.unwrap());
        seen.push(revision_of(&cat, project, Some("lib")).await);
        assert!(cat.delete_package(pkg.id).await.unwrap());
        seen.push(revision_of(&cat, project, Some("lib")).await);
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "every change bumps: {seen:?}"
        );
        assert!(revision_of(&cat, project, None).await > list_before);

        // Another name is untouched; a miss changes nothing.
        assert_eq!(revision_of(&cat, project, Some("other")).await, 0);
        assert!(!cat
            .delete_package_tag(project, "generic", "lib", "nope")
            .await
            .unwrap());
        assert_eq!(revision_of(&cat, project, Some("lib")).await, seen[6]);
        assert!(cat
            .update_package(PackageId(999_999), PackageUpdate::default())
            .await
            .unwrap()
            .is_none());
    }

    pub async fn tags_move_between_versions_of_one_name(cat: DbCatalog) {
        let project = project(&cat).await;
        let (v1, _) = cat
            .publish_file(publish(project, "lib", "1.0", "a", DuplicatePolicy::Allow))
            .await
            .unwrap();
        let (v2, _) = cat
            .publish_file(publish(project, "lib", "2.0", "a", DuplicatePolicy::Allow))
            .await
            .unwrap();
        let (other, _) = cat
            .publish_file(publish(
                project,
                "other",
                "1.0",
                "a",
                DuplicatePolicy::Allow,
            ))
            .await
            .unwrap();
        cat.set_package_tag(v1.id, "latest").await.unwrap();
        cat.set_package_tag(v1.id, "stable").await.unwrap();
        cat.set_package_tag(other.id, "latest").await.unwrap();
        cat.set_package_tag(v2.id, "latest").await.unwrap();
        assert_eq!(
            cat.package_tags_by_name(project, "generic", "lib")
                .await
                .unwrap(),
            vec![("latest".to_string(), v2.id), ("stable".to_string(), v1.id)]
        );
        // The other name keeps its own `latest`.
        assert_eq!(
            cat.package_tags_by_name(project, "generic", "other")
                .await
                .unwrap(),
            vec![("latest".to_string(), other.id)]
        );
        // Setting the same tag again is idempotent.
        cat.set_package_tag(v2.id, "latest").await.unwrap();
        assert_eq!(cat.package_tags(v2.id).await.unwrap().len(), 1);
        assert!(matches!(
            cat.set_package_tag(PackageId(999_999), "x").await,
            Err(CatalogError::NotFound)
        ));
    }

    pub async fn names_files_and_group_trees_for_index_documents(cat: DbCatalog) {
        let top = cat.create_group(new_group("top", None)).await.unwrap();
        let sub = cat
            .create_group(new_group("sub", Some(top.id)))
            .await
            .unwrap();
        let subsub = cat
            .create_group(new_group("deeper", Some(sub.id)))
            .await
            .unwrap();
        let elsewhere = cat
            .create_group(new_group("elsewhere", None))
            .await
            .unwrap();
        let p1 = cat
            .create_project(new_project("one", Namespace::Group(top.id)))
            .await
            .unwrap();
        let p2 = cat
            .create_project(new_project("two", Namespace::Group(subsub.id)))
            .await
            .unwrap();
        cat.create_project(new_project("three", Namespace::Group(elsewhere.id)))
            .await
            .unwrap();
        let ids = |ps: Vec<Project>| ps.into_iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(
            ids(cat.projects_in_group_tree(top.id).await.unwrap()),
            vec![p1.id, p2.id]
        );
        assert_eq!(
            ids(cat.projects_in_group_tree(sub.id).await.unwrap()),
            vec![p2.id]
        );

        let mut first = publish(p1.id, "My.Lib", "1.0", "a", DuplicatePolicy::Allow);
        first.package.normalized_name = "my-lib".into();
        let (a, fa) = cat.publish_file(first).await.unwrap();
        let mut second = publish(p1.id, "my_lib", "2.0", "b", DuplicatePolicy::Allow);
        second.package.normalized_name = "my-lib".into();
        let (b, fb) = cat.publish_file(second).await.unwrap();
        let mut third = publish(p2.id, "MY-LIB", "3.0", "c", DuplicatePolicy::Allow);
        third.package.normalized_name = "my-lib".into();
        let (c, _) = cat.publish_file(third).await.unwrap();
        let (z, _) = cat
            .publish_file(publish(p2.id, "zeta", "1.0", "z", DuplicatePolicy::Allow))
            .await
            .unwrap();
        cat.update_package(
            z.id,
            PackageUpdate {
                status: Some(PackageStatus::Hidden),
                metadata: None,
            },
        )
        .await
        .unwrap();

        let names = cat.package_names(&[p1.id, p2.id], "generic").await.unwrap();
        let shown: Vec<(i64, &str, &str)> = names
            .iter()
            .map(|n| (n.project_id.0, n.name.as_str(), n.normalized_name.as_str()))
            .collect();
        // The first spelling per project; the hidden package is not listed.
        assert_eq!(
            shown,
            vec![(p1.id.0, "My.Lib", "my-lib"), (p2.id.0, "MY-LIB", "my-lib")]
        );
        let across = cat
            .packages_by_name_in(&[p1.id, p2.id], "generic", "my-lib")
            .await
            .unwrap();
        assert_eq!(
            across.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![a.id, b.id, c.id]
        );
        let files = cat.package_files_of(&[b.id, a.id]).await.unwrap();
        assert_eq!(files, vec![fa, fb]);
        assert!(cat.package_files_of(&[]).await.unwrap().is_empty());
        // Where a name is held, whatever the status, each project once, by id.
        assert_eq!(
            cat.projects_with_package("generic", "my-lib")
                .await
                .unwrap(),
            vec![p1.id, p2.id]
        );
        assert_eq!(
            cat.projects_with_package("generic", "zeta").await.unwrap(),
            vec![p2.id]
        );
        assert!(cat
            .projects_with_package("npm", "my-lib")
            .await
            .unwrap()
            .is_empty());
    }

    pub async fn instance_settings_default_then_round_trip(cat: DbCatalog) {
        assert_eq!(
            cat.instance_settings().await.unwrap(),
            InstanceSettings::default()
        );
        let off = InstanceSettings {
            package_registry_allow_anyone_to_pull_option: false,
        };
        cat.set_instance_settings(&off).await.unwrap();
        assert_eq!(cat.instance_settings().await.unwrap(), off);
        // Writing again updates the row rather than adding one.
        cat.set_instance_settings(&InstanceSettings::default())
            .await
            .unwrap();
        assert_eq!(
            cat.instance_settings().await.unwrap(),
            InstanceSettings::default()
        );
    }
}

#[test]
fn like_patterns_escape_wildcards_and_lowercase() {
    assert_eq!(super::contains_pattern("Foo"), "%foo%");
    assert_eq!(super::contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
}
