//! TLS for every daemon: the certificate (configured PEM files, or a self-signed one
//! generated once in data_dir/tls), a resolver that can swap it at run time, and an
//! acceptor with a handshake timeout for implicit TLS and STARTTLS alike.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;

use crate::Error;
use crate::config::Config;

mod validity;

/// Generated certificates stay within the 825 days Apple clients accept
/// (support.apple.com/HT210176) and are renewed when fewer than 30 days remain.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(825 * 86400);
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 86400);
/// Operators are warned this long before a configured certificate expires.
const WARN_BEFORE: Duration = Duration::from_secs(14 * 86400);

/// Builds the rustls server config for `config`; see [`TlsAcceptor::load`] for one
/// that can also reload the certificate.
pub fn load_server_config(config: &Config) -> Result<Arc<ServerConfig>, Error> {
    Ok(TlsAcceptor::load(config)?.server_config())
}

/// Every certificate resolver an acceptor of this process uses, so that one
/// SIGHUP reloads them all without each daemon keeping its own handle.
static LIVE_RESOLVERS: Mutex<Vec<Weak<CertResolver>>> = Mutex::new(Vec::new());

/// Reloads the certificate of every [`TlsAcceptor`] alive in this process (on
/// SIGHUP). New handshakes get the new certificate; established connections
/// keep theirs. Returns how many were reloaded; a resolver whose files cannot
/// be read keeps its current certificate and its error is returned after the
/// others were tried.
pub fn reload_all() -> Result<usize, Error> {
    let live: Vec<Arc<CertResolver>> = LIVE_RESOLVERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    let mut first_error = None;
    let mut reloaded = 0;
    for r in &live {
        match r.reload() {
            Ok(()) => reloaded += 1,
            Err(e) => {
                tracing::error!(error = %e, "TLS certificate reload failed; keeping the current one");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(reloaded),
    }
}

/// Where the generated certificate and key live.
pub fn self_signed_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Where the certificate comes from, so [`CertResolver::reload`] can read it again.
#[derive(Debug, Clone)]
enum CertSource {
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned { data_dir: PathBuf, hostname: String },
}

/// Hands rustls the current certificate; `reload` swaps it for new handshakes while
/// established connections keep the one they started with.
#[derive(Debug)]
pub struct CertResolver {
    source: CertSource,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub fn load(config: &Config) -> Result<CertResolver, Error> {
        let source = if config.tls.cert_file.as_os_str().is_empty() {
            CertSource::SelfSigned {
                data_dir: config.data_dir.clone(),
                hostname: config.hostname.clone(),
            }
        } else {
            CertSource::Files {
                cert: config.tls.cert_file.clone(),
                key: config.tls.key_file.clone(),
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(&source, &provider, SystemTime::now())?;
        Ok(CertResolver {
            source,
            provider,
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Loads the certificate and enrols the resolver for [`reload_all`].
    fn load_registered(config: &Config) -> Result<Arc<CertResolver>, Error> {
        let resolver = Arc::new(CertResolver::load(config)?);
        let mut live = LIVE_RESOLVERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(&resolver));
        Ok(resolver)
    }

    /// Reads the certificate again (after SIGHUP, or to renew a generated one). On
    /// error the current certificate stays in use.
    pub fn reload(&self) -> Result<(), Error> {
        let key = certified_key(&self.source, &self.provider, SystemTime::now())?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        tracing::info!("TLS certificate reloaded");
        Ok(())
    }

    /// The certificate chain now served, leaf first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current_key().cert.clone()
    }

    fn current_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current_key())
    }
}

/// Accepts TLS on a stream with the configured handshake timeout. Clones share the
/// certificate, so one `reload` serves every listener.
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    server_config: Arc<ServerConfig>,
    resolver: Arc<CertResolver>,
    handshake_timeout: Duration,
}

impl TlsAcceptor {
    pub fn load(config: &Config) -> Result<TlsAcceptor, Error> {
        let resolver = CertResolver::load_registered(config)?;
        let server_config = ServerConfig::builder_with_provider(Arc::clone(&resolver.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        Ok(TlsAcceptor {
            server_config: Arc::new(server_config),
            resolver,
            handshake_timeout: Duration::from_secs(config.limits.tls_handshake_timeout_secs),
        })
    }

    /// The rustls config, for servers that need their own (e.g. ALPN for HTTPS):
    /// clone it, change it, and certificate reloads still apply.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server_config)
    }

    pub fn resolver(&self) -> &CertResolver {
        &self.resolver
    }

    pub fn reload(&self) -> Result<(), Error> {
        self.resolver.reload()
    }

    /// Runs the server handshake on `io`: a fresh connection for implicit TLS
    /// (RFC 8314), or the socket after STARTTLS. For STARTTLS the caller must first
    /// discard any plaintext it buffered after the command (RFC 3207 6: such bytes
    /// were injectable by an attacker). Call it in the connection's own task.
    pub async fn accept<IO>(&self, io: IO) -> Result<TlsStream<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&self.server_config));
        match tokio::time::timeout(self.handshake_timeout, acceptor.accept(io)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(Error::TlsHandshake(e)),
            Err(_) => Err(Error::TlsHandshakeTimeout(self.handshake_timeout)),
        }
    }
}

fn certified_key(
    source: &CertSource,
    provider: &CryptoProvider,
    now: SystemTime,
) -> Result<CertifiedKey, Error> {
    match source {
        CertSource::Files { cert, key } => {
            let chain = read_chain(cert)?;
            let private = read_key(key)?;
            warn_if_expiring(cert, &chain[0], now);
            make_certified_key(chain, private, provider, cert, key)
        }
        CertSource::SelfSigned { data_dir, hostname } => {
            let (chain, private) = self_signed(data_dir, hostname, now)?;
            let (cert, key) = self_signed_paths(data_dir);
            make_certified_key(chain, private, provider, &cert, &key)
        }
    }
}

fn make_certified_key(
    chain: Vec<CertificateDer<'static>>,
    private: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
    cert_path: &Path,
    key_path: &Path,
) -> Result<CertifiedKey, Error> {
    CertifiedKey::from_der(chain, private, provider).map_err(|e| Error::CertificateKeyMismatch {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let file = open(path)?;
    let chain = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidPem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(Error::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let file = open(path)?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|e| Error::InvalidPem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .ok_or_else(|| Error::NoPrivateKey {
            path: path.to_path_buf(),
        })
}

fn open(path: &Path) -> Result<File, Error> {
    File::open(path).map_err(|source| Error::TlsFileRead {
        path: path.to_path_buf(),
        source,
    })
}

fn warn_if_expiring(path: &Path, leaf: &CertificateDer<'_>, now: SystemTime) {
    match validity::not_after(leaf) {
        Some(end) if end <= now => {
            tracing::error!(path = %path.display(), "TLS certificate has expired");
        }
        Some(end) if end <= now + WARN_BEFORE => {
            let days = end.duration_since(now).unwrap_or_default().as_secs() / 86400;
            tracing::warn!(path = %path.display(), days, "TLS certificate expires soon");
        }
        _ => {}
    }
}

/// The generated certificate and key, made on first use and renewed near expiry.
/// A lock file serialises this across the daemons of `serve` and across containers
/// sharing the data volume, so they never write mismatched halves of a pair.
fn self_signed(
    data_dir: &Path,
    hostname: &str,
    now: SystemTime,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let (cert_path, key_path) = self_signed_paths(data_dir);
    let dir = data_dir.join("tls");
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::TlsFileWrite { path, source }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(write_err(&dir))?;
    let lock_path = dir.join(".lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(write_err(&lock_path))?;
    lock.lock().map_err(write_err(&lock_path))?;

    if cert_path.exists() && key_path.exists() {
        let chain = read_chain(&cert_path)?;
        let key = read_key(&key_path)?;
        match validity::not_after(&chain[0]) {
            Some(end) if end > now + RENEW_BEFORE => return Ok((chain, key)),
            _ => {
                tracing::info!(path = %cert_path.display(), "renewing the self-signed certificate")
            }
        }
    }

    let (cert_pem, key_pem) = generate(hostname, now)?;
    // Key first: a crash in between leaves a stale cert whose key does not match,
    // which the next start reports instead of serving a wrong pair.
    write_atomically(&key_path, key_pem.as_bytes(), 0o600)?;
    write_atomically(&cert_path, cert_pem.as_bytes(), 0o644)?;
    tracing::info!(
        path = %cert_path.display(),
        hostname,
        "generated a self-signed TLS certificate; set [tls] cert_file and key_file for a real one"
    );
    Ok((read_chain(&cert_path)?, read_key(&key_path)?))
}

/// A self-signed certificate for `hostname`, localhost and the loopback addresses.
fn generate(hostname: &str, now: SystemTime) -> Result<(String, String), Error> {
    let fail = |e: rcgen::Error| Error::CertificateGeneration {
        hostname: hostname.to_owned(),
        reason: e.to_string(),
    };
    let mut names = vec![hostname.to_owned()];
    for extra in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(extra)) {
            names.push(extra.to_owned());
        }
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(fail)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    // A day of slack for clients whose clocks run behind.
    params.not_before = epoch + since_epoch.saturating_sub(Duration::from_secs(86400));
    params.not_after = epoch + since_epoch + SELF_SIGNED_VALIDITY;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = params.self_signed(&key).map_err(fail)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes through a temporary file and a rename so readers never see half a file.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let tmp = path.with_extension("pem.tmp");
    let err = |source| Error::TlsFileWrite {
        path: path.to_path_buf(),
        source,
    };
    // A leftover from a crash may have another mode; `mode` applies only on creation.
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)?;
    fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests;
