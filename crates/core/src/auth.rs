//! Authentication shared by every daemon: SASL decoding (`sasl`), failed-login
//! limiting (`limiter`) and the [`Authenticator`] that checks a password against
//! the store under the plaintext and rate-limit rules of DESIGN.md.

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::AuthConfig;
use crate::{Error, Secret};

mod limiter;
mod sasl;

pub use limiter::{Clock, LoginLimiter, ManualClock, SystemClock};
pub use sasl::{
    Credentials, Exchange, MAX_FIELD_LEN, MAX_RESPONSE_LEN, Mechanism, Response, Step,
    decode_initial_response, decode_plain, decode_response, encode_challenge,
};

/// 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Checks passwords for every daemon of a process; share it behind an `Arc` so the
/// failure counts are shared too.
pub struct Authenticator {
    store: store::Store,
    limiter: LoginLimiter,
    allow_plaintext_on_loopback: bool,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("store", &self.store.path())
            .field("limiter", &self.limiter)
            .field(
                "allow_plaintext_on_loopback",
                &self.allow_plaintext_on_loopback,
            )
            .finish()
    }
}

impl Authenticator {
    pub fn new(store: store::Store, config: &AuthConfig) -> Self {
        Authenticator::with_clock(store, config, Arc::new(SystemClock))
    }

    pub fn with_clock(store: store::Store, config: &AuthConfig, clock: Arc<dyn Clock>) -> Self {
        Authenticator {
            store,
            limiter: LoginLimiter::new(config, clock),
            allow_plaintext_on_loopback: config.allow_plaintext_on_loopback,
        }
    }

    /// Whether a password may be sent on this connection: always under TLS, and
    /// without it only from loopback when the config allows. Daemons use it to
    /// advertise AUTH=PLAIN or LOGINDISABLED (RFC 9051 6.2.3, 7.2.2).
    pub fn plaintext_allowed(&self, peer: IpAddr, secure: bool) -> bool {
        secure || (self.allow_plaintext_on_loopback && is_loopback(peer))
    }

    /// Checks `username` and `password` from `peer`. Refuses without TLS where
    /// plaintext is not allowed, and while the address or account is locked out;
    /// counts failures; a store failure is temporary, never "wrong password".
    pub async fn login(
        &self,
        peer: IpAddr,
        secure: bool,
        username: &str,
        password: &Secret<String>,
    ) -> Result<store::Account, Error> {
        if !self.plaintext_allowed(peer, secure) {
            tracing::info!(%peer, "refused plaintext login without TLS");
            return Err(Error::EncryptionRequired);
        }
        if let Err(retry_after) = self.limiter.check(peer, username) {
            tracing::warn!(%peer, user = ?username, ?retry_after, "login refused: locked out");
            return Err(Error::RateLimited { retry_after });
        }
        match self
            .store
            .verify_password(username, password.expose())
            .await
        {
            Ok(Some(account)) => {
                self.limiter.record_success(username);
                tracing::info!(%peer, user = %account.address, "login");
                Ok(account)
            }
            Ok(None) => {
                self.limiter.record_failure(peer, username);
                // user as Debug: it is client-supplied and may hold control characters.
                tracing::warn!(%peer, user = ?username, "login failed: wrong user name or password");
                Err(Error::AuthenticationFailed)
            }
            Err(e) => {
                tracing::error!(%peer, user = ?username, error = %e, "login could not be checked");
                Err(Error::AuthUnavailable(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::Duration;

    const REMOTE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn pw(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    async fn store_with_alice(dir: &std::path::Path) -> store::Store {
        let store = store::Store::open(&dir.join("zest.db")).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let alice = store::EmailAddress::parse("alice@example.org").unwrap();
        store.create_account(&alice, "right", false).await.unwrap();
        store
    }

    #[test]
    fn loopback_addresses() {
        assert!(is_loopback(LOCAL));
        assert!(is_loopback(IpAddr::V4(Ipv4Addr::new(127, 8, 9, 10))));
        assert!(is_loopback(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(is_loopback(IpAddr::V6(
            Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped()
        )));
        assert!(!is_loopback(REMOTE));
        assert!(!is_loopback(IpAddr::V6(
            Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped()
        )));
        assert!(!is_loopback(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
    }

    #[tokio::test]
    async fn plaintext_policy() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_alice(dir.path()).await;
        let auth = Authenticator::new(store.clone(), &AuthConfig::default());
        assert!(auth.plaintext_allowed(REMOTE, true));
        assert!(auth.plaintext_allowed(LOCAL, false));
        assert!(!auth.plaintext_allowed(REMOTE, false));
        assert!(matches!(
            auth.login(REMOTE, false, "alice@example.org", &pw("right"))
                .await,
            Err(Error::EncryptionRequired)
        ));
        let account = auth
            .login(LOCAL, false, "alice@example.org", &pw("right"))
            .await
            .unwrap();
        assert_eq!(account.address.as_str(), "alice@example.org");

        let strict = AuthConfig {
            allow_plaintext_on_loopback: false,
            ..AuthConfig::default()
        };
        let auth = Authenticator::new(store, &strict);
        assert!(!auth.plaintext_allowed(LOCAL, false));
        assert!(matches!(
            auth.login(LOCAL, false, "alice@example.org", &pw("right"))
                .await,
            Err(Error::EncryptionRequired)
        ));
        assert!(
            auth.login(LOCAL, true, "alice@example.org", &pw("right"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn wrong_passwords_lock_out_then_time_unlocks() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_alice(dir.path()).await;
        let clock = Arc::new(ManualClock::default());
        let auth = Authenticator::with_clock(store, &AuthConfig::default(), clock.clone());

        for _ in 0..5 {
            assert!(matches!(
                auth.login(REMOTE, true, "alice@example.org", &pw("wrong"))
                    .await,
                Err(Error::AuthenticationFailed)
            ));
        }
        // Locked: even the right password is refused, from anywhere.
        for peer in [REMOTE, IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))] {
            match auth
                .login(peer, true, "alice@example.org", &pw("right"))
                .await
            {
                Err(Error::RateLimited { retry_after }) => {
                    assert_eq!(retry_after, Duration::from_secs(2))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        clock.advance(Duration::from_secs(2));
        let account = auth
            .login(REMOTE, true, "alice@example.org", &pw("right"))
            .await
            .unwrap();
        assert_eq!(account.address.as_str(), "alice@example.org");
        // Success cleared the account, so a new address may try it at once...
        let elsewhere = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 3));
        assert!(matches!(
            auth.login(elsewhere, true, "alice@example.org", &pw("wrong"))
                .await,
            Err(Error::AuthenticationFailed)
        ));
        // ...but REMOTE's own tally stands: one more failure locks it for 4 s.
        assert!(matches!(
            auth.login(REMOTE, true, "nobody@example.org", &pw("x"))
                .await,
            Err(Error::AuthenticationFailed)
        ));
        assert!(matches!(
            auth.login(REMOTE, true, "bob@example.org", &pw("x")).await,
            Err(Error::RateLimited { retry_after }) if retry_after == Duration::from_secs(4)
        ));
    }

    #[tokio::test]
    async fn unknown_users_and_bad_names_are_plain_failures() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::new(store_with_alice(dir.path()).await, &AuthConfig::default());
        for user in ["bob@example.org", "not an address", ""] {
            assert!(matches!(
                auth.login(LOCAL, true, user, &pw("right")).await,
                Err(Error::AuthenticationFailed)
            ));
        }
    }

    #[tokio::test]
    async fn store_trouble_is_temporary_and_not_counted() {
        let dir = tempfile::tempdir().unwrap();
        store_with_alice(dir.path()).await.close().await;
        let db = dir.path().join("zest.db");
        let store = store::Store::open(&db).await.unwrap();
        let auth = Authenticator::new(store, &AuthConfig::default());
        // The database file vanishes under the running store: reads now fail.
        std::fs::remove_file(&db).unwrap();
        std::fs::create_dir(&db).unwrap();
        for _ in 0..10 {
            match auth
                .login(REMOTE, true, "alice@example.org", &pw("wrong"))
                .await
            {
                Err(Error::AuthUnavailable(e)) => assert!(e.is_temporary(), "{e}"),
                other => panic!("unexpected {other:?}"),
            }
        }
        // Ten store failures counted nothing against the address or the account.
        assert_eq!(auth.limiter.check(REMOTE, "alice@example.org"), Ok(()));
    }
}
