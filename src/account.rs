//! Who the broker runs as: looking up a user and becoming it, as mosquitto's `user` option
//! does when the broker starts as root (after its sockets, log files and pid file are open).

use std::ffi::{CStr, CString};

/// A system account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The user name.
    pub name: String,
    /// Its user id.
    pub uid: libc::uid_t,
    /// Its primary group.
    pub gid: libc::gid_t,
}

/// True when the process runs with root's effective user id.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The account named `name`; `Ok(None)` when there is none.
pub fn lookup(name: &str) -> std::io::Result<Option<Account>> {
    let Ok(c_name) = CString::new(name) else {
        return Ok(None);
    };
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: an all-zero passwd is a valid value for getpwnam_r to fill in.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, the buffer's length is passed with it.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        match rc {
            0 if found.is_null() => return Ok(None),
            0 => {
                return Ok(Some(Account {
                    name: name.to_string(),
                    uid: pwd.pw_uid,
                    gid: pwd.pw_gid,
                }));
            }
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            // Not found is reported as these by some name services.
            libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => return Ok(None),
            e => return Err(std::io::Error::from_raw_os_error(e)),
        }
    }
}

/// Becomes `account`: its supplementary groups, its primary group, then its user id (in that
/// order: once the user id changes, the groups can no longer be).
pub fn become_user(account: &Account) -> std::io::Result<()> {
    let name = CString::new(account.name.as_str()).map_err(std::io::Error::other)?;
    let check = |rc: libc::c_int, what: &str| match rc {
        0 => Ok(()),
        _ => {
            let e = std::io::Error::last_os_error();
            Err(std::io::Error::new(e.kind(), format!("{what}: {e}")))
        }
    };
    let name: &CStr = &name;
    // SAFETY: plain system calls on values we own; glibc applies set*id to every thread.
    unsafe {
        check(libc::initgroups(name.as_ptr(), account.gid), "initgroups")?;
        check(libc::setgid(account.gid), "setgid")?;
        check(libc::setuid(account.uid), "setuid")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_and_a_made_up_user_does_not() {
        let root = lookup("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(lookup("no-such-user-mq-test").unwrap(), None);
        assert_eq!(lookup("nul\0byte").unwrap(), None);
    }
}
