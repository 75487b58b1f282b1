//! The settings pages as a browser uses them: project package registry access and cleanup
//! policy, group duplicate settings, the instance's "allow anyone to pull" option. Who sees
//! them (404 for everyone below the role, sign-in for anonymous visitors), CSRF, and that a
//! save changes what the Registry (and so the REST API) reports. Actix test service over
//! SQLite in a temporary folder; users sign in through the real sign-in form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::test;
use packyard_core::model::*;
use packyard_web::WebConfig;
use support::{
    add_member, app, body_text, fetch, follow, location, new_group, new_project, post, post_form,
    seed, user, Browser, Format, Svc, Web, WithDuplicates, PASSWORD,
};

/// The formats with GitLab's duplicate setting in this world, and their defaults.
const WITH_SETTING: [(&str, bool); 3] = [
    ("generic", true),
    ("maven", true),
    ("terraform_module", false),
];

const TOOLS: &str = "/acme/tools/-/settings/packages_and_registries";
const OPEN: &str = "/acme/open/-/settings/packages_and_registries";
const GROUP: &str = "/groups/acme/-/settings/packages_and_registries";
const ADMIN: &str = "/admin/application_settings/ci_cd";

struct World {
    web: Web,
    /// Private project `acme/tools` in the public group `acme`.
    tools: Project,
    group: Group,
}

support::deref_web!(World);

/// root (admin); owen owns group `acme` (public); gina is a Maintainer of the group; mia a
/// Maintainer and dev a Developer of the private project `acme/tools`; olga is nobody there.
/// `acme/open` is a public project with no members but the group's.
async fn world() -> World {
    let seed = seed(Some("http://packyard.test")).await;
    let registry = &seed.registry;
    let password = Some(PASSWORD);
    user(registry, "root", true, password).await;
    let owen = user(registry, "owen", false, password).await;
    let gina = user(registry, "gina", false, password).await;
    let mia = user(registry, "mia", false, password).await;
    let dev = user(registry, "dev", false, password).await;
    user(registry, "olga", false, password).await;
    let group = registry
        .create_group_as(&owen, new_group("Acme", "acme", None, Visibility::Public))
        .await
        .unwrap();
    let project = |path: &str, visibility| {
        new_project(path, path, group.id, visibility, RegistryAccess::Enabled)
    };
    let tools = registry
        .create_project(project("tools", Visibility::Private))
        .await
        .unwrap();
    registry
        .create_project(project("open", Visibility::Public))
        .await
        .unwrap();
    for (source, user, level) in [
        (
            MemberSource::Group(group.id),
            &gina,
            AccessLevel::Maintainer,
        ),
        (
            MemberSource::Project(tools.id),
            &mia,
            AccessLevel::Maintainer,
        ),
        (
            MemberSource::Project(tools.id),
            &dev,
            AccessLevel::Developer,
        ),
    ] {
        add_member(registry, source, user.id, level).await;
    }
    World {
        web: seed
            .serve(
                vec![
                    WithDuplicates::format("generic", "Generic", true),
                    Format::plain("pypi", "PyPI"),
                    WithDuplicates::format("maven", "Maven", true),
                    Format::plain("npm", "npm"),
                    WithDuplicates::format("terraform_module", "Terraform module", false),
                ],
                WebConfig::default(),
            )
            .await,
        tools,
        group,
    }
}

/// Signs `username` in, landing on the explore page.
async fn sign_in(app: &impl Svc, username: &str) -> Browser {
    support::browser(app, username, "/explore").await
}

/// GETs `uri` as `who` (anonymous for `None`).
async fn get(app: &impl Svc, uri: &str, who: Option<&Browser>) -> ServiceResponse<BoxBody> {
    fetch(app, uri, who.map(|b| &b.session)).await
}

/// GETs `uri` as `who`: status and HTML.
async fn page(app: &impl Svc, uri: &str, who: Option<&Browser>) -> (StatusCode, String) {
    support::get(app, uri, who.map(|b| &b.session)).await
}

/// Saves the access section of `acme/tools`'s settings as `who`.
async fn save_access(app: &impl Svc, who: &Browser, level: &str) -> ServiceResponse<BoxBody> {
    let fields = [
        ("section", "access"),
        ("package_registry_access_level", level),
    ];
    post(app, TOOLS, who, &fields).await
}

/// Saves the cleanup section of `acme/tools`'s settings as `who`.
async fn save_cleanup(app: &impl Svc, who: &Browser, keep: &str) -> ServiceResponse<BoxBody> {
    let fields = [
        ("section", "cleanup"),
        ("keep_n_duplicated_package_files", keep),
    ];
    post(app, TOOLS, who, &fields).await
}

async fn tools_now(w: &World) -> Project {
    w.registry
        .find_project(&w.tools.id.0.to_string())
        .await
        .unwrap()
        .unwrap()
}

#[actix_web::test]
async fn project_settings_are_shown_to_maintainers_and_owners_and_hidden_from_the_rest() {
    let w = world().await;
    let app = app(&w).await;

    // Anonymous: sign in first (for a project that exists or not alike).
    for uri in [
        TOOLS,
        "/acme/nothing-here/-/settings/packages_and_registries",
    ] {
        let resp = get(&app, uri, None).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&resp), format!("/users/sign_in?redirect_to={uri}"));
    }

    for who in ["mia", "owen", "gina", "root"] {
        let b = sign_in(&app, who).await;
        let (status, html) = page(&app, TOOLS, Some(&b)).await;
        assert_eq!(status, StatusCode::OK, "{who}: {html}");
        assert!(html.contains("Package registry access"), "{who}");
        assert!(html.contains("Cleanup policy"), "{who}");
        assert!(
            html.contains(r#"href="/acme/tools/-/packages""#),
            "links back to the registry page"
        );
        assert!(html.contains(r#"aria-label="Breadcrumb""#));
    }

    // A Developer, an outsider of the private project, an outsider of the public project
    // (who sees it but is no Maintainer), and a path that does not exist: the same 404.
    let dev = sign_in(&app, "dev").await;
    let olga = sign_in(&app, "olga").await;
    for (who, uri) in [
        (&dev, TOOLS),
        (&olga, TOOLS),
        (&olga, OPEN),
        (
            &dev,
            "/acme/nothing-here/-/settings/packages_and_registries",
        ),
        (&dev, "/42/-/settings/packages_and_registries"),
    ] {
        let (status, html) = page(&app, uri, Some(who)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(html.contains("Page not found"));
        assert!(!html.contains("Package registry access"));
    }
    // The group's Maintainer maintains its projects, public ones too.
    let gina = sign_in(&app, "gina").await;
    assert_eq!(page(&app, OPEN, Some(&gina)).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn allow_anyone_to_pull_is_offered_only_when_the_instance_allows_it() {
    let w = world().await;
    let app = app(&w).await;
    let mia = sign_in(&app, "mia").await;

    w.set_anyone_option(false).await;
    let (_, html) = page(&app, TOOLS, Some(&mia)).await;
    assert!(html.contains(r#"value="enabled" checked"#), "{html}");
    assert!(html.contains(r#"value="disabled""#));
    assert!(html.contains(r#"value="private""#));
    assert!(!html.contains(r#"value="public""#), "hidden while off");
    assert!(!html.contains("Allow anyone to pull"));

    // A forged choice is refused while the option is off, and nothing changes.
    let resp = save_access(&app, &mia, "public").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(resp)
        .await
        .contains("turned off for this instance"));
    assert_eq!(tools_now(&w).await.registry_access, RegistryAccess::Enabled);

    w.set_anyone_option(true).await;
    let (_, html) = page(&app, TOOLS, Some(&mia)).await;
    assert!(html.contains(r#"value="public""#), "{html}");
    assert!(html.contains("Allow anyone to pull"));
    assert!(!html.contains("No effect"));

    // A project already on it keeps showing it as current, with a word that it has no effect.
    let resp = save_access(&app, &mia, "public").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    w.set_anyone_option(false).await;
    let (_, html) = page(&app, TOOLS, Some(&mia)).await;
    assert!(html.contains(r#"value="public" checked"#), "{html}");
    assert!(html.contains("No effect"));
    assert!(html.contains("this choice works like"));
}

#[actix_web::test]
async fn saving_the_access_level_changes_what_the_registry_reports() {
    let w = world().await;
    let app = app(&w).await;
    let mia = sign_in(&app, "mia").await;

    let resp = save_access(&app, &mia, "public").await;
    assert_eq!(location(&resp), TOOLS);
    let html = follow(&app, resp, &mia.session).await;
    assert!(html.contains("Settings saved."), "{html}");
    assert!(html.contains(r#"value="public" checked"#));
    let tools = tools_now(&w).await;
    assert_eq!(tools.registry_access, RegistryAccess::Public);
    // The policy now lets an anonymous caller pull from the private project (package
    // routes; REST and web pages still need the project visible).
    let anonymous_read = w
        .registry
        .authorize_project(
            &packyard_core::Principal::Anonymous,
            &tools.id.0.to_string(),
            packyard_core::policy::Action::ReadPackage,
            packyard_core::RouteClass::Package,
        )
        .await;
    assert!(anonymous_read.is_ok());

    let resp = save_access(&app, &mia, "disabled").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        tools_now(&w).await.registry_access,
        RegistryAccess::Disabled
    );
    // A Maintainer still reaches the page of a disabled registry, to turn it back on.
    assert_eq!(page(&app, TOOLS, Some(&mia)).await.0, StatusCode::OK);

    // Nonsense is a 400 page, and nothing changes.
    let resp = save_access(&app, &mia, "everyone").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(resp)
        .await
        .contains("Choose one of the access levels."));
    assert_eq!(
        tools_now(&w).await.registry_access,
        RegistryAccess::Disabled
    );
}

#[actix_web::test]
async fn saving_the_cleanup_policy_changes_what_the_registry_reports() {
    let w = world().await;
    let app = app(&w).await;
    let owen = sign_in(&app, "owen").await;

    let (_, html) = page(&app, TOOLS, Some(&owen)).await;
    assert!(html.contains(r#"<option value="all" selected"#), "{html}");
    assert!(html.contains("Cleanup is off."));
    for v in ["1", "10", "20", "30", "40", "50"] {
        assert!(html.contains(&format!(r#"<option value="{v}""#)), "{v}");
    }

    let resp = save_cleanup(&app, &owen, "10").await;
    let html = follow(&app, resp, &owen.session).await;
    assert!(html.contains("Settings saved."));
    assert!(html.contains(r#"<option value="10" selected"#), "{html}");
    assert!(html.contains("Next cleanup:"));
    let policy = w.registry.cleanup_policy(&w.tools).await.unwrap();
    assert_eq!(policy.keep_n_duplicated_package_files, Some(10));
    assert_eq!(policy.keep_as_str(), "10");

    // Only GitLab's values.
    let resp = save_cleanup(&app, &owen, "7").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(resp)
        .await
        .contains("all, 1, 10, 20, 30, 40 or 50"));
    let resp = save_cleanup(&app, &owen, "all").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let policy = w.registry.cleanup_policy(&w.tools).await.unwrap();
    assert_eq!(policy.keep_n_duplicated_package_files, None);
}

#[actix_web::test]
async fn project_saves_need_the_role_and_the_csrf_token() {
    let w = world().await;
    let app = app(&w).await;
    let dev = sign_in(&app, "dev").await;
    let mia = sign_in(&app, "mia").await;
    let fields = [
        ("section", "access"),
        ("package_registry_access_level", "private"),
    ];

    // A Developer who forges the form gets the 404 page, not a 403.
    let resp = post(&app, TOOLS, &dev, &fields).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // No token, a wrong token, or another session's token: 403.
    let resp = post_form(&app, TOOLS, Some(&mia.session), &fields).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    for token in ["wrong", dev.csrf.as_str()] {
        let mut with_token = fields.to_vec();
        with_token.push(("authenticity_token", token));
        let resp = post(&app, TOOLS, &mia, &with_token).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    // A form posted from another site.
    let resp = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(TOOLS)
            .cookie(mia.session.clone())
            .insert_header((header::ORIGIN, "https://evil.example"))
            .set_form([
                ("section", "access"),
                ("package_registry_access_level", "private"),
                ("authenticity_token", mia.csrf.as_str()),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Anonymous: sign in.
    let resp = post_form(&app, TOOLS, None, &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/users/sign_in"));
    assert_eq!(tools_now(&w).await.registry_access, RegistryAccess::Enabled);
}

#[actix_web::test]
async fn group_settings_are_for_group_owners_only() {
    let w = world().await;
    let app = app(&w).await;

    let resp = get(&app, GROUP, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/users/sign_in?redirect_to=/groups/acme/"));

    for who in ["owen", "root"] {
        let b = sign_in(&app, who).await;
        let (status, html) = page(&app, GROUP, Some(&b)).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(html.contains("Duplicate packages"));
        // Exactly the installed formats that have the setting, by their display names.
        for (format, _) in WITH_SETTING {
            assert!(
                html.contains(&format!(r#"name="{format}_duplicates_allowed""#)),
                "{format}"
            );
            assert!(html.contains(&format!(r#"name="{format}_duplicate_exception_regex""#)));
        }
        for format in ["pypi", "npm", "nuget", "cargo"] {
            assert!(
                !html.contains(&format!(r#"name="{format}_duplicates_allowed""#)),
                "{format}"
            );
        }
        assert!(html.contains("Maven") && html.contains("Terraform module"));
        assert!(!html.contains("PyPI"), "PyPI has no duplicate setting");
        // The formats' defaults: Maven allows duplicates, Terraform modules do not.
        assert!(html.contains(r#"name="maven_duplicates_allowed" value="true" checked"#));
        assert!(
            !html.contains(r#"name="terraform_module_duplicates_allowed" value="true" checked"#)
        );
        assert!(html.contains(r#"href="/groups/acme/-/packages""#));
    }
    // A group Maintainer, a project Maintainer and an outsider see the public group, but
    // not its settings.
    for who in ["gina", "mia", "olga"] {
        let b = sign_in(&app, who).await;
        let (status, html) = page(&app, GROUP, Some(&b)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!html.contains("Duplicate packages"));
        let resp = post(&app, GROUP, &b, &[("maven_duplicates_allowed", "true")]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{who}");
    }
    let owen = sign_in(&app, "owen").await;
    assert_eq!(
        page(
            &app,
            "/groups/nope/-/settings/packages_and_registries",
            Some(&owen)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let settings = w
        .registry
        .namespace_package_settings(&w.group)
        .await
        .unwrap();
    assert_eq!(settings, defaults());
}

/// The settings of a group that never saved any.
fn defaults() -> NamespacePackageSettings {
    NamespacePackageSettings::from_json(&serde_json::Value::Null, &WITH_SETTING)
}

/// Every format's fields as the page posts them: `allowed` lists the checked boxes.
fn group_form<'a>(allowed: &[&str], regexes: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for (format, _) in WITH_SETTING {
        if allowed.contains(&format) {
            form.push((format!("{format}_duplicates_allowed"), "true".to_owned()));
        }
        let re = regexes
            .iter()
            .find(|(f, _)| *f == format)
            .map(|(_, r)| *r)
            .unwrap_or("");
        form.push((format!("{format}_duplicate_exception_regex"), re.to_owned()));
    }
    form
}

async fn post_group(
    app: &impl Svc,
    who: &Browser,
    form: Vec<(String, String)>,
) -> ServiceResponse<BoxBody> {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post(app, GROUP, who, &fields).await
}

#[actix_web::test]
async fn saving_group_duplicate_settings_changes_what_the_registry_reports() {
    let w = world().await;
    let app = app(&w).await;
    let owen = sign_in(&app, "owen").await;

    let resp = post_group(
        &app,
        &owen,
        group_form(
            &["terraform_module", "generic"],
            &[("generic", "@acme/.*"), ("maven", r".*-SNAPSHOT")],
        ),
    )
    .await;
    assert_eq!(location(&resp), GROUP);
    let html = follow(&app, resp, &owen.session).await;
    assert!(html.contains("Settings saved."));
    assert!(html.contains(r#"name="terraform_module_duplicates_allowed" value="true" checked"#));
    assert!(!html.contains(r#"name="maven_duplicates_allowed" value="true" checked"#));
    assert!(html.contains(r#"value="@acme/.*""#), "{html}");

    let settings = w
        .registry
        .namespace_package_settings(&w.group)
        .await
        .unwrap();
    let json = settings.to_json();
    assert_eq!(json["terraform_module_duplicates_allowed"], true);
    assert_eq!(json["generic_duplicates_allowed"], true);
    assert_eq!(json["maven_duplicates_allowed"], false);
    assert_eq!(json["generic_duplicate_exception_regex"], "@acme/.*");
    assert_eq!(json["maven_duplicate_exception_regex"], ".*-SNAPSHOT");
    assert!(json.get("pypi_duplicates_allowed").is_none());
    assert_eq!(json.as_object().unwrap().len(), 6, "{json}");
    // The publish path reads the same settings (Registry::project_duplicate_settings).
    let tools = tools_now(&w).await;
    let applied = w.registry.project_duplicate_settings(&tools).await.unwrap();
    assert_eq!(applied, settings);
}

#[actix_web::test]
async fn a_bad_exception_regex_shows_the_form_again_with_the_problem() {
    let w = world().await;
    let app = app(&w).await;
    let owen = sign_in(&app, "owen").await;

    let resp = post_group(
        &app,
        &owen,
        group_form(&["maven"], &[("terraform_module", "foo(")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = body_text(resp).await;
    assert!(html.contains("The settings were not saved."), "{html}");
    assert!(html.contains("Terraform module exceptions: the regex is invalid."));
    assert!(html.contains(r#"value="foo(""#), "what was typed is kept");
    assert!(html.contains(r#"aria-invalid="true""#));
    let long = "a".repeat(300);
    let resp = post_group(&app, &owen, group_form(&[], &[("maven", long.as_str())])).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(resp).await.contains("too long"));
    assert_eq!(
        w.registry
            .namespace_package_settings(&w.group)
            .await
            .unwrap(),
        defaults(),
        "nothing was saved"
    );

    // Without the CSRF token: 403, nothing saved.
    let mut form = group_form(&[], &[]);
    form.push(("authenticity_token".into(), "forged".into()));
    let resp = post_group(&app, &owen, form).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        w.registry
            .namespace_package_settings(&w.group)
            .await
            .unwrap(),
        defaults()
    );
}

#[actix_web::test]
async fn the_instance_option_is_for_admins_only() {
    let w = world().await;
    let app = app(&w).await;

    let resp = get(&app, ADMIN, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/users/sign_in"));
    let owen = sign_in(&app, "owen").await;
    let (status, html) = page(&app, ADMIN, Some(&owen)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Allow anyone to pull"));
    assert!(!html.contains(r#"href="/admin/application_settings/ci_cd""#));
    let resp = post(&app, ADMIN, &owen, &[]).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let root = sign_in(&app, "root").await;
    let (status, html) = page(&app, ADMIN, Some(&root)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Allow anyone to pull from Package Registry"));
    assert!(
        html.contains(r#"value="true" checked"#),
        "on by default: {html}"
    );

    // Unchecked: the box is not sent.
    let resp = post(&app, ADMIN, &root, &[]).await;
    let html = follow(&app, resp, &root.session).await;
    assert!(html.contains("Settings saved."));
    assert!(!html.contains(r#"value="true" checked"#));
    let settings = w.registry.catalog().instance_settings().await.unwrap();
    assert!(!settings.package_registry_allow_anyone_to_pull_option);
    // Projects stop offering the choice.
    let (_, html) = page(&app, TOOLS, Some(&root)).await;
    assert!(!html.contains(r#"value="public""#));

    let resp = post(
        &app,
        ADMIN,
        &root,
        &[("package_registry_allow_anyone_to_pull_option", "true")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let settings = w.registry.catalog().instance_settings().await.unwrap();
    assert!(settings.package_registry_allow_anyone_to_pull_option);

    // The CSRF token is needed here too.
    let resp = post(&app, ADMIN, &root, &[("authenticity_token", "")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let settings = w.registry.catalog().instance_settings().await.unwrap();
    assert!(settings.package_registry_allow_anyone_to_pull_option);
}
