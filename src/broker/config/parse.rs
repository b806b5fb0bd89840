//! Reading a config file: lines, comments, `include_dir`, and the value parsers every option
//! uses (numbers with their range, booleans, required words).

use super::{Config, ConfigError, bridge};
use std::path::{Path, PathBuf};

/// The state of a parse: the config being filled and what later lines depend on.
pub(super) struct Parser<'a> {
    pub(super) config: &'a mut Config,
    pub(super) current_listener: Option<usize>,
    pub(super) log_types_seen: bool,
    /// Whether a `log_dest` line was read (the first replaces the default).
    pub(super) log_dests_seen: bool,
    /// Whether a global `allow_anonymous` line was read.
    pub(super) anonymous_seen: bool,
    /// Whether a global `password_file` or `acl_file` line was read.
    pub(super) security_seen: bool,
    pub(super) depth: u8,
    /// Bridges read so far; the last one takes the bridge options.
    pub(super) bridges: Vec<bridge::Draft>,
}

impl<'a> Parser<'a> {
    /// A parser filling `config`, before any line is read.
    pub(super) fn new(config: &'a mut Config) -> Parser<'a> {
        Parser {
            config,
            current_listener: None,
            log_types_seen: false,
            log_dests_seen: false,
            anonymous_seen: false,
            security_seen: false,
            depth: 0,
            bridges: Vec::new(),
        }
    }
}

impl Parser<'_> {
    pub(super) fn file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read config file: {e}"),
        })?;
        self.bytes(&bytes, path)
    }

    pub(super) fn text(&mut self, text: &str, file: &Path) -> Result<(), ConfigError> {
        self.bytes(text.as_bytes(), file)
    }

    /// Parses the lines of a file. Comments may hold any bytes (mosquitto reads them as
    /// bytes too); an option line must be UTF-8.
    fn bytes(&mut self, text: &[u8], file: &Path) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
            if raw.first() == Some(&b'#') || raw.trim_ascii().is_empty() {
                continue;
            }
            let line = std::str::from_utf8(raw).map_err(|e| ConfigError {
                file: file.to_path_buf(),
                line: i + 1,
                message: format!(
                    "not valid UTF-8 (byte {} of the line); only comments may hold other bytes",
                    e.valid_up_to() + 1
                ),
            })?;
            let line = line.trim_end_matches('\r');
            let (name, value) = match line.trim().split_once(char::is_whitespace) {
                Some((n, v)) => (n, v.trim()),
                None => (line.trim(), ""),
            };
            self.option(name, value, file, i + 1)
                .map_err(|message| ConfigError {
                    file: file.to_path_buf(),
                    line: i + 1,
                    message,
                })?;
        }
        Ok(())
    }

    pub(super) fn include_dir(&mut self, value: &str, file: &Path) -> Result<(), String> {
        if self.depth >= 8 {
            return Err("include_dir nested too deeply (does a file include itself?)".into());
        }
        let mut dir = PathBuf::from(word("include_dir", value)?);
        if dir.is_relative() {
            if let Some(parent) = file.parent() {
                dir = parent.join(dir);
            }
        }
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read include_dir {}: {e}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        self.depth += 1;
        for f in files {
            // An error inside an included file names that file, so pass it through as text.
            let r = self.file(&f).map_err(|e| e.to_string());
            if r.is_err() {
                self.depth -= 1;
                return r;
            }
        }
        self.depth -= 1;
        Ok(())
    }
}

pub(super) fn word<'v>(name: &str, value: &'v str) -> Result<&'v str, String> {
    if value.is_empty() {
        Err(format!("{name} needs a value"))
    } else {
        Ok(value)
    }
}

/// An integer type's bounds, for "out of range" messages.
pub(super) trait Ranged {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! ranged {
    ($($t:ty),*) => {$(
        impl Ranged for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        }
    )*};
}
ranged!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

pub(super) fn num<T: std::str::FromStr + Ranged>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| match value.parse::<i128>() {
        Ok(_) => format!("{name} {value} is out of range {}-{}", T::MIN, T::MAX),
        Err(_) => format!("invalid {name} value '{value}' (expected a number)"),
    })
}

pub(super) fn boolean(name: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "invalid {name} value '{value}' (expected true or false)"
        )),
    }
}
