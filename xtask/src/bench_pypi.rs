//! `cargo xtask bench pypi`.

use anyhow::{bail, Result};

pub fn run(args: &[String]) -> Result<()> {
    let _ = args;
    bail!("bench pypi is not written yet")
}
