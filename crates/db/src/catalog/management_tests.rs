//! Catalog tests of the management queries (listings, updates, cascading deletes), on
//! SQLite always and on PostgreSQL when `PACKYARD_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use packyard_core::model::*;
use packyard_core::ports::{Catalog, CatalogError, DuplicatePolicy};

use super::tests::{digests, new_group, new_project, new_user, on_each_backend, publish};
use crate::DbCatalog;

macro_rules! management_test {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            on_each_backend(stringify!($name), bodies::$name).await;
        }
    };
}

management_test!(project_listings_apply_reach_search_order_and_pages);
management_test!(group_listings_follow_membership_and_the_tree);
management_test!(deleting_a_project_removes_packages_members_and_tokens);
management_test!(deleting_a_user_takes_personal_projects_tokens_and_memberships);
management_test!(deleting_a_group_takes_subgroups_and_their_projects);
management_test!(renaming_a_group_moves_every_full_path_below_it);
management_test!(rotation_revokes_the_old_token_exactly_once);
management_test!(inherited_members_keep_each_users_highest_level);
management_test!(token_and_deploy_token_listings_filter_and_count);
management_test!(a_path_taken_in_another_case_is_refused_at_every_level);
management_test!(a_foreign_subtree_never_moves_with_a_rename);
management_test!(blocked_users_are_listed_by_state_and_keep_their_memberships);
management_test!(concurrent_user_and_group_of_one_name_end_with_exactly_one);
management_test!(renaming_moves_exactly_its_own_subtree);
management_test!(listings_reach_nothing_of_another_tenant_with_a_lookalike_path);
management_test!(lookups_by_path_and_username_ignore_case);
management_test!(a_username_and_a_top_level_group_share_one_namespace);
management_test!(migrating_a_catalog_with_case_clashes_names_them_and_changes_nothing);

fn offset(page: i64, per_page: i64) -> ListOptions {
    ListOptions {
        order: ListOrder::Id,
        descending: false,
        paging: Paging::Offset(Page { page, per_page }),
    }
}

fn everything() -> Reach {
    Reach {
        everything: true,
        ..Reach::default()
    }
}

async fn project(cat: &DbCatalog, path: &str, ns: Namespace, v: Visibility) -> Project {
    cat.create_project(NewProject {
        visibility: v,
        ..new_project(path, ns)
    })
    .await
    .unwrap()
}

async fn group(cat: &DbCatalog, path: &str, parent: Option<GroupId>, v: Visibility) -> Group {
    cat.create_group(NewGroup {
        visibility: v,
        ..new_group(path, parent)
    })
    .await
    .unwrap()
}

fn paths(projects: &[Project]) -> Vec<&str> {
    projects.iter().map(|p| p.full_path.as_str()).collect()
}

mod bodies {
    use super::*;

    pub async fn project_listings_apply_reach_search_order_and_pages(cat: DbCatalog) {
        let u = cat.create_user(new_user("una")).await.unwrap();
        let g = group(&cat, "g", None, Visibility::Public).await;
        let sub = group(&cat, "sub_1", Some(g.id), Visibility::Private).await;
        let other = group(&cat, "sub%1", Some(g.id), Visibility::Private).await;
        let public = project(&cat, "pub", Namespace::Group(g.id), Visibility::Public).await;
        let internal = project(&cat, "int", Namespace::Group(g.id), Visibility::Internal).await;
        let hidden = project(
            &cat,
            "hidden",
            Namespace::Group(sub.id),
            Visibility::Private,
        )
        .await;
        let _elsewhere = project(&cat, "x", Namespace::Group(other.id), Visibility::Private).await;
        let mine = project(&cat, "mine", Namespace::User(u.id), Visibility::Private).await;

        let list = |reach: Reach| {
            let cat = &cat;
            async move {
                cat.list_projects(
                    ProjectFilter {
                        reach,
                        ..ProjectFilter::default()
                    },
                    offset(1, 100),
                )
                .await
                .unwrap()
            }
        };
        let anonymous = list(Reach {
            min_visibility: Some(Visibility::Public),
            ..Reach::default()
        })
        .await;
        assert_eq!(paths(&anonymous.items), ["g/pub"]);
        assert_eq!(anonymous.total, Some(1));

        // A member of `g/sub_1` sees its projects, and `_` in the path is no wildcard:
        // `g/sub%1/x` stays hidden.
        let member = list(Reach {
            min_visibility: Some(Visibility::Internal),
            group_ids: vec![sub.id],
            owner: Some(u.id),
            ..Reach::default()
        })
        .await;
        assert_eq!(
            paths(&member.items),
            ["g/pub", "g/int", "g/sub_1/hidden", "una/mine"]
        );
        let membership_only = list(Reach {
            project_ids: vec![internal.id],
            ..Reach::default()
        })
        .await;
        assert_eq!(paths(&membership_only.items), ["g/int"]);
        assert_eq!(list(everything()).await.items.len(), 5);

        // Search, visibility filter, the group tree.
        let found = cat
            .list_projects(
                ProjectFilter {
                    reach: everything(),
                    search: Some("HID".into()),
                    ..ProjectFilter::default()
                },
                offset(1, 10),
            )
            .await
            .unwrap();
        assert_eq!(paths(&found.items), ["g/sub_1/hidden"]);
        let tree = cat
            .list_projects(
                ProjectFilter {
                    reach: everything(),
                    group: Some(g.id),
                    include_subgroups: true,
                    visibility: Some(Visibility::Private),
                    ..ProjectFilter::default()
                },
                offset(1, 10),
            )
            .await
            .unwrap();
        assert_eq!(tree.total, Some(2));

        // Offset pages by name, descending; keyset pages by id.
        let by_name = cat
            .list_projects(
                ProjectFilter {
                    reach: everything(),
                    ..ProjectFilter::default()
                },
                ListOptions {
                    order: ListOrder::Name,
                    descending: true,
                    paging: Paging::Offset(Page {
                        page: 2,
                        per_page: 2,
                    }),
                },
            )
            .await
            .unwrap();
        assert_eq!(by_name.total, Some(5));
        assert_eq!(paths(&by_name.items), ["una/mine", "g/int"]);
        let keyset = cat
            .list_projects(
                ProjectFilter {
                    reach: everything(),
                    ..ProjectFilter::default()
                },
                ListOptions {
                    order: ListOrder::Id,
                    descending: false,
                    paging: Paging::Keyset {
                        per_page: 2,
                        after_id: Some(internal.id.0),
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(keyset.total, None);
        assert_eq!(
            keyset.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            [hidden.id, _elsewhere.id]
        );
        let _ = (public, mine);
    }

    pub async fn group_listings_follow_membership_and_the_tree(cat: DbCatalog) {
        let top = group(&cat, "top", None, Visibility::Public).await;
        let a = group(&cat, "a", Some(top.id), Visibility::Private).await;
        let _deep = group(&cat, "deep", Some(a.id), Visibility::Private).await;
        let _b = group(&cat, "b", Some(top.id), Visibility::Internal).await;
        let _alone = group(&cat, "alone", None, Visibility::Private).await;
        let list = |filter: GroupFilter| {
            let cat = &cat;
            async move {
                cat.list_groups(filter, offset(1, 100))
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|g| g.full_path)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(GroupFilter {
                reach: Reach {
                    min_visibility: Some(Visibility::Internal),
                    group_ids: vec![a.id],
                    ..Reach::default()
                },
                ..GroupFilter::default()
            })
            .await,
            ["top", "top/a", "top/a/deep", "top/b"]
        );
        assert_eq!(
            list(GroupFilter {
                reach: everything(),
                top_level_only: true,
                ..GroupFilter::default()
            })
            .await,
            ["top", "alone"]
        );
        assert_eq!(
            list(GroupFilter {
                reach: everything(),
                parent: Some(top.id),
                ..GroupFilter::default()
            })
            .await,
            ["top/a", "top/b"]
        );
        assert_eq!(
            list(GroupFilter {
                reach: everything(),
                descendants_of: Some(top.id),
                search: Some("EE".into()),
                ..GroupFilter::default()
            })
            .await,
            ["top/a/deep"]
        );
    }

    pub async fn deleting_a_project_removes_packages_members_and_tokens(cat: DbCatalog) {
        let u = cat.create_user(new_user("dora")).await.unwrap();
        let g = group(&cat, "grp", None, Visibility::Private).await;
        let p = project(&cat, "doomed", Namespace::Group(g.id), Visibility::Private).await;
        let keep = project(&cat, "keep", Namespace::Group(g.id), Visibility::Private).await;
        let (pkg, file) = cat
            .publish_file(publish(p.id, "a", "1.0", "a.bin", DuplicatePolicy::Allow))
            .await
            .unwrap();
        cat.set_package_tag(pkg.id, "latest").await.unwrap();
        cat.add_member(
            MemberSource::Project(p.id),
            u.id,
            AccessLevel::Developer,
            None,
        )
        .await
        .unwrap();
        let token = cat
            .create_deploy_token(NewDeployToken {
                owner: DeployTokenOwner::Project(p.id),
                name: "d".into(),
                username: None,
                scopes: vec!["read_package_registry".into()],
                expires_at: None,
                digest: "d1".into(),
            })
            .await
            .unwrap();
        cat.add_job_token_allowlist(keep.id, p.id).await.unwrap();
        cat.create_job_token(NewJobToken {
            project_id: p.id,
            user_id: u.id,
            build: BuildInfo {
                pipeline_id: 1,
                job_id: 1,
                git_ref: "main".into(),
                sha: "abc".into(),
            },
            expires_at: i64::MAX,
            digest: "j1".into(),
            origin: JobTokenOrigin::Session,
        })
        .await
        .unwrap();

        assert!(cat.delete_project(p.id).await.unwrap());
        assert!(!cat.delete_project(p.id).await.unwrap());
        assert!(cat.project_by_id(p.id).await.unwrap().is_none());
        assert!(cat.package_by_id(p.id, pkg.id).await.unwrap().is_none());
        assert!(!cat.is_blob_referenced(&file.sha256).await.unwrap());
        assert!(cat.deploy_token_by_id(token.id).await.unwrap().is_none());
        assert!(cat.job_token_by_digest("j1").await.unwrap().is_none());
        assert!(!cat.job_token_allowed(keep.id, p.id).await.unwrap());
        assert!(cat
            .member(MemberSource::Project(p.id), u.id)
            .await
            .unwrap()
            .is_none());
        assert!(cat.project_by_id(keep.id).await.unwrap().is_some());
        // The path is free again.
        project(&cat, "doomed", Namespace::Group(g.id), Visibility::Private).await;
    }

    pub async fn deleting_a_user_takes_personal_projects_tokens_and_memberships(cat: DbCatalog) {
        let u = cat.create_user(new_user("ursula")).await.unwrap();
        let other = cat.create_user(new_user("olga")).await.unwrap();
        let g = group(&cat, "team", None, Visibility::Private).await;
        let personal = project(&cat, "own", Namespace::User(u.id), Visibility::Private).await;
        let shared = cat
            .create_project(NewProject {
                creator_id: Some(u.id),
                ..new_project("shared", Namespace::Group(g.id))
            })
            .await
            .unwrap();
        cat.publish_file(publish(
            personal.id,
            "p",
            "1",
            "p.bin",
            DuplicatePolicy::Allow,
        ))
        .await
        .unwrap();
        cat.add_member(MemberSource::Group(g.id), u.id, AccessLevel::Owner, None)
            .await
            .unwrap();
        cat.add_member(
            MemberSource::Group(g.id),
            other.id,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        cat.create_personal_access_token(NewPersonalAccessToken {
            user_id: u.id,
            name: "t".into(),
            scopes: vec!["api".into()],
            expires_at: None,
            digest: "pat-u".into(),
        })
        .await
        .unwrap();

        assert!(cat.delete_user(u.id).await.unwrap());
        assert!(!cat.delete_user(u.id).await.unwrap());
        assert!(cat.user_by_id(u.id).await.unwrap().is_none());
        assert!(cat.project_by_id(personal.id).await.unwrap().is_none());
        assert!(cat
            .personal_access_token_by_digest("pat-u")
            .await
            .unwrap()
            .is_none());
        let kept = cat.project_by_id(shared.id).await.unwrap().unwrap();
        assert_eq!(kept.creator_id, None);
        let members = cat
            .list_members(
                MemberSource::Group(g.id),
                None,
                Page {
                    page: 1,
                    per_page: 20,
                },
            )
            .await
            .unwrap();
        assert_eq!(members.total, Some(1));
        assert_eq!(members.items[0].user.username, "olga");
    }

    pub async fn deleting_a_group_takes_subgroups_and_their_projects(cat: DbCatalog) {
        let top = group(&cat, "top", None, Visibility::Private).await;
        let mid = group(&cat, "mid", Some(top.id), Visibility::Private).await;
        let low = group(&cat, "low", Some(mid.id), Visibility::Private).await;
        let neighbour = group(&cat, "top2", None, Visibility::Private).await;
        let p = project(&cat, "p", Namespace::Group(low.id), Visibility::Private).await;
        let q = project(
            &cat,
            "q",
            Namespace::Group(neighbour.id),
            Visibility::Private,
        )
        .await;
        cat.publish_file(publish(p.id, "x", "1", "x.bin", DuplicatePolicy::Allow))
            .await
            .unwrap();
        assert!(cat.delete_group(mid.id).await.unwrap());
        assert!(cat.group_by_id(mid.id).await.unwrap().is_none());
        assert!(cat.group_by_id(low.id).await.unwrap().is_none());
        assert!(cat.project_by_id(p.id).await.unwrap().is_none());
        assert!(cat.group_by_id(top.id).await.unwrap().is_some());
        assert!(cat.project_by_id(q.id).await.unwrap().is_some());
        assert!(!cat.delete_group(mid.id).await.unwrap());
    }

    pub async fn renaming_a_group_moves_every_full_path_below_it(cat: DbCatalog) {
        let top = group(&cat, "old", None, Visibility::Public).await;
        let sub = group(&cat, "sub", Some(top.id), Visibility::Public).await;
        let p = project(&cat, "p", Namespace::Group(sub.id), Visibility::Public).await;
        let lookalike = group(&cat, "old-x", None, Visibility::Public).await;
        let renamed = cat
            .update_group(
                top.id,
                GroupUpdate {
                    path: Some("new".into()),
                    description: Some("moved".into()),
                    ..GroupUpdate::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renamed.full_path, "new");
        assert_eq!(renamed.description, "moved");
        assert_eq!(
            cat.group_by_id(sub.id).await.unwrap().unwrap().full_path,
            "new/sub"
        );
        assert_eq!(
            cat.project_by_id(p.id).await.unwrap().unwrap().full_path,
            "new/sub/p"
        );
        assert_eq!(
            cat.group_by_id(lookalike.id)
                .await
                .unwrap()
                .unwrap()
                .full_path,
            "old-x"
        );
        // A taken path is a conflict and changes nothing.
        let err = cat
            .update_group(
                top.id,
                GroupUpdate {
                    path: Some("old-x".into()),
                    ..GroupUpdate::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CatalogError::Conflict(_)), "{err:?}");
        assert_eq!(
            cat.project_by_id(p.id).await.unwrap().unwrap().full_path,
            "new/sub/p"
        );
        // Renaming a project and a user's namespace.
        let u = cat.create_user(new_user("nina")).await.unwrap();
        let mine = project(&cat, "mine", Namespace::User(u.id), Visibility::Private).await;
        cat.update_user(
            u.id,
            UserUpdate {
                username: Some("nora".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            cat.project_by_id(mine.id).await.unwrap().unwrap().full_path,
            "nora/mine"
        );
        let moved = cat
            .update_project(
                mine.id,
                ProjectUpdate {
                    path: Some("ours".into()),
                    registry_access: Some(RegistryAccess::Public),
                    ..ProjectUpdate::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(moved.full_path, "nora/ours");
        assert_eq!(moved.registry_access, RegistryAccess::Public);
    }

    pub async fn rotation_revokes_the_old_token_exactly_once(cat: DbCatalog) {
        let u = cat.create_user(new_user("rot")).await.unwrap();
        let new = |digest: &str| NewPersonalAccessToken {
            user_id: u.id,
            name: "t".into(),
            scopes: vec!["api".into()],
            expires_at: Some("2099-01-01".into()),
            digest: digest.into(),
        };
        let old = cat.create_personal_access_token(new("r0")).await.unwrap();
        let rotated = cat
            .rotate_personal_access_token(old.id, new("r1"))
            .await
            .unwrap();
        assert_ne!(rotated.id, old.id);
        assert!(!rotated.revoked);
        assert!(
            cat.personal_access_token_by_id(old.id)
                .await
                .unwrap()
                .unwrap()
                .revoked
        );
        let again = cat.rotate_personal_access_token(old.id, new("r2")).await;
        assert!(matches!(again, Err(CatalogError::Conflict(_))), "{again:?}");
        assert!(cat
            .personal_access_token_by_digest("r2")
            .await
            .unwrap()
            .is_none());
    }

    pub async fn inherited_members_keep_each_users_highest_level(cat: DbCatalog) {
        let a = cat.create_user(new_user("a")).await.unwrap();
        let b = cat.create_user(new_user("b")).await.unwrap();
        let c = cat.create_user(new_user("c")).await.unwrap();
        let top = group(&cat, "t", None, Visibility::Private).await;
        let sub = group(&cat, "s", Some(top.id), Visibility::Private).await;
        let p = project(&cat, "p", Namespace::Group(sub.id), Visibility::Private).await;
        cat.add_member(
            MemberSource::Group(top.id),
            a.id,
            AccessLevel::Maintainer,
            None,
        )
        .await
        .unwrap();
        cat.add_member(MemberSource::Project(p.id), a.id, AccessLevel::Guest, None)
            .await
            .unwrap();
        cat.add_member(
            MemberSource::Group(sub.id),
            b.id,
            AccessLevel::Reporter,
            None,
        )
        .await
        .unwrap();
        cat.add_member(
            MemberSource::Project(p.id),
            c.id,
            AccessLevel::Owner,
            Some("2000-01-01".into()),
        )
        .await
        .unwrap();
        let sources = vec![
            MemberSource::Project(p.id),
            MemberSource::Group(sub.id),
            MemberSource::Group(top.id),
        ];
        let all = cat
            .list_inherited_members(
                sources.clone(),
                "2026-01-01",
                Page {
                    page: 1,
                    per_page: 20,
                },
            )
            .await
            .unwrap();
        assert_eq!(all.total, Some(2));
        let levels: Vec<(&str, AccessLevel)> = all
            .items
            .iter()
            .map(|m| (m.user.username.as_str(), m.member.access_level))
            .collect();
        assert_eq!(
            levels,
            [("a", AccessLevel::Maintainer), ("b", AccessLevel::Reporter)]
        );
        let second = cat
            .list_inherited_members(
                sources,
                "2026-01-01",
                Page {
                    page: 2,
                    per_page: 1,
                },
            )
            .await
            .unwrap();
        assert_eq!(second.items[0].user.username, "b");

        let updated = cat
            .update_member(
                MemberSource::Project(p.id),
                a.id,
                AccessLevel::Developer,
                Some(Some("2030-01-01".into())),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.access_level, AccessLevel::Developer);
        assert_eq!(updated.expires_at.as_deref(), Some("2030-01-01"));
        assert!(cat
            .remove_member(MemberSource::Project(p.id), a.id)
            .await
            .unwrap());
        assert!(cat
            .update_member(MemberSource::Project(p.id), a.id, AccessLevel::Guest, None)
            .await
            .unwrap()
            .is_none());
        let memberships = cat.user_memberships(b.id, "2026-01-01").await.unwrap();
        assert_eq!(memberships.len(), 1);
        assert_eq!(memberships[0].group_path.as_deref(), Some("t/s"));
    }

    pub async fn token_and_deploy_token_listings_filter_and_count(cat: DbCatalog) {
        let u = cat.create_user(new_user("lister")).await.unwrap();
        let v = cat.create_user(new_user("viewer")).await.unwrap();
        for (i, (user, expires)) in [(u.id, None), (u.id, Some("2000-01-01")), (v.id, None)]
            .into_iter()
            .enumerate()
        {
            cat.create_personal_access_token(NewPersonalAccessToken {
                user_id: user,
                name: format!("token {i}"),
                scopes: vec!["api".into()],
                expires_at: expires.map(str::to_owned),
                digest: format!("list-{i}"),
            })
            .await
            .unwrap();
        }
        let list = |filter: TokenFilter| {
            let cat = &cat;
            async move {
                cat.list_personal_access_tokens(
                    filter,
                    Page {
                        page: 1,
                        per_page: 20,
                    },
                )
                .await
                .unwrap()
            }
        };
        let today = "2026-01-01".to_string();
        let mine = list(TokenFilter {
            user_id: Some(u.id),
            today: today.clone(),
            ..TokenFilter::default()
        })
        .await;
        assert_eq!(mine.total, Some(2));
        let active = list(TokenFilter {
            user_id: Some(u.id),
            active: Some(true),
            today: today.clone(),
            ..TokenFilter::default()
        })
        .await;
        assert_eq!(active.items.len(), 1);
        assert_eq!(active.items[0].name, "token 0");
        let inactive = list(TokenFilter {
            active: Some(false),
            today: today.clone(),
            search: Some("TOKEN 1".into()),
            ..TokenFilter::default()
        })
        .await;
        assert_eq!(inactive.total, Some(1));

        let g = group(&cat, "dg", None, Visibility::Private).await;
        let p = project(&cat, "dp", Namespace::Group(g.id), Visibility::Private).await;
        for (i, owner) in [
            DeployTokenOwner::Project(p.id),
            DeployTokenOwner::Group(g.id),
            DeployTokenOwner::Project(p.id),
        ]
        .into_iter()
        .enumerate()
        {
            cat.create_deploy_token(NewDeployToken {
                owner,
                name: format!("d{i}"),
                username: None,
                scopes: vec!["read_registry".into()],
                expires_at: (i == 2).then_some(1),
                digest: format!("dt-{i}"),
            })
            .await
            .unwrap();
        }
        let page = Page {
            page: 1,
            per_page: 20,
        };
        let of_project = cat
            .list_deploy_tokens(Some(DeployTokenOwner::Project(p.id)), false, page)
            .await
            .unwrap();
        assert_eq!(of_project.total, Some(2));
        let active = cat
            .list_deploy_tokens(Some(DeployTokenOwner::Project(p.id)), true, page)
            .await
            .unwrap();
        assert_eq!(active.total, Some(1));
        assert_eq!(
            cat.list_deploy_tokens(None, false, page)
                .await
                .unwrap()
                .total,
            Some(3)
        );
        let first = &of_project.items[0];
        assert!(cat.delete_deploy_token(first.id).await.unwrap());
        assert!(!cat.delete_deploy_token(first.id).await.unwrap());
        let _ = digests(0);
    }

    fn is_conflict<T: std::fmt::Debug>(r: Result<T, CatalogError>) -> bool {
        matches!(r, Err(CatalogError::Conflict(_)))
    }

    /// The victim's tree of the takeover in issue 12: `Secret`, `Secret/inner`, a private
    /// project in it, with `v` as Owner of `Secret`.
    async fn victim_tree(cat: &DbCatalog) -> (User, Group, Group, Project) {
        let v = cat.create_user(new_user("victor")).await.unwrap();
        let secret = group(cat, "Secret", None, Visibility::Private).await;
        let inner = group(cat, "inner", Some(secret.id), Visibility::Private).await;
        let pkgs = project(cat, "pkgs", Namespace::Group(inner.id), Visibility::Private).await;
        cat.add_member(
            MemberSource::Group(secret.id),
            v.id,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        (v, secret, inner, pkgs)
    }

    pub async fn a_path_taken_in_another_case_is_refused_at_every_level(cat: DbCatalog) {
        let (_, secret, inner, pkgs) = victim_tree(&cat).await;
        // The first step of the takeover: `secret` beside `Secret`.
        assert!(is_conflict(
            cat.create_group(new_group("secret", None)).await
        ));
        assert!(is_conflict(
            cat.create_group(new_group("SECRET", None)).await
        ));
        // A subgroup, a project, and either one against the other (one URL space).
        assert!(is_conflict(
            cat.create_group(new_group("INNER", Some(secret.id))).await
        ));
        assert!(is_conflict(
            cat.create_project(new_project("PKGS", Namespace::Group(inner.id)))
                .await
        ));
        assert!(is_conflict(
            cat.create_group(new_group("Pkgs", Some(inner.id))).await
        ));
        assert!(is_conflict(
            cat.create_project(new_project("Inner", Namespace::Group(secret.id)))
                .await
        ));
        // A rename into another's case is refused too, for groups and projects.
        let other = group(&cat, "other", None, Visibility::Private).await;
        assert!(is_conflict(
            cat.update_group(
                other.id,
                GroupUpdate {
                    path: Some("sECRET".into()),
                    ..GroupUpdate::default()
                },
            )
            .await
        ));
        let sibling = project(&cat, "sib", Namespace::Group(inner.id), Visibility::Private).await;
        assert!(is_conflict(
            cat.update_project(
                sibling.id,
                ProjectUpdate {
                    path: Some("PkGs".into()),
                    ..ProjectUpdate::default()
                },
            )
            .await
        ));
        // Nothing moved; a case-only rename of one's own path is fine.
        assert_eq!(
            cat.project_by_id(pkgs.id).await.unwrap().unwrap().full_path,
            "Secret/inner/pkgs"
        );
        let renamed = cat
            .update_group(
                inner.id,
                GroupUpdate {
                    path: Some("Inner".into()),
                    ..GroupUpdate::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renamed.full_path, "Secret/Inner");
        assert_eq!(
            cat.project_by_id(pkgs.id).await.unwrap().unwrap().full_path,
            "Secret/Inner/pkgs"
        );
    }

    pub async fn a_foreign_subtree_never_moves_with_a_rename(cat: DbCatalog) {
        let (_, _, inner, pkgs) = victim_tree(&cat).await;
        // Data from before the case-insensitive indexes: `secret` beside `Secret`. Crafted
        // here by dropping the indexes; the rename must still move only its own rows.
        cat.run(|conn| {
            use diesel::RunQueryDsl;
            for index in ["groups_full_path_ci", "projects_full_path_ci"] {
                diesel::sql_query(format!("DROP INDEX {index}"))
                    .execute(conn)
                    .map_err(CatalogError::backend)?;
            }
            Ok(())
        })
        .await
        .unwrap();
        cat.run(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "INSERT INTO groups (name, path, full_path, visibility, description, \
                     package_settings, created_at) \
                     VALUES ('secret', 'secret', 'secret', 'private', '', '{}', 0)",
            )
            .execute(conn)
            .map_err(CatalogError::backend)?;
            Ok(())
        })
        .await
        .unwrap();
        let mine = cat
            .list_groups(
                GroupFilter {
                    reach: everything(),
                    top_level_only: true,
                    search: Some("secret".into()),
                    ..GroupFilter::default()
                },
                offset(1, 10),
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|g| g.full_path == "secret")
            .unwrap();
        cat.update_group(
            mine.id,
            GroupUpdate {
                path: Some("mine".into()),
                ..GroupUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            cat.group_by_id(inner.id).await.unwrap().unwrap().full_path,
            "Secret/inner"
        );
        assert_eq!(
            cat.project_by_id(pkgs.id).await.unwrap().unwrap().full_path,
            "Secret/inner/pkgs"
        );
        // And a member of the lookalike reaches nothing of the victim's.
        let seen = cat
            .list_projects(
                ProjectFilter {
                    reach: Reach {
                        group_ids: vec![mine.id],
                        ..Reach::default()
                    },
                    ..ProjectFilter::default()
                },
                offset(1, 10),
            )
            .await
            .unwrap();
        assert!(seen.items.is_empty(), "{:?}", paths(&seen.items));
    }

    pub async fn renaming_moves_exactly_its_own_subtree(cat: DbCatalog) {
        let a = group(&cat, "a", None, Visibility::Private).await;
        let a_x = group(&cat, "x", Some(a.id), Visibility::Private).await;
        let a_x_y = group(&cat, "y", Some(a_x.id), Visibility::Private).await;
        let deep = project(
            &cat,
            "deep",
            Namespace::Group(a_x_y.id),
            Visibility::Private,
        )
        .await;
        let direct = project(&cat, "direct", Namespace::Group(a.id), Visibility::Private).await;
        // Siblings whose paths start like `a`'s or hold LIKE wildcards.
        let ab = group(&cat, "ab", None, Visibility::Private).await;
        let ab_x = group(&cat, "x", Some(ab.id), Visibility::Private).await;
        let ab_p = project(&cat, "p", Namespace::Group(ab.id), Visibility::Private).await;
        let under = group(&cat, "a_b", None, Visibility::Private).await;
        let percent = group(&cat, "a-b", None, Visibility::Private).await;
        let under_p = project(&cat, "q", Namespace::Group(under.id), Visibility::Private).await;
        let percent_p = project(&cat, "q", Namespace::Group(percent.id), Visibility::Private).await;

        cat.update_group(
            a.id,
            GroupUpdate {
                path: Some("z".into()),
                ..GroupUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        let group_path = |id: GroupId| {
            let cat = &cat;
            async move { cat.group_by_id(id).await.unwrap().unwrap().full_path }
        };
        let project_path = |id: ProjectId| {
            let cat = &cat;
            async move { cat.project_by_id(id).await.unwrap().unwrap().full_path }
        };
        assert_eq!(group_path(a_x.id).await, "z/x");
        assert_eq!(group_path(a_x_y.id).await, "z/x/y");
        assert_eq!(project_path(deep.id).await, "z/x/y/deep");
        assert_eq!(project_path(direct.id).await, "z/direct");
        assert_eq!(group_path(ab.id).await, "ab");
        assert_eq!(group_path(ab_x.id).await, "ab/x");
        assert_eq!(project_path(ab_p.id).await, "ab/p");

        // `a_b` renamed: `a-b` (which `a_b/%` would match as a pattern) stays.
        cat.update_group(
            under.id,
            GroupUpdate {
                path: Some("u".into()),
                ..GroupUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(project_path(under_p.id).await, "u/q");
        assert_eq!(project_path(percent_p.id).await, "a-b/q");

        // Renaming a subgroup moves its own tree only, under the parent's stored path.
        cat.update_group(
            a_x.id,
            GroupUpdate {
                path: Some("w".into()),
                ..GroupUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(group_path(a_x_y.id).await, "z/w/y");
        assert_eq!(project_path(deep.id).await, "z/w/y/deep");
        assert_eq!(project_path(direct.id).await, "z/direct");
        assert_eq!(group_path(ab_x.id).await, "ab/x");
    }

    pub async fn listings_reach_nothing_of_another_tenant_with_a_lookalike_path(cat: DbCatalog) {
        let (v, secret, inner, pkgs) = victim_tree(&cat).await;
        // The attacker's own group: as close to the victim's as the rules allow.
        let a = cat.create_user(new_user("mallory")).await.unwrap();
        let lookalike = group(&cat, "Secre", None, Visibility::Private).await;
        let lookalike_t = group(&cat, "Secret_", None, Visibility::Private).await;
        let _own = project(
            &cat,
            "own",
            Namespace::Group(lookalike.id),
            Visibility::Private,
        )
        .await;
        cat.add_member(
            MemberSource::Group(lookalike.id),
            a.id,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        cat.add_member(
            MemberSource::Group(lookalike_t.id),
            a.id,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        let attacker_reach = || Reach {
            min_visibility: Some(Visibility::Internal),
            group_ids: vec![lookalike.id, lookalike_t.id],
            owner: Some(a.id),
            ..Reach::default()
        };
        let groups = cat
            .list_groups(
                GroupFilter {
                    reach: attacker_reach(),
                    ..GroupFilter::default()
                },
                offset(1, 100),
            )
            .await
            .unwrap();
        let group_paths: Vec<_> = groups.items.iter().map(|g| g.full_path.as_str()).collect();
        assert_eq!(group_paths, ["Secre", "Secret_"]);
        let projects = cat
            .list_projects(
                ProjectFilter {
                    reach: attacker_reach(),
                    ..ProjectFilter::default()
                },
                offset(1, 100),
            )
            .await
            .unwrap();
        assert_eq!(paths(&projects.items), ["Secre/own"]);
        // Subgroups and the group's projects, as a tree, are the victim's tree only.
        let below = cat
            .list_groups(
                GroupFilter {
                    reach: everything(),
                    descendants_of: Some(lookalike.id),
                    ..GroupFilter::default()
                },
                offset(1, 100),
            )
            .await
            .unwrap();
        assert!(below.items.is_empty());
        let victims = cat
            .list_projects(
                ProjectFilter {
                    reach: Reach {
                        group_ids: vec![secret.id],
                        ..Reach::default()
                    },
                    group: Some(secret.id),
                    include_subgroups: true,
                    ..ProjectFilter::default()
                },
                offset(1, 100),
            )
            .await
            .unwrap();
        assert_eq!(paths(&victims.items), ["Secret/inner/pkgs"]);
        // Roles are inherited by id: the victim is Owner below, the attacker nothing.
        let today = "2026-12-01";
        assert_eq!(
            cat.effective_group_access_level(v.id, inner.id, today)
                .await
                .unwrap(),
            Some(AccessLevel::Owner)
        );
        assert_eq!(
            cat.effective_group_access_level(a.id, inner.id, today)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            cat.effective_access_level(a.id, pkgs.id, today)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn lookups_by_path_and_username_ignore_case(cat: DbCatalog) {
        let (v, secret, inner, pkgs) = victim_tree(&cat).await;
        assert_eq!(
            cat.group_by_full_path("SECRET")
                .await
                .unwrap()
                .map(|g| g.id),
            Some(secret.id)
        );
        assert_eq!(
            cat.group_by_full_path("secret/INNER")
                .await
                .unwrap()
                .map(|g| g.id),
            Some(inner.id)
        );
        assert_eq!(
            cat.project_by_full_path("sEcReT/inner/PKGS")
                .await
                .unwrap()
                .map(|p| p.id),
            Some(pkgs.id)
        );
        assert_eq!(
            cat.user_by_username("VICTOR").await.unwrap().map(|u| u.id),
            Some(v.id)
        );
        // `_` and `%` are characters, not patterns.
        assert!(cat.group_by_full_path("Secre_").await.unwrap().is_none());
        assert!(cat.group_by_full_path("Secre%").await.unwrap().is_none());
        // Usernames are unique case-insensitively too.
        assert!(is_conflict(cat.create_user(new_user("Victor")).await));
        let w = cat.create_user(new_user("walt")).await.unwrap();
        assert!(is_conflict(
            cat.update_user(
                w.id,
                UserUpdate {
                    username: Some("VICTOR".into()),
                    ..UserUpdate::default()
                },
            )
            .await
        ));
        // A case-only rename of one's own username is fine.
        let renamed = cat
            .update_user(
                w.id,
                UserUpdate {
                    username: Some("Walt".into()),
                    ..UserUpdate::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renamed.username, "Walt");
    }

    pub async fn a_username_and_a_top_level_group_share_one_namespace(cat: DbCatalog) {
        let alice = cat.create_user(new_user("Alice")).await.unwrap();
        assert!(is_conflict(
            cat.create_group(new_group("alice", None)).await
        ));
        let team = group(&cat, "team", None, Visibility::Private).await;
        // A subgroup of that name is elsewhere in the tree: fine.
        group(&cat, "alice", Some(team.id), Visibility::Private).await;
        assert!(is_conflict(
            cat.update_group(
                team.id,
                GroupUpdate {
                    path: Some("ALICE".into()),
                    ..GroupUpdate::default()
                },
            )
            .await
        ));
        assert!(is_conflict(cat.create_user(new_user("TEAM")).await));
        assert!(is_conflict(
            cat.update_user(
                alice.id,
                UserUpdate {
                    username: Some("Team".into()),
                    ..UserUpdate::default()
                },
            )
            .await
        ));
    }

    pub async fn migrating_a_catalog_with_case_clashes_names_them_and_changes_nothing(
        cat: DbCatalog,
    ) {
        // A catalog from before the case-insensitive indexes, with clashes in it.
        cat.run(|conn| {
            use diesel::migration::MigrationSource;
            use diesel::RunQueryDsl;
            use diesel_migrations::MigrationHarness;
            let source = match conn {
                crate::DbConnection::Sqlite(_) => crate::SQLITE_MIGRATIONS,
                crate::DbConnection::Pg(_) => crate::POSTGRES_MIGRATIONS,
            };
            let migrations =
                MigrationSource::<crate::connection::MultiBackend>::migrations(&source)
                    .map_err(CatalogError::Backend)?;
            let ours = migrations
                .iter()
                .find(|m| m.name().to_string().ends_with("paths_case_insensitive"))
                .unwrap();
            conn.revert_migration(ours.as_ref())
                .map_err(CatalogError::Backend)?;
            for (path, name) in [("Secret", "a"), ("secret", "b"), ("other", "c")] {
                diesel::sql_query(format!(
                    "INSERT INTO groups (name, path, full_path, visibility, description, \
                     package_settings, created_at) \
                     VALUES ('{name}', '{path}', '{path}', 'private', '', '{{}}', 0)"
                ))
                .execute(conn)
                .map_err(CatalogError::backend)?;
            }
            Ok(())
        })
        .await
        .unwrap();
        cat.create_user(new_user("Bob")).await.unwrap();
        cat.create_user(new_user("bob")).await.unwrap();

        let err = cat.migrate().await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, crate::DbError::CaseCollisions(_)), "{text}");
        for named in [
            "group `Secret`",
            "group `secret`",
            "user `Bob`",
            "user `bob`",
        ] {
            assert!(text.contains(named), "{text}");
        }
        assert!(!text.contains("other"), "{text}");
        assert!(text.contains("packyard migrate"), "{text}");

        // Renamed by the operator: the migration runs.
        let secret = cat.group_by_full_path("secret").await.unwrap().unwrap();
        let secret = if secret.full_path == "secret" {
            secret
        } else {
            // Before the migration the lookup may have found either.
            let all = cat
                .list_groups(
                    GroupFilter {
                        reach: everything(),
                        ..GroupFilter::default()
                    },
                    offset(1, 10),
                )
                .await
                .unwrap();
            all.items
                .into_iter()
                .find(|g| g.full_path == "secret")
                .unwrap()
        };
        cat.update_group(
            secret.id,
            GroupUpdate {
                path: Some("secret2".into()),
                ..GroupUpdate::default()
            },
        )
        .await
        .unwrap();
        let bob = cat.user_by_username("bob").await.unwrap().unwrap();
        cat.delete_user(bob.id).await.unwrap();
        assert_eq!(cat.migrate().await.unwrap().len(), 1);
        assert!(is_conflict(
            cat.create_group(new_group("SECRET2", None)).await
        ));
    }

    pub async fn blocked_users_are_listed_by_state_and_keep_their_memberships(cat: DbCatalog) {
        let a = cat.create_user(new_user("amy")).await.unwrap();
        let b = cat.create_user(new_user("ben")).await.unwrap();
        let g = group(&cat, "crew", None, Visibility::Private).await;
        cat.add_member(
            MemberSource::Group(g.id),
            b.id,
            AccessLevel::Developer,
            None,
        )
        .await
        .unwrap();
        cat.set_user_state(b.id, UserState::Blocked).await.unwrap();
        let names = |filter: UserFilter| {
            let cat = cat.clone();
            async move {
                cat.list_users(filter, offset(1, 20))
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|u| (u.username, u.state))
                    .collect::<Vec<_>>()
            }
        };
        let blocked = UserFilter {
            blocked: Some(true),
            ..UserFilter::default()
        };
        assert_eq!(names(blocked).await, [("ben".into(), UserState::Blocked)]);
        let active = UserFilter {
            blocked: Some(false),
            ..UserFilter::default()
        };
        assert_eq!(names(active).await, [("amy".into(), UserState::Active)]);
        assert_eq!(
            names(UserFilter::default()).await,
            [
                ("amy".into(), UserState::Active),
                ("ben".into(), UserState::Blocked)
            ]
        );
        // GitLab keeps a blocked user's memberships: unblocking gives them back as they were.
        let kept = cat.user_memberships(b.id, "2000-01-01").await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(a.state, UserState::Active);
    }

    /// Usernames and top-level group paths share one namespace, checked in one table and
    /// inserted into the other; group and project full paths likewise. Created at once, on
    /// PostgreSQL's READ COMMITTED both checks used to pass.
    pub async fn concurrent_user_and_group_of_one_name_end_with_exactly_one(cat: DbCatalog) {
        const ROUNDS: usize = 12;
        const TASKS: usize = 8;
        for round in 0..ROUNDS {
            let name = format!("x{round}");
            let mut tasks = Vec::new();
            for i in 0..TASKS {
                let cat = cat.clone();
                // Half users, half groups, in both cases: one namespace, case-insensitive.
                let name = if i % 4 < 2 {
                    name.clone()
                } else {
                    name.to_uppercase()
                };
                tasks.push(tokio::spawn(async move {
                    if i % 2 == 0 {
                        cat.create_user(NewUser {
                            email: format!("{name}-{i}@example.com"),
                            ..new_user(&name)
                        })
                        .await
                        .map(|_| ())
                    } else {
                        cat.create_group(new_group(&name, None)).await.map(|_| ())
                    }
                }));
            }
            let mut created = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(()) => created += 1,
                    Err(CatalogError::Conflict(_)) => {}
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
            assert_eq!(created, 1, "round {round}: one name, one owner");
        }

        // The same between a subgroup and a project at one full path.
        let parent = group(&cat, "parent", None, Visibility::Private).await;
        for round in 0..ROUNDS {
            let name = format!("p{round}");
            let mut tasks = Vec::new();
            for i in 0..TASKS {
                let cat = cat.clone();
                let name = if i % 4 < 2 {
                    name.clone()
                } else {
                    name.to_uppercase()
                };
                tasks.push(tokio::spawn(async move {
                    if i % 2 == 0 {
                        cat.create_project(new_project(&name, Namespace::Group(parent.id)))
                            .await
                            .map(|_| ())
                    } else {
                        cat.create_group(new_group(&name, Some(parent.id)))
                            .await
                            .map(|_| ())
                    }
                }));
            }
            let mut created = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(()) => created += 1,
                    Err(CatalogError::Conflict(_)) => {}
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
            assert_eq!(created, 1, "round {round}: one full path, one owner");
        }
    }
}
