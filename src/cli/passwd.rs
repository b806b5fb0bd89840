//! `mq passwd`: manage a mosquitto password file, with mosquitto_passwd's flags.

use clap::Args;
use std::path::PathBuf;

/// Arguments of `mq passwd`.
///
/// ```text
/// mq passwd [-H hash] [-I iterations] [-c | -D] FILE USER     prompt for the password (twice)
/// mq passwd [-H hash] [-I iterations] [-c] -b FILE USER PASS  password on the command line
/// mq passwd -U FILE                                          hash a plain-text user:password file
/// ```
#[derive(Args, Debug, Clone)]
pub struct PasswdArgs {
    /// Batch mode: take the password from the command line.
    #[arg(short = 'b', conflicts_with_all = ["delete", "upgrade"])]
    pub batch: bool,
    /// Create a new password file, overwriting any existing one.
    #[arg(short = 'c', conflicts_with_all = ["delete", "upgrade"])]
    pub create: bool,
    /// Delete USER from the file.
    #[arg(short = 'D', conflicts_with = "upgrade")]
    pub delete: bool,
    /// Upgrade a plain-text `user:password` file in place to hashed passwords.
    #[arg(short = 'U')]
    pub upgrade: bool,
    /// Hash: sha512-pbkdf2 (mosquitto 2.x) or sha512 (mosquitto 1.x).
    #[arg(short = 'H', value_name = "HASH", default_value = "sha512-pbkdf2",
          value_parser = ["sha512-pbkdf2", "sha512"])]
    pub hash: String,
    /// PBKDF2 iterations.
    #[arg(short = 'I', value_name = "ITERATIONS", default_value_t = 101,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,
    /// The password file.
    pub file: PathBuf,
    /// The user to add, update or delete (not with -U).
    #[arg(required_unless_present = "upgrade", conflicts_with = "upgrade")]
    pub user: Option<String>,
    /// The password (with -b only).
    #[arg(requires = "batch", required_if_eq("batch", "true"))]
    pub password: Option<String>,
}
