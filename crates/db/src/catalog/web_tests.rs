//! Catalog tests of the web UI's sessions, shared secrets and sign-in throttling (web.rs),
//! on SQLite and, when `PACKYARD_TEST_POSTGRES_URL` is set, on PostgreSQL.
#![allow(clippy::unwrap_used)]

use packyard_core::model::*;
use packyard_core::ports::Catalog;

use super::tests::{new_user, on_each_backend};
use crate::DbCatalog;

macro_rules! catalog_test {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            on_each_backend(stringify!($name), bodies::$name).await;
        }
    };
}

catalog_test!(shared_secret_is_created_once_and_then_kept);
catalog_test!(sessions_are_found_until_they_expire_or_are_deleted);
catalog_test!(login_failures_count_in_a_window_and_lock);

mod bodies {
    use super::*;

    pub async fn shared_secret_is_created_once_and_then_kept(cat: DbCatalog) {
        let first = cat.shared_secret("cookie", "aaa".into()).await.unwrap();
        assert_eq!(first, "aaa");
        let again = cat.shared_secret("cookie", "bbb".into()).await.unwrap();
        assert_eq!(again, "aaa", "a second process gets the stored secret");
        let other = cat.shared_secret("other", "ccc".into()).await.unwrap();
        assert_eq!(other, "ccc");
    }

    pub async fn sessions_are_found_until_they_expire_or_are_deleted(cat: DbCatalog) {
        let user = cat.create_user(new_user("alice")).await.unwrap();
        let s = WebSession {
            id_digest: "d1".into(),
            user_id: user.id,
            csrf_token: "csrf".into(),
            created_at: 1_000,
            expires_at: 5_000,
        };
        cat.create_web_session(&s).await.unwrap();
        assert_eq!(cat.web_session("d1", 4_999).await.unwrap(), Some(s.clone()));
        assert_eq!(cat.web_session("d1", 5_000).await.unwrap(), None, "expired");
        assert_eq!(cat.web_session("nope", 1_000).await.unwrap(), None);
        let s2 = WebSession {
            id_digest: "d2".into(),
            expires_at: 9_000,
            ..s.clone()
        };
        cat.create_web_session(&s2).await.unwrap();
        assert_eq!(cat.delete_expired_web_sessions(6_000).await.unwrap(), 1);
        assert_eq!(cat.web_session("d2", 6_000).await.unwrap(), Some(s2));
        cat.delete_web_session("d2").await.unwrap();
        assert_eq!(cat.web_session("d2", 6_000).await.unwrap(), None);
    }

    pub async fn login_failures_count_in_a_window_and_lock(cat: DbCatalog) {
        assert_eq!(
            cat.login_failures("Bob").await.unwrap(),
            LoginFailures::default()
        );
        let (window, max, lockout) = (10_000, 3, 60_000);
        let a = cat
            .record_login_failure("Bob", 1_000, window, max, lockout)
            .await
            .unwrap();
        assert_eq!((a.failures, a.locked_until), (1, None));
        cat.record_login_failure("bob", 2_000, window, max, lockout)
            .await
            .unwrap();
        let c = cat
            .record_login_failure("BOB", 3_000, window, max, lockout)
            .await
            .unwrap();
        assert_eq!((c.failures, c.locked_until), (3, Some(63_000)));
        assert_eq!(cat.login_failures("bob").await.unwrap(), c);
        // Past the window the count starts again.
        let d = cat
            .record_login_failure("bob", 20_000, window, max, lockout)
            .await
            .unwrap();
        assert_eq!(
            (d.failures, d.first_failed_at, d.locked_until),
            (1, 20_000, None)
        );
        cat.clear_login_failures("Bob").await.unwrap();
        assert_eq!(
            cat.login_failures("bob").await.unwrap(),
            LoginFailures::default()
        );
    }
}
