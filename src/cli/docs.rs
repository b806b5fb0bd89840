//! Man pages and shell completions generated from the clap definitions.
//!
//! `mq generate-docs --out DIR` writes `DIR/man/*.1` (one page for `mq` and one per command) and
//! `DIR/completions/` for bash, zsh, fish, elvish and PowerShell. The files are committed; a test
//! regenerates them in memory and fails when the committed ones are stale.

use super::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io;
use std::path::Path;

/// Every generated file: its path relative to the output directory, and its bytes.
pub fn generated_files() -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut cmd = Cli::command();
    cmd.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    files.push(("man/mq.1".to_string(), page));
    for sub in cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
    {
        let name = format!("mq-{}", sub.get_name());
        let sub = sub.clone().name(&*name.clone().leak());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        files.push((format!("man/{name}.1"), page));
    }
    for (shell, file) in [
        (Shell::Bash, "mq.bash"),
        (Shell::Zsh, "_mq"),
        (Shell::Fish, "mq.fish"),
        (Shell::Elvish, "mq.elv"),
        (Shell::PowerShell, "_mq.ps1"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "mq", &mut out);
        files.push((format!("completions/{file}"), out));
    }
    Ok(files)
}

/// Writes every generated file under `out`, replacing stale ones.
pub fn write_all(out: &Path) -> io::Result<usize> {
    let files = generated_files()?;
    for dir in ["man", "completions"] {
        let dir = out.join(dir);
        if dir.exists() {
            for entry in std::fs::read_dir(&dir)? {
                std::fs::remove_file(entry?.path())?;
            }
        }
        std::fs::create_dir_all(dir)?;
    }
    for (path, bytes) in &files {
        std::fs::write(out.join(path), bytes)?;
    }
    Ok(files.len())
}
