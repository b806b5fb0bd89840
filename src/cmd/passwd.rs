//! `mq passwd`: add, update, delete and upgrade entries of a mosquitto password file.
//!
//! Every change is written to a temporary file beside the original and renamed over it, so a
//! crash never leaves a half-written password file behind. New files are private (mode 0600);
//! an existing file keeps its mode.

use crate::broker::security::password::{self, Hash, HashKind};
use crate::cli::passwd::PasswdArgs;
use std::fs;
use std::io::{self, BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What can go wrong; every variant is reported as `Error: ...` with exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum PasswdError {
    /// A username mosquitto_passwd would refuse.
    #[error("Error: Invalid username '{user}': {reason}.")]
    BadUsername {
        /// The name given.
        user: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The file could not be read or written.
    #[error("Error: {what} {}: {source}", path.display())]
    File {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// Reading the password from the terminal or stdin failed.
    #[error("Error: Unable to read password: {0}")]
    Prompt(io::Error),
    /// The two passwords typed differ.
    #[error("Error: Passwords do not match.")]
    Mismatch,
    /// An empty password.
    #[error("Error: Empty password.")]
    Empty,
    /// `-D` of a user that is not in the file (mosquitto_passwd warns and fails too).
    #[error("Warning: User {0} not found in password file.")]
    NotFound(String),
    /// `-U` met a line that is not `user:password`.
    #[error("Error: Invalid line {line} in {}: expected user:password", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// Runs `mq passwd`.
pub async fn run(args: PasswdArgs) -> Result<(), super::Error> {
    Ok(change(&args)?)
}

/// Applies the change `args` asks for to the password file.
fn change(args: &PasswdArgs) -> Result<(), PasswdError> {
    let kind = HashKind::parse(&args.hash).unwrap_or(HashKind::Sha512Pbkdf2);
    let hasher = |pw: &str| Hash::new(kind, pw.as_bytes(), args.iterations).to_string();
    if args.upgrade {
        return upgrade(&args.file, &hasher);
    }
    let user = args.user.as_deref().unwrap_or_default();
    password::validate_username(user).map_err(|reason| PasswdError::BadUsername {
        user: user.to_string(),
        reason,
    })?;
    if args.delete {
        return delete(&args.file, user);
    }
    let pw = match &args.password {
        Some(pw) => pw.clone(),
        None => prompt_twice()?,
    };
    if pw.is_empty() {
        return Err(PasswdError::Empty);
    }
    let entry = format!("{user}:{}", hasher(&pw));
    if args.create {
        return write_atomically(&args.file, &format!("{entry}\n"));
    }
    let text = read(&args.file)?;
    write_atomically(&args.file, &set_entry(&text, user, &entry))
}

/// The user name of an entry line, `None` for comments and blank lines.
fn entry_user(line: &str) -> Option<&str> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    Some(line.split_once(':').map_or(line, |(u, _)| u))
}

/// `text` with `user`'s line replaced by `entry`, or `entry` appended.
pub fn set_entry(text: &str, user: &str, entry: &str) -> String {
    let mut out = String::with_capacity(text.len() + entry.len() + 1);
    let mut found = false;
    for line in text.lines() {
        if entry_user(line) == Some(user) {
            if !found {
                out.push_str(entry);
                out.push('\n');
            }
            found = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !found {
        out.push_str(entry);
        out.push('\n');
    }
    out
}

fn delete(path: &Path, user: &str) -> Result<(), PasswdError> {
    let text = read(path)?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| entry_user(l) != Some(user))
        .collect();
    if kept.len() == text.lines().count() {
        return Err(PasswdError::NotFound(user.to_string()));
    }
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    write_atomically(path, &out)
}

/// Hashes every `user:password` line (mosquitto_passwd -U; like it, not idempotent).
fn upgrade(path: &Path, hasher: &dyn Fn(&str) -> String) -> Result<(), PasswdError> {
    let text = read(path)?;
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if entry_user(line).is_none() {
            out.push_str(line);
        } else {
            let (user, pw) = line.trim_end_matches('\r').split_once(':').ok_or_else(|| {
                PasswdError::BadLine {
                    path: path.to_path_buf(),
                    line: i + 1,
                }
            })?;
            out.push_str(&format!("{user}:{}", hasher(pw)));
        }
        out.push('\n');
    }
    write_atomically(path, &out)
}

fn read(path: &Path) -> Result<String, PasswdError> {
    fs::read_to_string(path).map_err(|source| PasswdError::File {
        what: "Unable to open file",
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `text` to a temporary file in the same directory and renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> Result<(), PasswdError> {
    let err = |source| PasswdError::File {
        what: "Unable to write file",
        path: path.to_path_buf(),
        source,
    };
    let mode = fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Asks for the password twice: on the terminal without echo when there is one, else as two
/// lines of stdin (for scripts).
fn prompt_twice() -> Result<String, PasswdError> {
    let (first, second) = if unsafe_isatty(0) {
        let tty = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(PasswdError::Prompt)?;
        (
            tty_read(&tty, "Password: ")?,
            tty_read(&tty, "Reenter password: ")?,
        )
    } else {
        let mut lines = io::stdin().lock().lines();
        let mut next = || match lines.next() {
            Some(Ok(l)) => Ok(l.trim_end_matches('\r').to_string()),
            Some(Err(e)) => Err(PasswdError::Prompt(e)),
            None => Err(PasswdError::Prompt(io::ErrorKind::UnexpectedEof.into())),
        };
        (next()?, next()?)
    };
    if first != second {
        return Err(PasswdError::Mismatch);
    }
    Ok(first)
}

fn unsafe_isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// Prints `prompt` on the terminal and reads one line with echo switched off, restoring the
/// terminal's settings afterwards.
fn tty_read(tty: &fs::File, prompt: &str) -> Result<String, PasswdError> {
    use std::os::fd::AsRawFd;
    let fd = tty.as_raw_fd();
    let mut w = tty;
    w.write_all(prompt.as_bytes())
        .map_err(PasswdError::Prompt)?;
    w.flush().map_err(PasswdError::Prompt)?;
    // SAFETY: termios is plain data; tcgetattr fills it for a valid descriptor.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let have_termios = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if have_termios {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: fd is open and quiet is a copy of its own settings.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let read = io::BufReader::new(tty).read_line(&mut line);
    if have_termios {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    read.map_err(PasswdError::Prompt)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_entry_replaces_or_appends_and_keeps_comments() {
        let text = "# users\nalice:old\nbob:x\n";
        assert_eq!(
            set_entry(text, "alice", "alice:new"),
            "# users\nalice:new\nbob:x\n"
        );
        assert_eq!(
            set_entry(text, "carol", "carol:c"),
            "# users\nalice:old\nbob:x\ncarol:c\n"
        );
        assert_eq!(set_entry("", "a", "a:h"), "a:h\n");
        // A commented-out entry is not the user's line.
        assert_eq!(
            set_entry("#alice:x\n", "alice", "alice:h"),
            "#alice:x\nalice:h\n"
        );
    }
}
