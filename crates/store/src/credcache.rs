//! Passwords verified recently, so that a client logging in again and again
//! does not pay for argon2 each time. An entry holds the stored argon2 hash it
//! was checked against and a keyed SHA-256 of the password (the key is random
//! per process, never the password itself); a changed password hash, an
//! expired entry or a different password all fall back to argon2. Only
//! successes are remembered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// How long a verified password is trusted without argon2.
const TTL: Duration = Duration::from_secs(3600);
/// Entries kept at most; the cache is emptied when it is full.
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct VerifiedCache {
    key: [u8; 32],
    entries: Mutex<HashMap<String, Verified>>,
}

struct Verified {
    stored_hash: String,
    digest: [u8; 32],
    at: Instant,
}

impl VerifiedCache {
    pub fn new() -> VerifiedCache {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        VerifiedCache {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, address: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((address.len() as u64).to_le_bytes());
        h.update(address.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// True when `password` was verified against `stored_hash` recently.
    pub fn check(&self, address: &str, stored_hash: &str, password: &str) -> bool {
        let digest = self.digest(address, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(address).is_some_and(|v| {
            v.stored_hash == stored_hash
                && v.at.elapsed() < TTL
                && constant_time_eq(&v.digest, &digest)
        })
    }

    /// Remembers that `password` matched `stored_hash`.
    pub fn remember(&self, address: &str, stored_hash: &str, password: &str) {
        let digest = self.digest(address, password);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            address.to_string(),
            Verified {
                stored_hash: stored_hash.to_string(),
                digest,
                at: Instant::now(),
            },
        );
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_password_and_hash_hit() {
        let c = VerifiedCache::new();
        assert!(!c.check("a@x", "$h1", "pw"));
        c.remember("a@x", "$h1", "pw");
        assert!(c.check("a@x", "$h1", "pw"));
        assert!(!c.check("a@x", "$h1", "pw2"));
        assert!(!c.check("a@x", "$h2", "pw"));
        assert!(!c.check("b@x", "$h1", "pw"));
    }
}
