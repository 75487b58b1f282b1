//! Catalog tests of the web UI's sessions, shared secrets and sign-in throttling
//! (sessions.rs, logins.rs), on SQLite and, when `PACKYARD_TEST_POSTGRES_URL` is set, on
//! PostgreSQL.
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
catalog_test!(login_attempts_count_in_a_window_lock_past_the_limit_and_clear);
catalog_test!(concurrent_login_attempts_never_exceed_the_limit);
catalog_test!(a_new_password_or_deleting_the_user_ends_their_sessions);
catalog_test!(blocking_a_user_ends_their_sessions_and_unblocking_keeps_the_rest);

mod bodies {
    use super::*;
    use std::sync::Arc;

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

    const LIMITS: LoginLimits = LoginLimits {
        max_attempts: 3,
        window: 10_000,
        lockout: 60_000,
    };

    pub async fn login_attempts_count_in_a_window_lock_past_the_limit_and_clear(cat: DbCatalog) {
        assert_eq!(
            cat.login_failures("Bob").await.unwrap(),
            LoginFailures::default()
        );
        let a = cat
            .reserve_login_attempt("Bob", 1_000, LIMITS)
            .await
            .unwrap();
        assert_eq!(
            (a.failures, a.first_failed_at, a.locked_until),
            (1, 1_000, None)
        );
        assert!(a.allows(LIMITS));
        cat.reserve_login_attempt("bob", 2_000, LIMITS)
            .await
            .unwrap();
        let c = cat
            .reserve_login_attempt("BOB", 3_000, LIMITS)
            .await
            .unwrap();
        assert_eq!((c.failures, c.locked_until), (3, None));
        assert!(c.allows(LIMITS), "the third of three is still checked");
        let d = cat
            .reserve_login_attempt("bob", 4_000, LIMITS)
            .await
            .unwrap();
        assert_eq!((d.failures, d.locked_until), (4, Some(64_000)));
        assert!(
            !d.allows(LIMITS),
            "the fourth is refused and locks the name"
        );
        // Refused attempts do not push the lockout further; the window alone does not end it.
        let e = cat
            .reserve_login_attempt("bob", 30_000, LIMITS)
            .await
            .unwrap();
        assert_eq!(e.locked_until, Some(64_000));
        assert!(!e.allows(LIMITS));
        assert_eq!(cat.login_failures("bob").await.unwrap(), e);
        // Once the lockout is over the count starts again.
        let f = cat
            .reserve_login_attempt("bob", 64_000, LIMITS)
            .await
            .unwrap();
        assert_eq!(
            (f.failures, f.first_failed_at, f.locked_until),
            (1, 64_000, None)
        );
        // Past the window the count starts again too.
        let g = cat
            .reserve_login_attempt("bob", 80_000, LIMITS)
            .await
            .unwrap();
        assert_eq!((g.failures, g.first_failed_at), (1, 80_000));
        // A released attempt is given back; a success clears everything.
        cat.reserve_login_attempt("bob", 80_001, LIMITS)
            .await
            .unwrap();
        cat.release_login_attempt("bob").await.unwrap();
        assert_eq!(cat.login_failures("bob").await.unwrap().failures, 1);
        cat.clear_login_failures("Bob").await.unwrap();
        assert_eq!(
            cat.login_failures("bob").await.unwrap(),
            LoginFailures::default()
        );
        // Other names have their own count.
        let other = cat
            .reserve_login_attempt("carol", 80_000, LIMITS)
            .await
            .unwrap();
        assert_eq!(other.failures, 1);
    }

    pub async fn concurrent_login_attempts_never_exceed_the_limit(cat: DbCatalog) {
        const N: usize = 40;
        let limits = LoginLimits {
            max_attempts: 5,
            ..LIMITS
        };
        let start = Arc::new(std::sync::Barrier::new(N));
        // OS threads, each on its own pooled connection, released at once.
        let runtime = tokio::runtime::Handle::current();
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let (cat, start, runtime) = (cat.clone(), start.clone(), runtime.clone());
                std::thread::spawn(move || {
                    start.wait();
                    runtime
                        .block_on(cat.reserve_login_attempt("mallory", 1_000, limits))
                        .unwrap()
                })
            })
            .collect();
        let mut counts: Vec<i64> = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .map(|f| f.failures)
            .collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=N as i64).collect::<Vec<_>>(),
            "every attempt got its own count"
        );
        let allowed = counts.iter().filter(|c| **c <= limits.max_attempts).count();
        assert_eq!(allowed, 5);
        let row = cat.login_failures("mallory").await.unwrap();
        assert_eq!(row.locked_until, Some(1_000 + limits.lockout));
    }

    pub async fn a_new_password_or_deleting_the_user_ends_their_sessions(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let bob = cat.create_user(new_user("bob")).await.unwrap();
        let session = |digest: &str, user: UserId| WebSession {
            id_digest: digest.into(),
            user_id: user,
            csrf_token: "csrf".into(),
            created_at: 1_000,
            expires_at: i64::MAX,
        };
        for (d, u) in [("a1", alice.id), ("a2", alice.id), ("b1", bob.id)] {
            cat.create_web_session(&session(d, u)).await.unwrap();
        }
        // Changing something else keeps the sessions.
        let rename = UserUpdate {
            name: Some("Alice A.".into()),
            ..UserUpdate::default()
        };
        cat.update_user(alice.id, rename).await.unwrap();
        assert!(cat.web_session("a1", 2_000).await.unwrap().is_some());
        let new_password = UserUpdate {
            password_hash: Some("$argon2id$v=19$new".into()),
            ..UserUpdate::default()
        };
        cat.update_user(alice.id, new_password).await.unwrap();
        assert_eq!(cat.web_session("a1", 2_000).await.unwrap(), None);
        assert_eq!(cat.web_session("a2", 2_000).await.unwrap(), None);
        assert!(
            cat.web_session("b1", 2_000).await.unwrap().is_some(),
            "other users stay signed in"
        );
        assert!(cat.delete_user(bob.id).await.unwrap());
        assert_eq!(cat.web_session("b1", 2_000).await.unwrap(), None);

        cat.create_web_session(&session("a3", alice.id))
            .await
            .unwrap();
        assert_eq!(cat.delete_user_web_sessions(alice.id).await.unwrap(), 1);
        assert_eq!(cat.web_session("a3", 2_000).await.unwrap(), None);
    }

    pub async fn blocking_a_user_ends_their_sessions_and_unblocking_keeps_the_rest(cat: DbCatalog) {
        let alice = cat.create_user(new_user("alice")).await.unwrap();
        let bob = cat.create_user(new_user("bob")).await.unwrap();
        assert_eq!(alice.state, UserState::Active, "new users are active");
        let session = |digest: &str, user: UserId| WebSession {
            id_digest: digest.into(),
            user_id: user,
            csrf_token: "csrf".into(),
            created_at: 1_000,
            expires_at: i64::MAX,
        };
        for (d, u) in [("a1", alice.id), ("a2", alice.id), ("b1", bob.id)] {
            cat.create_web_session(&session(d, u)).await.unwrap();
        }
        let blocked = cat
            .set_user_state(alice.id, UserState::Blocked)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(blocked.state, UserState::Blocked);
        assert!(blocked.is_blocked());
        assert_eq!(cat.web_session("a1", 2_000).await.unwrap(), None);
        assert_eq!(cat.web_session("a2", 2_000).await.unwrap(), None);
        assert!(
            cat.web_session("b1", 2_000).await.unwrap().is_some(),
            "other users stay signed in"
        );
        // Read back from every lookup, not only from the write's answer.
        let by_id = cat.user_by_id(alice.id).await.unwrap().unwrap();
        assert_eq!(by_id.state, UserState::Blocked);
        let by_name = cat.user_by_username("ALICE").await.unwrap().unwrap();
        assert_eq!(by_name.state, UserState::Blocked);
        // Blocking twice is no error and changes nothing more.
        let again = cat.set_user_state(alice.id, UserState::Blocked).await;
        assert_eq!(again.unwrap().unwrap().state, UserState::Blocked);

        // Unblocking does not bring sessions back, and does not end anyone's.
        cat.create_web_session(&session("b2", bob.id))
            .await
            .unwrap();
        let active = cat
            .set_user_state(alice.id, UserState::Active)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(active.state, UserState::Active);
        assert_eq!(cat.web_session("a1", 2_000).await.unwrap(), None);
        assert!(cat.web_session("b2", 2_000).await.unwrap().is_some());
        let unblocking_bob = cat.set_user_state(bob.id, UserState::Active).await;
        assert_eq!(unblocking_bob.unwrap().unwrap().state, UserState::Active);
        assert!(
            cat.web_session("b2", 2_000).await.unwrap().is_some(),
            "unblocking an active user signs nobody out"
        );

        assert_eq!(
            cat.set_user_state(UserId(9_999), UserState::Blocked)
                .await
                .unwrap(),
            None,
            "no such user"
        );
    }
}
