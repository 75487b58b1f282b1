//! `cargo xtask check-features`: the server builds with each format feature alone and with none,
//! so no format leaks into code outside its `#[cfg(feature = ...)]`.

use anyhow::{Context, Result};

use crate::shell;

/// Every feature of `bin/packyard/Cargo.toml` except `default`.
pub fn format_features() -> Result<Vec<String>> {
    let path = shell::workspace_root().join("bin/packyard/Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut features: Vec<String> = manifest
        .get("features")
        .and_then(|f| f.as_table())
        .map(|t| t.keys().filter(|k| *k != "default").cloned().collect())
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
