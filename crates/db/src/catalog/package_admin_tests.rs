//! Catalog tests of package administration (protection.rs, cleanup.rs, settings.rs and the
//! batched lookups), on SQLite and, when `PACKYARD_TEST_POSTGRES_URL` is set, on PostgreSQL
//! (see `tests::on_each_backend`).
#![allow(clippy::unwrap_used)]

use packyard_core::model::*;
use packyard_core::ports::{Catalog, DuplicatePolicy};

use super::tests::{
    build, conflict_text, new_group, new_project, new_user, on_each_backend, project, publish,
    ALL_PAGE,
};
use crate::DbCatalog;

macro_rules! catalog_test {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            on_each_backend(stringify!($name), bodies::$name).await;
        }
    };
}

catalog_test!(protection_rules_round_trip_filter_by_type_and_are_unique);
catalog_test!(cleanup_policies_are_claimed_once_and_keep_the_newest_files);
catalog_test!(group_settings_document_and_group_levels);
catalog_test!(batched_lookups_return_every_packages_rows);
catalog_test!(group_listing_orders_by_project_path);
catalog_test!(group_tree_and_member_levels_cover_the_whole_tree_in_few_queries);

mod bodies {
    use super::*;

    fn rule(project: ProjectId, pattern: &str, kind: &str) -> NewProtectionRule {
        NewProtectionRule {
            project_id: project,
            package_name_pattern: pattern.into(),
            package_type: kind.into(),
            minimum_access_level_for_push: Some(ProtectionLevel::Maintainer),
            minimum_access_level_for_delete: None,
        }
    }

    pub async fn protection_rules_round_trip_filter_by_type_and_are_unique(cat: DbCatalog) {
        let p = project(&cat).await;
        let a = cat
            .create_protection_rule(rule(p, "@acme/*", "npm"))
            .await
            .unwrap();
        let b = cat
            .create_protection_rule(rule(p, "acme-*", "pypi"))
            .await
            .unwrap();
        assert_eq!(
            a.minimum_access_level_for_push,
            Some(ProtectionLevel::Maintainer)
        );
        assert_eq!(
            cat.protection_rules(p, None).await.unwrap(),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(
            cat.protection_rules(p, Some("npm")).await.unwrap(),
            vec![a.clone()]
        );
        let taken = cat.create_protection_rule(rule(p, "@acme/*", "npm")).await;
        assert!(conflict_text(taken).contains("already been taken"));

        let mut changed = a.clone();
        changed.minimum_access_level_for_push = None;
        changed.minimum_access_level_for_delete = Some(ProtectionLevel::Owner);
        let updated = cat.update_protection_rule(&changed).await.unwrap().unwrap();
        assert_eq!(updated.minimum_access_level_for_push, None);
        assert_eq!(
            updated.minimum_access_level_for_delete,
            Some(ProtectionLevel::Owner)
        );
        // Renaming onto another rule's pattern and type conflicts.
        let mut clash = b.clone();
        clash.package_name_pattern = "@acme/*".into();
        clash.package_type = "npm".into();
        assert!(conflict_text(cat.update_protection_rule(&clash).await).contains("taken"));
        // Another project's id finds nothing.
        let mut elsewhere = b.clone();
        elsewhere.project_id = ProjectId(p.0 + 1000);
        assert!(cat
            .update_protection_rule(&elsewhere)
            .await
            .unwrap()
            .is_none());
        assert!(!cat
            .delete_protection_rule(ProjectId(p.0 + 1000), b.id)
            .await
            .unwrap());
        assert!(cat.delete_protection_rule(p, b.id).await.unwrap());
        assert!(!cat.delete_protection_rule(p, b.id).await.unwrap());
        assert_eq!(cat.protection_rules(p, None).await.unwrap().len(), 1);
    }

    pub async fn cleanup_policies_are_claimed_once_and_keep_the_newest_files(cat: DbCatalog) {
        let p = project(&cat).await;
        assert!(cat.cleanup_policy(p).await.unwrap().is_none());
        let policy = cat
            .set_cleanup_policy(p, Some(1), Some(1_000))
            .await
            .unwrap();
        assert_eq!(policy.keep_n_duplicated_package_files, Some(1));
        // Off policies are never due.
        let g = cat.create_group(new_group("other", None)).await.unwrap();
        let q = cat
            .create_project(new_project("q", Namespace::Group(g.id)))
            .await
            .unwrap()
            .id;
        cat.set_cleanup_policy(q, None, Some(500)).await.unwrap();
        let due = cat.due_cleanup_policies(2_000, 10).await.unwrap();
        assert_eq!(
            due.iter().map(|d| d.project_id).collect::<Vec<_>>(),
            vec![p]
        );
        assert!(cat.due_cleanup_policies(999, 10).await.unwrap().is_empty());
        // One claim wins.
        assert!(cat.claim_cleanup_policy(p, 1_000, 5_000).await.unwrap());
        assert!(!cat.claim_cleanup_policy(p, 1_000, 6_000).await.unwrap());
        assert_eq!(
            cat.cleanup_policy(p).await.unwrap().unwrap().next_run_at,
            Some(5_000)
        );

        // Three uploads of a.txt and one of b.txt in one package, two of a.txt in another.
        for _ in 0..3 {
            cat.publish_file(publish(p, "pkg", "1.0", "a.txt", DuplicatePolicy::Allow))
                .await
                .unwrap();
        }
        let (one, _) = cat
            .publish_file(publish(p, "pkg", "1.0", "b.txt", DuplicatePolicy::Allow))
            .await
            .unwrap();
        for _ in 0..2 {
            cat.publish_file(publish(p, "pkg", "2.0", "a.txt", DuplicatePolicy::Allow))
                .await
                .unwrap();
        }
        let (before, _) = cat.package_files(one.id, ALL_PAGE).await.unwrap();
        let newest_a = before
            .iter()
            .filter(|f| f.file_name == "a.txt")
            .map(|f| f.id)
            .max();
        let deleted = cat.delete_duplicated_package_files(p, 1).await.unwrap();
        assert_eq!(deleted.len(), 3, "two old a.txt in 1.0, one in 2.0");
        let (after, total) = cat.package_files(one.id, ALL_PAGE).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(
            after.iter().find(|f| f.file_name == "a.txt").map(|f| f.id),
            newest_a,
            "the newest file of a name is kept"
        );
        // Nothing left to do; another project is untouched.
        assert!(cat
            .delete_duplicated_package_files(p, 1)
            .await
            .unwrap()
            .is_empty());
        assert!(cat
            .delete_duplicated_package_files(q, 1)
            .await
            .unwrap()
            .is_empty());
    }

    pub async fn group_settings_document_and_group_levels(cat: DbCatalog) {
        let top = cat.create_group(new_group("top", None)).await.unwrap();
        let sub = cat
            .create_group(new_group("sub", Some(top.id)))
            .await
            .unwrap();
        let doc = cat
            .group_package_settings_document(sub.id)
            .await
            .unwrap()
            .unwrap();
        assert!(doc.is_object());
        let new_doc = serde_json::json!({"generic_duplicates_allowed": false, "pypi_duplicates_allowed": true});
        cat.set_group_package_settings_document(sub.id, &new_doc)
            .await
            .unwrap();
        assert_eq!(
            cat.group_package_settings_document(sub.id).await.unwrap(),
            Some(new_doc)
        );
        // The typed view of the same column still reads the generic fields.
        let g = cat.group_by_id(sub.id).await.unwrap().unwrap();
        assert!(!g.package_settings.generic_duplicates_allowed);
        assert!(cat
            .group_package_settings_document(GroupId(99_999))
            .await
            .unwrap()
            .is_none());

        let u = cat.create_user(new_user("owner")).await.unwrap();
        let v = cat.create_user(new_user("dev")).await.unwrap();
        cat.add_member(MemberSource::Group(top.id), u.id, AccessLevel::Owner, None)
            .await
            .unwrap();
        cat.add_member(
            MemberSource::Group(sub.id),
            v.id,
            AccessLevel::Developer,
            Some("2000-01-01".into()),
        )
        .await
        .unwrap();
        let today = "2026-11-24";
        assert_eq!(
            cat.effective_group_access_level(u.id, sub.id, today)
                .await
                .unwrap(),
            Some(AccessLevel::Owner),
            "inherited from the parent"
        );
        assert_eq!(
            cat.effective_group_access_level(v.id, sub.id, today)
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            cat.effective_group_access_level(v.id, top.id, "1999-12-31")
                .await
                .unwrap(),
            None,
            "a subgroup membership does not reach the parent"
        );
    }

    pub async fn batched_lookups_return_every_packages_rows(cat: DbCatalog) {
        let p = project(&cat).await;
        let u = cat.create_user(new_user("ci")).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..3 {
            let mut req = publish(p, &format!("p{i}"), "1.0", "f", DuplicatePolicy::Allow);
            req.build = Some(build(i));
            req.user_id = Some(u.id);
            let (pkg, _) = cat.publish_file(req).await.unwrap();
            ids.push(pkg.id);
        }
        cat.set_package_tag(ids[1], "latest").await.unwrap();
        let tags = cat.package_tags_of(&ids).await.unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].package_id, ids[1]);
        let builds = cat.package_build_infos_of(&ids).await.unwrap();
        assert_eq!(builds.len(), 3);
        assert!(builds.iter().all(|b| b.user_id == Some(u.id)));
        let users = cat.users_by_ids(&[u.id, UserId(77_777)]).await.unwrap();
        assert_eq!(users.len(), 1);
        assert!(cat.package_tags_of(&[]).await.unwrap().is_empty());
    }

    pub async fn group_listing_orders_by_project_path(cat: DbCatalog) {
        let g = cat.create_group(new_group("grp", None)).await.unwrap();
        let zeta = cat
            .create_project(new_project("zeta", Namespace::Group(g.id)))
            .await
            .unwrap();
        let alpha = cat
            .create_project(new_project("alpha", Namespace::Group(g.id)))
            .await
            .unwrap();
        for (proj, name) in [(&zeta, "z1"), (&alpha, "a1"), (&zeta, "z2"), (&alpha, "a2")] {
            cat.publish_file(publish(proj.id, name, "1.0", "f", DuplicatePolicy::Allow))
                .await
                .unwrap();
        }
        let filter = PackageFilter::default();
        let projects = [zeta.id, alpha.id];
        let (rows, total) = cat
            .list_packages_by_project_path(&projects, &filter, false, ALL_PAGE)
            .await
            .unwrap();
        assert_eq!(total, 4);
        let names: Vec<&str> = rows.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a1", "a2", "z1", "z2"]);
        let (rows, _) = cat
            .list_packages_by_project_path(
                &projects,
                &filter,
                true,
                Page {
                    page: 2,
                    per_page: 1,
                },
            )
            .await
            .unwrap();
        assert_eq!(rows[0].name, "z1");
        let only_a = PackageFilter {
            name_contains: Some("A".into()),
            ..Default::default()
        };
        let (rows, total) = cat
            .list_packages_by_project_path(&projects, &only_a, false, ALL_PAGE)
            .await
            .unwrap();
        assert_eq!((rows.len(), total), (2, 2));
    }

    pub async fn group_tree_and_member_levels_cover_the_whole_tree_in_few_queries(cat: DbCatalog) {
        let top = cat.create_group(new_group("top", None)).await.unwrap();
        let a = cat
            .create_group(new_group("a", Some(top.id)))
            .await
            .unwrap();
        let b = cat.create_group(new_group("b", Some(a.id))).await.unwrap();
        let other = cat.create_group(new_group("other", None)).await.unwrap();
        let tree: Vec<GroupId> = cat
            .group_tree(top.id)
            .await
            .unwrap()
            .iter()
            .map(|g| g.id)
            .collect();
        assert_eq!(tree, vec![top.id, a.id, b.id]);
        assert!(cat.group_tree(GroupId(424_242)).await.unwrap().is_empty());
        let p = cat
            .create_project(new_project("p", Namespace::Group(b.id)))
            .await
            .unwrap();
        let u = cat.create_user(new_user("u")).await.unwrap();
        cat.add_member(MemberSource::Group(a.id), u.id, AccessLevel::Reporter, None)
            .await
            .unwrap();
        cat.add_member(
            MemberSource::Project(p.id),
            u.id,
            AccessLevel::Maintainer,
            None,
        )
        .await
        .unwrap();
        cat.add_member(
            MemberSource::Group(other.id),
            u.id,
            AccessLevel::Owner,
            None,
        )
        .await
        .unwrap();
        let mut levels = cat
            .member_levels(u.id, &[top.id, a.id, b.id], &[p.id], "2026-11-24")
            .await
            .unwrap();
        levels.sort_by_key(|(_, l)| *l);
        assert_eq!(
            levels,
            vec![
                (MemberSource::Group(a.id), AccessLevel::Reporter),
                (MemberSource::Project(p.id), AccessLevel::Maintainer),
            ],
            "only the asked groups and projects"
        );
    }
}
