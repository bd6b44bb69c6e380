//! The one error type of zest-core; daemons map its variants to protocol replies.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- configuration ---
    #[error("cannot read config file {path}: {source}")]
    ConfigRead { path: PathBuf, source: io::Error },
    /// A syntax error, an unknown key or a bad value; `origin` names the file or the
    /// environment variable it came from.
    #[error("{origin}: {message}")]
    InvalidConfig { origin: String, message: String },
    #[error("unknown environment variable {name}: it names no config key (ZEST_<SECTION>_<KEY>)")]
    UnknownEnvVar { name: String },
    #[error("invalid log filter {filter:?}: {reason}")]
    InvalidLogFilter { filter: String, reason: String },

    // --- TLS ---
    #[error("cannot read {path}: {source}")]
    TlsFileRead { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    TlsFileWrite { path: PathBuf, source: io::Error },
    #[error("{path} is not valid PEM: {reason}")]
    InvalidPem { path: PathBuf, reason: String },
    #[error("{path} holds no certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no private key")]
    NoPrivateKey { path: PathBuf },
    #[error("the private key in {key} does not fit the certificate in {cert}: {reason}")]
    CertificateKeyMismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot generate a self-signed certificate for {hostname}: {reason}")]
    CertificateGeneration { hostname: String, reason: String },
    #[error("TLS set-up failed: {0}")]
    TlsSetup(#[from] rustls::Error),
    #[error("TLS handshake did not finish within {0:?}")]
    TlsHandshakeTimeout(Duration),
    #[error("TLS handshake failed: {0}")]
    TlsHandshake(#[source] io::Error),

    // --- SASL and login ---
    #[error("malformed SASL response: {0}")]
    MalformedSasl(&'static str),
    /// RFC 4954 4 / RFC 9051 6.2.2: the client answered a challenge with "*".
    #[error("authentication cancelled by the client")]
    SaslCancelled,
    #[error("authorization identity must be empty or equal to the user name")]
    AuthzidNotPermitted,
    #[error("plaintext authentication requires an encrypted connection")]
    EncryptionRequired,
    #[error("too many failed logins; try again in {}s", whole_seconds(*retry_after))]
    RateLimited { retry_after: Duration },
    #[error("wrong user name or password")]
    AuthenticationFailed,
    /// The account store could not answer; the client should retry later, and must
    /// not be told its password was wrong.
    #[error("authentication is temporarily unavailable: {0}")]
    AuthUnavailable(#[source] store::StoreError),

    // --- process ---
    #[error("cannot install the {signal} handler: {source}")]
    SignalHandler {
        signal: &'static str,
        source: io::Error,
    },
}

impl Error {
    /// A failure the client should retry later (IMAP NO [UNAVAILABLE], SMTP 454):
    /// nothing was wrong with what it sent.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Error::AuthUnavailable(_) | Error::RateLimited { .. })
    }
}

/// Rounds up, so a client told "1s" is not refused again for being early.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_rounded_up() {
        let e = Error::RateLimited {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(e.to_string(), "too many failed logins; try again in 2s");
        assert!(e.is_temporary());
        assert!(!Error::AuthenticationFailed.is_temporary());
    }
}
