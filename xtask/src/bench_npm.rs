//! `cargo xtask bench npm`.

use anyhow::{bail, Result};

pub fn run(args: &[String]) -> Result<()> {
    let _ = args;
    bail!("bench npm is not written yet")
}
