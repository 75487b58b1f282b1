//! The catalog's tables, declared once for both backends.
//!
//! Only types that SQLite and PostgreSQL store the same way appear here
//! (<https://diesel.rs/guides/all-about-inserts.html>, <https://www.sqlite.org/datatype3.html>):
//! `BigInt` for ids and times (`Millis`), `Text` for enums and JSON documents, `Bool`,
//! `SmallInt` for access levels. The SQL lives in `migrations/sqlite` and
//! `migrations/postgres`, which must create exactly these columns in this order.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        name -> Text,
        email -> Text,
        is_admin -> Bool,
        password_hash -> Nullable<Text>,
        created_at -> BigInt,
        state -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> BigInt,
        name -> Text,
        path -> Text,
        full_path -> Text,
        parent_id -> Nullable<BigInt>,
        visibility -> Text,
        description -> Text,
        /// `PackageSettings` as JSON.
        package_settings -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        name -> Text,
        path -> Text,
        full_path -> Text,
        group_id -> Nullable<BigInt>,
        owner_user_id -> Nullable<BigInt>,
        visibility -> Text,
        description -> Text,
        registry_access -> Text,
        creator_id -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        /// `group` or `project`.
        source_type -> Text,
        source_id -> BigInt,
        user_id -> BigInt,
        access_level -> SmallInt,
        /// `YYYY-MM-DD`, inclusive.
        expires_at -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    personal_access_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        /// JSON array of strings.
        scopes -> Text,
        /// `YYYY-MM-DD`, inclusive.
        expires_at -> Nullable<Text>,
        revoked -> Bool,
        last_used_at -> Nullable<BigInt>,
        digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    deploy_tokens (id) {
        id -> BigInt,
        project_id -> Nullable<BigInt>,
        group_id -> Nullable<BigInt>,
        name -> Text,
        username -> Text,
        /// JSON array of strings.
        scopes -> Text,
        expires_at -> Nullable<BigInt>,
        revoked -> Bool,
        digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    job_tokens (id) {
        id -> BigInt,
        project_id -> BigInt,
        user_id -> BigInt,
        pipeline_id -> BigInt,
        job_id -> BigInt,
        git_ref -> Text,
        sha -> Text,
        expires_at -> BigInt,
        digest -> Text,
        created_at -> BigInt,
        /// The personal access token that minted it (`origin = 'personal_access_token'`).
        personal_access_token_id -> Nullable<BigInt>,
        /// `personal_access_token` or `session`.
        origin -> Text,
    }
}

diesel::table! {
    job_token_allowlist (target_project_id, source_project_id) {
        target_project_id -> BigInt,
        source_project_id -> BigInt,
    }
}

diesel::table! {
    package_revisions (project_id, format, normalized_name) {
        project_id -> BigInt,
        format -> Text,
        normalized_name -> Text,
        revision -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    packages (id) {
        id -> BigInt,
        project_id -> BigInt,
        format -> Text,
        name -> Text,
        normalized_name -> Text,
        version -> Text,
        status -> Text,
        /// Format-specific JSON.
        metadata -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        last_downloaded_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    package_files (id) {
        id -> BigInt,
        package_id -> BigInt,
        file_name -> Text,
        size -> BigInt,
        sha256 -> Text,
        sha1 -> Text,
        md5 -> Text,
        sha512 -> Text,
        /// Format-specific JSON.
        metadata -> Text,
        /// `BuildInfo` as JSON.
        build_info -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    package_tags (id) {
        id -> BigInt,
        package_id -> BigInt,
        name -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    package_build_infos (id) {
        id -> BigInt,
        package_id -> BigInt,
        user_id -> Nullable<BigInt>,
        pipeline_id -> BigInt,
        job_id -> BigInt,
        git_ref -> Text,
        sha -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        /// JSON document.
        value -> Text,
    }
}

diesel::table! {
    package_protection_rules (id) {
        id -> BigInt,
        project_id -> BigInt,
        package_name_pattern -> Text,
        package_type -> Text,
        /// `maintainer`, `owner` or `admin`.
        minimum_access_level_for_push -> Nullable<Text>,
        minimum_access_level_for_delete -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    package_cleanup_policies (project_id) {
        project_id -> BigInt,
        /// `NULL` is `all` (off).
        keep_n_duplicated_package_files -> Nullable<BigInt>,
        next_run_at -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    web_sessions (id_digest) {
        /// sha256 of the cookie's secret.
        id_digest -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    login_failures (username) {
        /// Lower-cased.
        username -> Text,
        failures -> BigInt,
        first_failed_at -> BigInt,
        locked_until -> Nullable<BigInt>,
    }
}

diesel::joinable!(packages -> projects (project_id));
diesel::joinable!(package_files -> packages (package_id));
diesel::joinable!(package_tags -> packages (package_id));
diesel::joinable!(package_build_infos -> packages (package_id));
diesel::joinable!(members -> users (user_id));
diesel::joinable!(personal_access_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    projects,
    members,
    personal_access_tokens,
    deploy_tokens,
    job_tokens,
    job_token_allowlist,
    packages,
    package_files,
    package_tags,
    package_build_infos,
    settings,
    package_revisions,
    package_protection_rules,
    package_cleanup_policies,
    web_sessions,
    login_failures,
);
