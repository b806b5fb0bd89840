//! `mq generate-docs`: writes the man pages and shell completions generated from the command
//! definitions.

use super::Error;
use std::path::PathBuf;

/// Regenerates `man/` and `completions/` under `out`.
pub async fn run(out: PathBuf) -> Result<(), Error> {
    let n = crate::cli::docs::write_all(&out)?;
    eprintln!("wrote {n} files under {}", out.display());
    Ok(())
}
