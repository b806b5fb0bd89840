//! The committed man pages and shell completions must match what the clap definitions
//! generate; regenerate them with `cargo run -- generate-docs` when this fails.

use std::path::Path;

#[test]
fn committed_docs_match_the_clap_definitions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = mq::cli::docs::generated_files().expect("generate docs");
    let mut stale = Vec::new();
    for (path, bytes) in &files {
        match std::fs::read(root.join(path)) {
            Ok(committed) if committed == *bytes => {}
            _ => stale.push(path.clone()),
        }
    }
    for dir in ["man", "completions"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("docs directory exists") {
            let name = format!(
                "{dir}/{}",
                entry.expect("dir entry").file_name().to_string_lossy()
            );
            if !files.iter().any(|(p, _)| *p == name) {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}; run `cargo run -- generate-docs`"
    );
}

#[test]
fn one_man_page_per_visible_command() {
    let files = mq::cli::docs::generated_files().expect("generate docs");
    let cmd = <mq::cli::Cli as clap::CommandFactory>::command();
    for sub in cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
    {
        let page = format!("man/mq-{}.1", sub.get_name());
        assert!(files.iter().any(|(p, _)| *p == page), "missing {page}");
    }
    assert!(files.iter().any(|(p, _)| p == "man/mq.1"));
}
