//! The JSON documents cargo reads (registry web API and `config.json`).

use serde::Serialize;

/// `config.json` at the index root.
#[derive(Debug, Serialize)]
pub struct IndexConfig {
    /// Download URL prefix; cargo appends `/{crate}/{version}/download`.
    pub dl: String,
    /// Web API root; cargo appends `/api/v1/...`.
    pub api: String,
    #[serde(rename = "auth-required")]
    pub auth_required: bool,
}

/// The answer to a successful publish (no warnings: we do not check categories or badges).
#[derive(Debug, Serialize)]
pub struct PublishWarnings {
    pub warnings: Warnings,
}

#[derive(Debug, Serialize, Default)]
pub struct Warnings {
    pub invalid_categories: Vec<String>,
    pub invalid_badges: Vec<String>,
    pub other: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Ok {
    pub ok: bool,
}

#[derive(Debug, Serialize)]
pub struct Owners {
    pub users: Vec<Owner>,
}

#[derive(Debug, Serialize)]
pub struct Owner {
    pub id: i64,
    pub login: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Search {
    pub crates: Vec<SearchHit>,
    pub meta: SearchMeta,
}

#[derive(Debug, Serialize)]
pub struct SearchHit {
    pub name: String,
    pub max_version: String,
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct SearchMeta {
    pub total: usize,
}
