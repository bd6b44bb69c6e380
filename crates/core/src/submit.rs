//! The identity the submission daemon uses to log in to imapd.
//!
//! BURL (RFC 4468) makes the submission server fetch message parts by IMAP URL.
//! The submission daemon logs in to imapd as the reserved user [`SUBMIT_USER`]
//! with a shared secret kept in `<data_dir>/submit-secret`; imapd lets only that
//! session run URLFETCH for `submit+<user>` URLAUTH URLs. Both daemons call
//! [`SubmitIdentity::load_or_create`] on the same data directory and so agree
//! on the secret without any configuration.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::RngCore;

/// The login name of the submission daemon's IMAP session. `$` cannot start an
/// account name, so no real user can take it.
pub const SUBMIT_USER: &str = "$submit";

/// File name, inside the data directory, holding the shared secret.
const FILE_NAME: &str = "submit-secret";

/// Number of random bytes in a secret (hex encoded on disk: twice as many chars).
const SECRET_BYTES: usize = 32;

/// The shared secret between submission and imapd.
pub struct SubmitIdentity {
    secret: String,
}

impl SubmitIdentity {
    /// Reads `data_dir/submit-secret`, creating it (32 random bytes, hex, mode
    /// 0600) when absent. Creation is atomic: the secret is written to a private
    /// temporary file which is then hard-linked into place, so two processes
    /// starting at once end up reading the same secret.
    pub fn load_or_create(data_dir: &Path) -> io::Result<SubmitIdentity> {
        let path = data_dir.join(FILE_NAME);
        match read_secret(&path) {
            Ok(secret) => return Ok(SubmitIdentity { secret }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fs::create_dir_all(data_dir)?;
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = to_hex(&bytes);
        let tmp = temp_path(data_dir, &bytes);
        let written = write_private(&tmp, &secret);
        let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(SubmitIdentity { secret }),
            // Another process won the race: its secret is the one.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                read_secret(&path).map(|secret| SubmitIdentity { secret })
            }
            Err(e) => Err(e),
        }
    }

    /// The password to log in with as [`SUBMIT_USER`].
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// True when `user` is [`SUBMIT_USER`] and `password` is the secret. The
    /// password comparison takes the same time wherever the first difference is.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        let user_ok = user == SUBMIT_USER;
        let pass_ok = constant_time_eq(self.secret.as_bytes(), password.as_bytes());
        user_ok & pass_ok
    }
}

impl fmt::Debug for SubmitIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitIdentity")
            .field("user", &SUBMIT_USER)
            .field("secret", &"***")
            .finish()
    }
}

fn read_secret(path: &Path) -> io::Result<String> {
    let text = fs::read_to_string(path)?;
    let secret = text.trim().to_string();
    if secret.len() != SECRET_BYTES * 2 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a {}-byte hex secret",
                path.display(),
                SECRET_BYTES
            ),
        ));
    }
    Ok(secret)
}

fn write_private(path: &Path, secret: &str) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// A per-attempt name so that concurrent creators never share a temp file.
fn temp_path(dir: &Path, bytes: &[u8]) -> PathBuf {
    let tag = to_hex(&bytes[..8]);
    dir.join(format!(".{FILE_NAME}.{}.{tag}.tmp", std::process::id()))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Barrier};

    #[test]
    fn creates_a_private_hex_secret_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = SubmitIdentity::load_or_create(dir.path()).unwrap();
        assert_eq!(a.secret().len(), 64);
        assert!(a.secret().bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = SubmitIdentity::load_or_create(dir.path()).unwrap();
        assert_eq!(a.secret(), b.secret());
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn creates_the_data_dir_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let id = SubmitIdentity::load_or_create(&nested).unwrap();
        assert!(id.verify(SUBMIT_USER, id.secret()));
    }

    #[test]
    fn two_different_dirs_get_different_secrets() {
        let d1 = tempfile::tempdir().unwrap();
        let d2 = tempfile::tempdir().unwrap();
        let a = SubmitIdentity::load_or_create(d1.path()).unwrap();
        let b = SubmitIdentity::load_or_create(d2.path()).unwrap();
        assert_ne!(a.secret(), b.secret());
    }

    #[test]
    fn concurrent_creators_agree() {
        for _ in 0..20 {
            let dir = Arc::new(tempfile::tempdir().unwrap());
            let barrier = Arc::new(Barrier::new(8));
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let dir = Arc::clone(&dir);
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        barrier.wait();
                        SubmitIdentity::load_or_create(dir.path())
                            .unwrap()
                            .secret()
                            .to_string()
                    })
                })
                .collect();
            let secrets: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            assert!(secrets.iter().all(|s| s == &secrets[0]));
        }
    }

    #[test]
    fn verify_checks_user_and_password() {
        let dir = tempfile::tempdir().unwrap();
        let id = SubmitIdentity::load_or_create(dir.path()).unwrap();
        let secret = id.secret().to_string();
        assert!(id.verify(SUBMIT_USER, &secret));
        assert!(!id.verify("alice", &secret));
        assert!(!id.verify(SUBMIT_USER, ""));
        assert!(!id.verify(SUBMIT_USER, &secret[..63]));
        assert!(!id.verify(SUBMIT_USER, &format!("{secret}0")));
        let mut flipped = secret.clone().into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        assert!(!id.verify(SUBMIT_USER, &String::from_utf8(flipped).unwrap()));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let id = SubmitIdentity::load_or_create(dir.path()).unwrap();
        let shown = format!("{id:?}");
        assert!(!shown.contains(id.secret()));
        assert!(shown.contains("***"));
    }

    #[test]
    fn a_corrupt_secret_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), "short\n").unwrap();
        let err = SubmitIdentity::load_or_create(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn constant_time_eq_matches_plain_eq() {
        let cases: [(&[u8], &[u8]); 5] = [
            (b"", b""),
            (b"a", b""),
            (b"abc", b"abc"),
            (b"abc", b"abd"),
            (b"\xff", b""),
        ];
        for (a, b) in cases {
            assert_eq!(constant_time_eq(a, b), a == b);
            assert_eq!(constant_time_eq(b, a), a == b);
        }
    }
}
