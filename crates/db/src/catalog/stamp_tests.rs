//! The change stamp (`Catalog::change_stamp`): on SQLite it must move with every commit, from
//! any connection of this catalog, of another catalog on the same file (another process) or
//! of a plain connection, and stay put while only reads happen. The core keeps rows under it,
//! so a commit it missed would serve stale answers. PostgreSQL has no stamp.
#![allow(clippy::unwrap_used)]

use diesel::connection::SimpleConnection;
use diesel::Connection;
use packyard_core::ports::Catalog;

use super::tests::{new_project, new_user, on_each_backend};
use crate::{Backend, DbCatalog};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_stamp_moves_with_every_commit_from_any_connection_and_only_then() {
    on_each_backend("change_stamp", |cat: DbCatalog| async move {
        let path = match cat.backend().clone() {
            Backend::Sqlite { path } => path,
            Backend::Postgres { .. } => {
                assert_eq!(Catalog::change_stamp(&cat).unwrap(), None);
                return;
            }
        };
        let stamp = || Catalog::change_stamp(&cat).unwrap().unwrap();
        // Stamps come from several connections (read in turn here): every read after a
        // commit must differ from every read before it, whichever connection answers.
        let mut seen = std::collections::BTreeSet::new();
        let reads_after_commit = |what: &str, seen: &mut std::collections::BTreeSet<u64>| {
            let now: Vec<u64> = (0..16).map(|_| stamp()).collect();
            for s in &now {
                assert!(!seen.contains(s), "{what}: {s} was read before the commit");
            }
            // Once each connection has seen the commit, the stamp stays put.
            assert!(now[8..].iter().all(|s| *s == now[15]), "{what}: {now:?}");
            seen.extend(now);
        };
        reads_after_commit("start", &mut seen);

        let user = cat.create_user(new_user("ann")).await.unwrap();
        reads_after_commit("a commit through the pool", &mut seen);
        let settled = stamp();
        for _ in 0..3 {
            cat.user_by_id(user.id).await.unwrap();
            cat.instance_settings().await.unwrap();
        }
        assert_eq!(stamp(), settled, "reads commit nothing");

        // Another process: a second catalog on the same file.
        let other = DbCatalog::connect(&format!("sqlite://{path}"), 2).unwrap();
        other
            .create_project(new_project(
                "tools",
                packyard_core::model::Namespace::User(user.id),
            ))
            .await
            .unwrap();
        reads_after_commit("a commit by another catalog on the same file", &mut seen);

        // Any writer at all: a plain connection outside both pools.
        let mut plain = diesel::sqlite::SqliteConnection::establish(&path).unwrap();
        plain
            .batch_execute(
                "PRAGMA busy_timeout = 10000; \
                 UPDATE users SET name = 'Ann' WHERE username = 'ann';",
            )
            .unwrap();
        reads_after_commit("a commit by a plain connection", &mut seen);
    })
    .await;
}
