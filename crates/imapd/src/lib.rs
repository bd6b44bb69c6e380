//! The IMAP server: listeners (plain with STARTTLS, implicit TLS), one session
//! task per connection, and the command handlers over the store.

mod fetch;
mod handler;
mod listener;
mod reply;
mod search;
mod session;
mod sort;
mod thread;
mod urlauth;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use zest_core::auth::Authenticator;
use zest_core::config::Config;
use zest_core::limits::{ConnectionLimiter, Limits};
use zest_core::listen::bind_all;
use zest_core::shutdown::Shutdown;
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
    #[error("cannot read or create the submission secret in {dir}: {source}")]
    SubmitSecret {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// What every session of the daemon shares.
pub(crate) struct Shared {
    pub config: Arc<Config>,
    pub store: store::Store,
    pub auth: Authenticator,
    pub tls: TlsAcceptor,
    pub limits: Limits,
    pub shutdown: Shutdown,
    pub connections: ConnectionLimiter,
    pub snapshots: session::selected::Snapshots,
    pub recent: session::selected::RecentClaims,
    /// The submission server's login (`$submit`) for BURL's URLFETCH.
    pub submit: zest_core::submit::SubmitIdentity,
    /// Failed `$submit` logins, limited like any account's.
    pub submit_limiter: zest_core::auth::LoginLimiter,
}

/// The IMAP daemon: its bound listeners and what sessions share.
pub struct Daemon {
    shared: Arc<Shared>,
    listeners: Vec<(&'static str, TcpListener, bool)>,
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
        let mut listeners = Vec::new();
        for (name, list, implicit) in [
            ("imap", &config.imap.listen, false),
            ("imaps", &config.imap.listen_tls, true),
        ] {
            let bound = bind_all(list.addrs())
                .await
                .map_err(|(addr, source)| Error::Bind { addr, source })?;
            for (l, _) in bound {
                listeners.push((name, l, implicit));
            }
        }
        let submit = zest_core::submit::SubmitIdentity::load_or_create(&config.data_dir).map_err(
            |source| Error::SubmitSecret {
                dir: config.data_dir.clone(),
                source,
            },
        )?;
        let shared = Arc::new(Shared {
            submit,
            submit_limiter: zest_core::auth::LoginLimiter::new(
                &config.auth,
                Arc::new(zest_core::auth::SystemClock),
            ),
            auth: Authenticator::new(store.clone(), &config.auth),
            connections: ConnectionLimiter::new(limits.max_connections_per_ip),
            snapshots: Default::default(),
            recent: Default::default(),
            config,
            store,
            tls,
            limits,
            shutdown,
        });
        Ok(Daemon { shared, listeners })
    }

    /// Where each listener ended up, e.g. ("imap", addr), ("imaps", addr).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(name, l, _)| l.local_addr().ok().map(|a| (*name, a)))
            .collect()
    }

    /// Serves until shutdown is triggered, then drains connections.
    pub async fn run(self) -> Result<(), Error> {
        let mut tasks = Vec::new();
        for (_, l, implicit) in self.listeners {
            let shared = self.shared.clone();
            tasks.push(tokio::spawn(listener::accept_loop(shared, l, implicit)));
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
