//! `cargo xtask check-features`: the server builds with each format feature alone and with none,
//! so no format leaks into code outside its `#[cfg(feature = ...)]`.

use anyhow::{Context, Result};

use crate::shell;

/// The format features of `bin/packyard/Cargo.toml`: each format is a renamed optional
/// dependency on a `packyard-format-*` crate, whose name is its implicit feature.
pub fn format_features() -> Result<Vec<String>> {
    let path = shell::workspace_root().join("bin/packyard/Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    features_of(&text).with_context(|| format!("parsing {}", path.display()))
}

/// [`format_features`] of a manifest's text, sorted.
pub fn features_of(manifest: &str) -> Result<Vec<String>> {
    let manifest: toml::Table = toml::from_str(manifest)?;
    let mut features: Vec<String> = manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|deps| {
            deps.iter()
                .filter(|(_, spec)| {
                    spec.get("optional").and_then(toml::Value::as_bool) == Some(true)
                        && spec
                            .get("package")
                            .and_then(toml::Value::as_str)
                            .is_some_and(|p| p.starts_with("packyard-format-"))
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    features.sort();
    Ok(features)
}

pub fn check() -> Result<()> {
    let features = format_features()?;
    println!("format features: {}", features.join(", "));
    shell::run(shell::cargo().args(["check", "-p", "packyard", "--no-default-features"]))?;
    for feature in &features {
        shell::run(shell::cargo().args([
            "check",
            "-p",
            "packyard",
            "--no-default-features",
            "--features",
            feature,
        ]))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn features_are_the_optional_format_dependencies() {
        let manifest = r#"
[dependencies]
packyard-core = { path = "../../crates/core" }
regex = { version = "1", optional = true }
pypi = { package = "packyard-format-pypi", path = "../../crates/formats/pypi", optional = true }
generic = { package = "packyard-format-generic", path = "../../crates/formats/generic", optional = true }

[features]
default = ["generic", "pypi"]
"#;
        assert_eq!(features_of(manifest).unwrap(), ["generic", "pypi"]);
    }

    #[test]
    fn the_real_manifest_has_the_four_formats() {
        let features = format_features().unwrap();
        for f in ["cargo", "generic", "npm", "pypi"] {
            assert!(features.iter().any(|x| x == f), "{features:?}");
        }
    }
}
