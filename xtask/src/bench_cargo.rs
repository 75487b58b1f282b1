//! `cargo xtask bench cargo`.

use anyhow::{bail, Result};

pub fn run(args: &[String]) -> Result<()> {
    let _ = args;
    bail!("bench cargo is not written yet")
}
