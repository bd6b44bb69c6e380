//! The mail delivery agent: LMTP (RFC 2033) from the submission daemon and
//! other MTAs, inbound SMTP (RFC 5321) from the internet, and `zest deliver`,
//! all running the recipient's Sieve script (with RFC 6134 external lists)
//! and storing the result durably before saying so.

mod auth;
mod batch;
mod deliver;
mod session;
mod sieve;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use zest_core::config::Config;
use zest_core::limits::{ConnectionLimiter, Limits};
use zest_core::listen::bind_all;
use zest_core::shutdown::Shutdown;
use zest_core::tls::TlsAcceptor;

pub use batch::BatchOutcome;
pub use deliver::{LocalRecipient, Mda, Outcome, RecipientCheck};

/// A message handed over locally (`zest deliver`): line ends made CRLF, and
/// Return-Path and Received added as for LMTP.
pub fn local_message(hostname: &str, from: &str, input: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(input.len() + input.len() / 40);
    let mut prev = 0u8;
    for &b in input {
        if b == b'\n' && prev != b'\r' {
            body.push(b'\r');
        }
        body.push(b);
        prev = b;
    }
    let peer = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut raw = session::trace_fields(hostname, "localhost", peer, from);
    raw.extend_from_slice(&body);
    raw
}
use session::{End, Mode, Session, Shared};

/// What can stop the MDA from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] zest_core::Error),
}

/// The LMTP and inbound SMTP listeners.
pub struct Daemon {
    lmtp: Vec<(TcpListener, SocketAddr)>,
    smtp: Vec<(TcpListener, SocketAddr)>,
    shared: Shared,
    shutdown: Shutdown,
    limiter: ConnectionLimiter,
}

impl Daemon {
    /// Binds every listener the config names (port 0 allowed) and loads TLS.
    pub async fn bind(
        config: Arc<Config>,
        store: store::Store,
        shutdown: Shutdown,
    ) -> Result<Daemon, Error> {
        let lmtp = bind_all(config.mda.lmtp_listen.addrs())
            .await
            .map_err(|(a, e)| Error::Bind(a, e))?;
        let smtp = bind_all(config.mda.smtp_listen.addrs())
            .await
            .map_err(|(a, e)| Error::Bind(a, e))?;
        let tls = if smtp.is_empty() {
            None
        } else {
            Some(TlsAcceptor::load(&config)?)
        };
        let verifier = (config.mda.verify_auth && !smtp.is_empty())
            .then(|| auth::Verifier::new(&config.hostname, config.mda.reject_dmarc, &config.dns))
            .flatten()
            .map(Arc::new);
        let limits = Limits::from(config.as_ref());
        Ok(Daemon {
            lmtp,
            smtp,
            shared: Shared {
                mda: Mda::new(&config, store),
                limits,
                tls,
                verifier,
                shutdown: shutdown.clone(),
            },
            limiter: ConnectionLimiter::new(limits.max_connections_per_ip),
            shutdown,
        })
    }

    /// Whether this build has the daemon (for `zest serve`).
    pub fn built() -> bool {
        true
    }

    /// Where each listener ended up: ("lmtp", addr), ("smtp", addr).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.lmtp
            .iter()
            .map(|(_, a)| ("lmtp", *a))
            .chain(self.smtp.iter().map(|(_, a)| ("smtp", *a)))
            .collect()
    }

    /// Serves until shutdown is triggered, then drains connections.
    pub async fn run(self) -> Result<(), Error> {
        let mut loops = tokio::task::JoinSet::new();
        for (listener, _) in self.lmtp {
            loops.spawn(accept_loop(
                listener,
                Mode::Lmtp,
                self.shared.clone(),
                self.limiter.clone(),
            ));
        }
        for (listener, _) in self.smtp {
            loops.spawn(accept_loop(
                listener,
                Mode::Smtp,
                self.shared.clone(),
                self.limiter.clone(),
            ));
        }
        while loops.join_next().await.is_some() {}
        let report = self.shutdown.drain(self.shared.limits.shutdown_grace).await;
        tracing::info!(finished = report.finished, cut = report.cut, "mda stopped");
        Ok(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    mode: Mode,
    shared: Shared,
    limiter: ConnectionLimiter,
) {
    let shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.triggered() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let Some(guard) = limiter.try_acquire(peer.ip()) else {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut stream = stream;
                let _ = stream
                    .write_all(b"421 4.7.0 too many connections from your address\r\n")
                    .await;
            });
            continue;
        };
        let shared = shared.clone();
        shutdown.spawn(async move {
            let _guard = guard;
            connection(stream, peer, mode, shared).await;
        });
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, mode: Mode, shared: Shared) {
    let _ = stream.set_nodelay(true);
    let span = tracing::info_span!("conn", proto = ?mode, %peer);
    let _enter = span.enter();
    let session = Session::new(shared.clone(), mode, stream, peer, false);
    match session.run().await {
        Ok(End::Closed) => {}
        Ok(End::StartTls(stream)) => {
            let Some(acceptor) = shared.tls.clone() else {
                return;
            };
            match acceptor.accept(stream).await {
                Ok(tls) => {
                    let session = Session::new(shared, mode, tls, peer, true);
                    if let Err(e) = session.run_after_tls().await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                Err(e) => tracing::info!(error = %e, "TLS handshake failed"),
            }
        }
        Err(e) => tracing::debug!(error = %e, "connection ended"),
    }
}
