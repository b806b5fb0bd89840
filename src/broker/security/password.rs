//! mosquitto's password file (`password_file`, written by `mosquitto_passwd` and `mq passwd`).
//!
//! One entry a line, `#` at column 0 starts a comment, blank lines are ignored:
//!
//! ```text
//! username:$7$<iterations>$<base64 salt>$<base64 hash>    PBKDF2-HMAC-SHA512 (mosquitto 2.x)
//! username:$6$<base64 salt>$<base64 hash>                 SHA512(password || salt) (mosquitto 1.x)
//! ```
//!
//! Base64 is the standard alphabet with padding. mosquitto 2.0 writes a 12-byte salt and 101
//! iterations, 2.1 a 64-byte salt and many more iterations: any salt of at least one byte and any
//! iteration count is accepted here, and new entries are written 2.0-style so that mosquitto 2.0
//! (which insists on 12-byte salts) accepts them too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::Rng as _;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Salt length mosquitto 2.0 writes and insists on when reading.
pub const SALT_LEN: usize = 12;
/// PBKDF2 iterations mosquitto_passwd 2.0 uses by default.
pub const DEFAULT_ITERATIONS: u32 = 101;
/// Length of a SHA-512 digest, the only hash length either format produces.
const HASH_LEN: usize = 64;

/// Which hash a new entry is written with (`mosquitto_passwd -H`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `$7$`: PBKDF2-HMAC-SHA512 (`-H sha512-pbkdf2`, the default).
    Sha512Pbkdf2,
    /// `$6$`: one round of salted SHA-512 (`-H sha512`), for mosquitto 1.x.
    Sha512,
}

impl HashKind {
    /// Parses `-H`'s values, `sha512-pbkdf2` and `sha512`.
    pub fn parse(s: &str) -> Option<HashKind> {
        match s {
            "sha512-pbkdf2" => Some(HashKind::Sha512Pbkdf2),
            "sha512" => Some(HashKind::Sha512),
            _ => None,
        }
    }
}

/// A stored password hash, either format.
#[derive(Clone, PartialEq, Eq)]
pub enum Hash {
    /// `$7$iterations$salt$hash`.
    Pbkdf2 {
        /// PBKDF2 iteration count.
        iterations: u32,
        /// Random salt.
        salt: Vec<u8>,
        /// Derived key (64 bytes when written by mosquitto).
        hash: Vec<u8>,
    },
    /// `$6$salt$hash`.
    Sha512 {
        /// Random salt.
        salt: Vec<u8>,
        /// SHA512(password || salt).
        hash: Vec<u8>,
    },
}

impl fmt::Debug for Hash {
    // Never print hashes in logs or panics; the parameters are enough to tell entries apart.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hash::Pbkdf2 {
                iterations, salt, ..
            } => write!(
                f,
                "Hash::Pbkdf2({iterations} iterations, {}-byte salt)",
                salt.len()
            ),
            Hash::Sha512 { salt, .. } => write!(f, "Hash::Sha512({}-byte salt)", salt.len()),
        }
    }
}

impl Hash {
    /// Hashes `password` with a fresh random 12-byte salt (`iterations` only matters for PBKDF2).
    pub fn new(kind: HashKind, password: &[u8], iterations: u32) -> Hash {
        let mut salt = vec![0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        Hash::with_salt(kind, password, salt, iterations)
    }

    /// Hashes `password` with the given salt; deterministic, for tests and known vectors.
    pub fn with_salt(kind: HashKind, password: &[u8], salt: Vec<u8>, iterations: u32) -> Hash {
        match kind {
            HashKind::Sha512Pbkdf2 => {
                let mut hash = vec![0u8; HASH_LEN];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, iterations, &mut hash);
                Hash::Pbkdf2 {
                    iterations,
                    salt,
                    hash,
                }
            }
            HashKind::Sha512 => {
                let hash = sha512_salted(password, &salt);
                Hash::Sha512 { salt, hash }
            }
        }
    }

    /// Parses the part after `username:`. The error is the reason, for a line-numbered message.
    pub fn parse(s: &str) -> Result<Hash, String> {
        if let Some(rest) = s.strip_prefix("$7$") {
            let mut parts = rest.split('$');
            let (Some(iter), Some(salt), Some(hash), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("malformed $7$ hash: expected $7$iterations$salt$hash".into());
            };
            let iterations = iter
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("bad iteration count '{iter}'"))?;
            let (salt, hash) = (decode_part("salt", salt)?, decode_part("hash", hash)?);
            Ok(Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            })
        } else if let Some(rest) = s.strip_prefix("$6$") {
            let Some((salt, hash)) = rest.split_once('$') else {
                return Err("malformed $6$ hash: expected $6$salt$hash".into());
            };
            let (salt, hash) = (decode_part("salt", salt)?, decode_part("hash", hash)?);
            Ok(Hash::Sha512 { salt, hash })
        } else if let Some(kind) = s.strip_prefix('$').and_then(|r| r.split('$').next()) {
            Err(format!("unknown hash type '${kind}$'"))
        } else {
            Err(
                "unknown hash type (plain-text password? convert the file with `mq passwd -U`)"
                    .into(),
            )
        }
    }

    /// True when `password` hashes to this entry. The comparison takes the same time wherever
    /// the first differing byte is.
    pub fn verify(&self, password: &[u8]) -> bool {
        let (computed, stored) = match self {
            Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut out);
                (out, hash)
            }
            Hash::Sha512 { salt, hash } => (sha512_salted(password, salt), hash),
        };
        constant_time_eq(&computed, stored)
    }

    /// A hash with the same cost as `self` that no password matches (well, with odds of 2^-512):
    /// checked in place of a missing user so that timing does not tell which users exist.
    fn decoy(&self) -> Hash {
        let mut rng = rand::rng();
        let mut random = |n: usize| {
            let mut v = vec![0u8; n];
            rng.fill_bytes(&mut v);
            v
        };
        match self {
            Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => Hash::Pbkdf2 {
                iterations: *iterations,
                salt: random(salt.len()),
                hash: random(hash.len()),
            },
            Hash::Sha512 { salt, hash } => Hash::Sha512 {
                salt: random(salt.len()),
                hash: random(hash.len()),
            },
        }
    }
}

impl fmt::Display for Hash {
    /// The file form: `$7$101$salt$hash` or `$6$salt$hash`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => write!(
                f,
                "$7${iterations}${}${}",
                B64.encode(salt),
                B64.encode(hash)
            ),
            Hash::Sha512 { salt, hash } => {
                write!(f, "$6${}${}", B64.encode(salt), B64.encode(hash))
            }
        }
    }
}

fn decode_part(what: &str, s: &str) -> Result<Vec<u8>, String> {
    let bytes = B64
        .decode(s)
        .map_err(|e| format!("bad base64 in {what}: {e}"))?;
    if bytes.is_empty() {
        return Err(format!("empty {what}"));
    }
    Ok(bytes)
}

fn sha512_salted(password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut h = Sha512::new();
    h.update(password);
    h.update(salt);
    h.finalize().to_vec()
}

/// Compares without an early exit; only the (public) lengths short-circuit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Checks a username the way mosquitto_passwd does: not empty, no `:` (the field separator),
/// no control characters, shorter than 65,536 bytes (MQTT's string limit).
pub fn validate_username(user: &str) -> Result<(), &'static str> {
    if user.is_empty() {
        Err("username must not be empty")
    } else if user.contains(':') {
        Err("username must not contain ':'")
    } else if user.chars().any(char::is_control) {
        Err("username must not contain control characters")
    } else if user.len() >= 65536 {
        Err("username too long")
    } else {
        Ok(())
    }
}

/// Why a password file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PasswordFileError {
    /// The file could not be read at all.
    #[error("unable to open password file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// A line that is not `user:hash` with a hash we understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid password file {} line {line}: {reason}", path.display())]
pub struct BadLine {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it, and whose entry it was.
    pub reason: String,
}

/// A loaded password file: username to hash.
///
/// Like mosquitto, a line that cannot be used does not stop the rest of the file from
/// working: it is reported in [`PasswordFile::problems`] (with its line number) and its user,
/// when the line names one, is denied.
#[derive(Debug, Clone)]
pub struct PasswordFile {
    /// `None`: listed on a malformed line, so refused whatever the password.
    users: HashMap<String, Option<Hash>>,
    /// Checked when the user is missing, so that a miss costs as much as a hit.
    decoy: Hash,
    /// The lines that could not be used.
    problems: Vec<BadLine>,
}

impl PasswordFile {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<PasswordFile, PasswordFileError> {
        let text = std::fs::read(path).map_err(|source| PasswordFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PasswordFile::parse(&String::from_utf8_lossy(&text), path))
    }

    /// Parses the text of a password file; `path` only names it in problems.
    pub fn parse(text: &str, path: &Path) -> PasswordFile {
        let mut users = HashMap::new();
        let mut problems = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line.split_once(':').unwrap_or((line, ""));
            let parsed = match validate_username(user) {
                Err(reason) => Err(reason.to_string()),
                Ok(()) if hash.is_empty() && !line.contains(':') => {
                    Err("expected username:hash".to_string())
                }
                Ok(()) => Hash::parse(hash),
            };
            // Like mosquitto, a repeated user keeps its last entry.
            match parsed {
                Ok(hash) => {
                    users.insert(user.to_string(), Some(hash));
                }
                Err(reason) => {
                    let valid_user = validate_username(user).is_ok();
                    let reason = match valid_user {
                        true => format!("{reason}; user '{user}' cannot log in"),
                        false => reason,
                    };
                    if valid_user {
                        users.insert(user.to_string(), None);
                    }
                    problems.push(BadLine {
                        path: path.to_path_buf(),
                        line: i + 1,
                        reason,
                    });
                }
            }
        }
        let template = users.values().flatten().next().cloned().unwrap_or_else(|| {
            Hash::with_salt(
                HashKind::Sha512Pbkdf2,
                b"",
                vec![0; SALT_LEN],
                DEFAULT_ITERATIONS,
            )
        });
        PasswordFile {
            users,
            decoy: template.decoy(),
            problems,
        }
    }

    /// The lines that could not be used, each naming the file, line and reason.
    pub fn problems(&self) -> &[BadLine] {
        &self.problems
    }

    /// True when `user` is listed with a usable entry and `password` is theirs. An empty
    /// password never matches (mosquitto refuses it too, though `mosquitto_passwd -b` writes
    /// one). A missing user costs a hash computation too, so response time does not reveal
    /// which users exist.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        match self.users.get(user) {
            Some(Some(hash)) => hash.verify(password) && !password.is_empty(),
            Some(None) | None => {
                let _ = std::hint::black_box(self.decoy.verify(password));
                false
            }
        }
    }

    /// True when `user` has a usable entry.
    pub fn contains(&self, user: &str) -> bool {
        self.users.get(user).is_some_and(Option::is_some)
    }

    /// Number of users with a usable entry.
    pub fn len(&self) -> usize {
        self.users.values().flatten().count()
    }

    /// True when the file lets nobody in.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by mosquitto_passwd 2.0.11 for alice/secret (reference section 1.8).
    const ALICE: &str = "alice:$7$101$I6BmT2mWlBkdVcTY$BI+zdXjNh2q6dLSC/+giQ/8af3FwnYvOY7bEs9utKeaYNTGCcpaBzlUtFzYPgvdSFxdBGfbF//+Lw8hSqTSPsQ==";
    /// Made by `mosquitto_passwd -H sha512` 2.0.11 for bob/hunter2.
    const BOB: &str = "bob:$6$NpWfF4yVPkd0ZhXe$Ze80XVJoXU74BjQp94JwZXZ27IZfzbTOetn7UFqeK4hr3Yi2tpPUE/ZYJD/+oiq1P1ivY2PNg0E+TlPkk58L5Q==";

    fn parse(text: &str) -> Result<PasswordFile, BadLine> {
        let f = PasswordFile::parse(text, Path::new("pw"));
        match f.problems().first() {
            Some(bad) => Err(bad.clone()),
            None => Ok(f),
        }
    }

    #[test]
    fn mosquitto_pbkdf2_vector_verifies() {
        let f = parse(ALICE).unwrap();
        assert!(f.verify("alice", b"secret"));
        assert!(!f.verify("alice", b"secreT"));
        assert!(!f.verify("alice", b""));
        assert!(!f.verify("bob", b"secret"));
    }

    #[test]
    fn mosquitto_sha512_vector_verifies() {
        let f = parse(&format!("# users\n\n{ALICE}\n{BOB}\r\n")).unwrap();
        assert_eq!(f.len(), 2);
        assert!(f.verify("bob", b"hunter2"));
        assert!(!f.verify("bob", b"hunter3"));
        assert!(f.verify("alice", b"secret"));
    }

    #[test]
    fn written_entries_round_trip_in_mosquitto_2_0_shape() {
        for kind in [HashKind::Sha512Pbkdf2, HashKind::Sha512] {
            let h = Hash::new(kind, b"pw", DEFAULT_ITERATIONS);
            let text = h.to_string();
            let parts: Vec<&str> = text.split('$').collect();
            let salt = parts[parts.len() - 2];
            assert_eq!(B64.decode(salt).unwrap().len(), SALT_LEN);
            let parsed = Hash::parse(&text).unwrap();
            assert_eq!(parsed, h);
            assert!(parsed.verify(b"pw"));
            assert!(!parsed.verify(b"pW"));
        }
        assert!(
            Hash::new(HashKind::Sha512Pbkdf2, b"x", 101)
                .to_string()
                .starts_with("$7$101$")
        );
        assert!(
            Hash::new(HashKind::Sha512Pbkdf2, b"x", 7)
                .to_string()
                .starts_with("$7$7$")
        );
    }

    #[test]
    fn long_salts_and_other_iteration_counts_are_accepted() {
        // mosquitto 2.1 writes 64-byte salts and far more iterations.
        let h = Hash::with_salt(HashKind::Sha512Pbkdf2, b"pw", vec![7; 64], 1000);
        let f = parse(&format!("carol:{h}")).unwrap();
        assert!(f.verify("carol", b"pw"));
        let one = Hash::with_salt(HashKind::Sha512, b"pw", vec![1], 0);
        assert!(parse(&format!("dave:{one}")).unwrap().verify("dave", b"pw"));
    }

    #[test]
    fn missing_users_are_refused() {
        let f = parse("").unwrap();
        assert!(f.is_empty());
        assert!(!f.verify("alice", b""));
        assert!(!parse(ALICE).unwrap().verify("nobody", b"secret"));
    }

    #[test]
    fn bad_lines_name_the_line_and_reason() {
        let cases = [
            ("#c\nalice", 2, "expected username:hash"),
            ("alice:secret", 1, "unknown hash type"),
            ("alice:$5$abc$def", 1, "unknown hash type '$5$'"),
            ("alice:$7$x$I6BmT2mWlBkdVcTY$AA==", 1, "bad iteration count"),
            ("alice:$7$0$I6BmT2mWlBkdVcTY$AA==", 1, "bad iteration count"),
            ("alice:$7$101$I6Bm!!!$AA==", 1, "bad base64 in salt"),
            ("alice:$7$101$AAAA$", 1, "empty hash"),
            ("alice:$7$101$AAAA", 1, "malformed $7$"),
            ("\n\nalice:$6$AAAA", 3, "malformed $6$"),
            (":$6$AAAA$AAAA", 1, "must not be empty"),
        ];
        for (text, line, reason) in cases {
            match parse(text) {
                Err(BadLine {
                    line: l, reason: r, ..
                }) => {
                    assert_eq!(l, line, "{text}");
                    assert!(r.contains(reason), "{text}: {r}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let msg = parse("x").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid password file pw line 1: expected username:hash; user 'x' cannot log in"
        );
    }

    #[test]
    fn a_bad_line_denies_its_user_and_the_rest_of_the_file_works() {
        let text = format!(
            "carol:plaintext
{ALICE}
da:ve:$7$101$abc$def
:$6$AAAA$AAAA
{BOB}
"
        );
        let f = PasswordFile::parse(&text, Path::new("pw"));
        let lines: Vec<String> = f.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("line 1: unknown hash type"), "{lines:?}");
        assert!(
            lines[0].ends_with("user 'carol' cannot log in"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("line 3:") && lines[1].contains("'da'"),
            "{lines:?}"
        );
        assert!(
            lines[2].contains("line 4: username must not be empty"),
            "{lines:?}"
        );
        assert!(f.verify("alice", b"secret") && f.verify("bob", b"hunter2"));
        assert!(!f.verify("carol", b"plaintext") && !f.contains("carol"));
        assert!(!f.verify("da", b"ve:$7$101$abc$def"));
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn an_empty_password_never_authenticates() {
        // What `mosquitto_passwd -b pw erin ""` writes: a valid hash of the empty password.
        let h = Hash::new(HashKind::Sha512Pbkdf2, b"", DEFAULT_ITERATIONS);
        let f = PasswordFile::parse(&format!("erin:{h}"), Path::new("pw"));
        assert!(h.verify(b""), "the hash itself is of the empty password");
        assert!(!f.verify("erin", b""));
        assert!(!f.verify("erin", b"x"));
    }

    #[test]
    fn unreadable_file_is_named() {
        let err = PasswordFile::load(Path::new("/nonexistent/pw")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
    }

    #[test]
    fn usernames_follow_mosquitto_passwd_rules() {
        assert!(validate_username("alice").is_ok());
        assert!(validate_username("a b").is_ok());
        assert!(validate_username("a:b").is_err());
        assert!(validate_username("a\tb").is_err());
        assert!(validate_username("").is_err());
        assert!(validate_username(&"x".repeat(65536)).is_err());
    }

    #[test]
    fn hashes_are_not_printed_by_debug() {
        let h = Hash::parse(ALICE.split_once(':').unwrap().1).unwrap();
        assert_eq!(
            format!("{h:?}"),
            "Hash::Pbkdf2(101 iterations, 12-byte salt)"
        );
    }
}
