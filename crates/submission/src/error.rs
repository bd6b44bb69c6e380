//! The submission crate's error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Core(#[from] zest_core::Error),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS client set-up failed: {0}")]
    TlsClient(#[from] rustls::Error),
}
