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
            group_paths: vec![sub.full_path.clone()],
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
                    group_tree_path: Some("g".into()),
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
                    group_paths: vec!["top/a".into()],
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
                descendants_of: Some("top".into()),
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
}
