//! mosquitto's options files: before the command line, `mq pub` reads
//! `$XDG_CONFIG_HOME/mq/pub` (else `~/.config/mq/pub`), falling back to mosquitto's own
//! `$XDG_CONFIG_HOME/mosquitto_pub` (else `~/.config/mosquitto_pub`); likewise `sub` and `rr`.
//! One `-option value` per line, split at the first space; `#` at column 0 is a comment.
//! The command line comes after, so its values win (topics accumulate for `sub`).

use std::ffi::OsString;
use std::path::PathBuf;

/// The client command named in `args` (`pub`, `sub`, `rr` or an alias) and its position.
pub fn client_command(args: &[OsString]) -> Option<(usize, &'static str)> {
    let pos = 1;
    let name = args.get(pos)?.to_str()?;
    let tool = match name {
        "pub" | "publish" => "pub",
        "sub" | "subscribe" => "sub",
        "rr" => "rr",
        _ => return None,
    };
    Some((pos, tool))
}

fn candidates(tool: &str) -> Vec<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    let Some(base) = base else { return Vec::new() };
    vec![
        base.join("mq").join(tool),
        base.join(format!("mosquitto_{tool}")),
    ]
}

/// Splits an options file into arguments.
pub fn parse_options(text: &str) -> Vec<OsString> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(' ') {
            Some((opt, value)) => {
                out.push(opt.into());
                out.push(value.into());
            }
            None => out.push(line.into()),
        }
    }
    out
}

/// `args` with the options file of the client command (if any) inserted before the user's
/// arguments.
pub fn with_options_file(mut args: Vec<OsString>) -> Vec<OsString> {
    let Some((pos, tool)) = client_command(&args) else {
        return args;
    };
    for path in candidates(tool) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let extra = parse_options(&text);
            args.splice(pos + 1..pos + 1, extra);
            break;
        }
    }
    args
}

/// How mosquitto's clients answer an argument their parser does not know.
#[derive(Debug, PartialEq, Eq)]
pub enum UnknownOption {
    /// `--version`: mosquitto_pub prints its version on stdout (and exits 1).
    Version(String),
    /// Anything else: `Error: Unknown option '--foo'.` and the usage hint on stderr (exit 1).
    Other(String),
}

/// For pub, sub and rr, the text mosquitto prints for an unknown option; `None` for other
/// commands and other errors, which clap words itself.
pub fn unknown_option(e: &clap::Error, args: &[OsString]) -> Option<UnknownOption> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let (_, tool) = client_command(args)?;
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    if arg == "--version" {
        return Some(UnknownOption::Version(format!(
            "mq {tool} version {}",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Some(UnknownOption::Other(format!(
        "Error: Unknown option '{arg}'.\n\nUse 'mq {tool} --help' to see usage."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_the_first_space_and_comments_are_skipped() {
        let a = parse_options("# comment\n-h broker.example\n-m hello world\n-r\n\n");
        let a: Vec<_> = a.iter().map(|s| s.to_str().unwrap()).collect();
        assert_eq!(a, ["-h", "broker.example", "-m", "hello world", "-r"]);
    }

    #[test]
    fn only_client_commands_get_options() {
        let args: Vec<OsString> = ["mq", "broker", "-p", "1"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(with_options_file(args.clone()), args);
        let args: Vec<OsString> = ["mq", "subscribe"].iter().map(OsString::from).collect();
        assert_eq!(client_command(&args), Some((1, "sub")));
    }
}
