//! The ManageSieve server (RFC 5804): a listener with STARTTLS, one session
//! task per connection, and the script commands over the store, compiling with
//! the Sieve configuration the MDA runs (`zest_core::sieve`).

mod handler;
mod listener;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use zest_core::auth::Authenticator;
use zest_core::config::Config;
use zest_core::limits::{ConnectionLimiter, Limits};
use zest_core::listen::bind_all;
use zest_core::shutdown::Shutdown;
use zest_core::sieve::SieveSettings;
use zest_core::tls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Core(#[from] zest_core::Error),
}

/// What every session of the daemon shares.
pub(crate) struct Shared {
    pub store: store::Store,
    pub auth: Authenticator,
    pub tls: TlsAcceptor,
    pub limits: Limits,
    pub sieve: SieveSettings,
    pub shutdown: Shutdown,
    pub connections: ConnectionLimiter,
}

/// The ManageSieve daemon: its bound listeners and what sessions share.
pub struct Daemon {
    shared: Arc<Shared>,
    listeners: Vec<TcpListener>,
}

impl Daemon {
    /// Binds every listener the config names (port 0 allowed) and loads TLS.
    pub async fn bind(
        config: Arc<Config>,
        store: store::Store,
        shutdown: Shutdown,
    ) -> Result<Daemon, Error> {
        let tls = TlsAcceptor::load(&config)?;
        let limits = Limits::from(&*config);
        let listeners: Vec<TcpListener> = bind_all(config.managesieve.listen.addrs())
            .await
            .map_err(|(addr, source)| Error::Bind { addr, source })?
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let shared = Arc::new(Shared {
            auth: Authenticator::new(store.clone(), &config.auth),
            connections: ConnectionLimiter::new(limits.max_connections_per_ip),
            sieve: SieveSettings::from(&config.sieve),
            store,
            tls,
            limits,
            shutdown,
        });
        Ok(Daemon { shared, listeners })
    }

    /// Where each listener ended up: ("managesieve", addr).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok().map(|a| ("managesieve", a)))
            .collect()
    }

    /// Serves until shutdown is triggered, then drains connections.
    pub async fn run(self) -> Result<(), Error> {
        let mut tasks = Vec::new();
        for l in self.listeners {
            let shared = self.shared.clone();
            tasks.push(tokio::spawn(listener::accept_loop(shared, l)));
        }
        self.shared.shutdown.triggered().await;
        for t in tasks {
            let _ = t.await;
        }
        self.shared
            .shutdown
            .drain(self.shared.limits.shutdown_grace)
            .await;
        Ok(())
    }
}
