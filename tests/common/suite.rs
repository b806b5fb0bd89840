//! mosquitto's own broker tests (`shared/conformance`), as the conformance and TLS suite tests
//! run them: where the suite is, the ports it may take, and the script that runs `mq broker`.

use std::path::{Path, PathBuf};

/// The folder with `run-mosquitto-suite.sh` and `mosquitto-2.0.11/`: `MQ_CONFORMANCE_DIR`, or
/// `shared/conformance` beside the checkout (or beside its parent, for a worktree).
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MQ_CONFORMANCE_DIR") {
        return Some(PathBuf::from(d));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/conformance", "../../shared/conformance"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.join("run-mosquitto-suite.sh").is_file())
}

/// A first port with the two after it free too (a test of the suite takes up to three). Below
/// Linux's ephemeral range (32768 and up), so that no client socket of the suite's own, opened
/// between two tests, can take a port the next broker must listen on.
pub fn three_free_ports() -> u16 {
    let seed = std::process::id() as u16;
    for i in 0..200u16 {
        let base = 20000 + (seed.wrapping_add(i.wrapping_mul(97)) % 12000);
        let held: Vec<_> = (0..3)
            .filter_map(|i| std::net::TcpListener::bind(("127.0.0.1", base.checked_add(i)?)).ok())
            .collect();
        if held.len() == 3 {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

/// A two-line script in `dir` that runs `mq broker` with the suite's arguments.
pub fn wrapper(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("mq-broker");
    let script = format!(
        "#!/bin/sh\nexec '{}' broker \"$@\"\n",
        super::mq_path().display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}
