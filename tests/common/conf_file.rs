//! Running `mq broker -c` on a config file written by the test: the file, the process, and what
//! it logs and routes.

use super::clients::DebugSub;
use super::{ChildGuard, Peer, free_port, mq_process, wait_until};
use std::path::Path;
use std::process::Command;

/// True when the tests run as root (privilege dropping, SO_BINDTODEVICE, the stock paths).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Reads `path` as text, empty when it does not exist yet.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Publishes `payload` on `topic` with mosquitto_pub and checks `sub` gets it.
pub fn routes(port: u16, sub: &DebugSub, topic: &str, payload: &str) {
    let st = Command::new(Peer::MosquittoClients.program("mosquitto_pub"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-t", topic, "-m", payload])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        sub.wait_for(&format!("{topic} {payload}")),
        "{:?}",
        sub.lines()
    );
}

/// Starts `mq broker -c` on `text` (a listener on a free port is added) and waits until it
/// answers on that port. It stays root when started as root: as the `mosquitto` user it could
/// not read its own config again on SIGHUP, in a private temporary folder.
pub fn broker(dir: &Path, text: &str) -> (ChildGuard, u16) {
    let port = free_port();
    let conf = dir.join("mq.conf");
    let text = format!("user root\nlistener {port} 127.0.0.1\nallow_anonymous true\n{text}");
    std::fs::write(&conf, text).unwrap();
    let b = ChildGuard::spawn(mq_process().args(["broker", "-c"]).arg(&conf));
    assert!(
        wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "{}",
        b.stderr.text()
    );
    (b, port)
}
