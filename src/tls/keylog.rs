//! `tls_keylog FILE` / `--tls-keylog FILE`: the session secrets in the NSS key log format, so
//! that Wireshark can decrypt a capture (as mosquitto 2.1's option of the same name). For
//! debugging only: anyone who reads the file can read the traffic.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Appends one `LABEL CLIENT_RANDOM SECRET` line (hex) per secret to a file.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Opens (creating, mode 0600) `path` for appending.
    pub fn open(path: &Path) -> Result<KeyLogFile, super::ConfigError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| super::ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(KeyLogFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // A debugging aid: a full disk must not break the connection it describes.
        let _ = file.write_all(line.as_bytes());
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn lines_are_in_nss_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.log");
        let log = KeyLogFile::open(&path).unwrap();
        log.log("CLIENT_RANDOM", &[0xab, 0x01], &[0xff]);
        log.log("SERVER_TRAFFIC_SECRET_0", &[0x00], &[0x10, 0x20]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "CLIENT_RANDOM ab01 ff\nSERVER_TRAFFIC_SECRET_0 00 1020\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only");
    }
}
