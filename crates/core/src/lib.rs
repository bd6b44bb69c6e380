//! What every Zest daemon shares: configuration, TLS, authentication, limits,
//! logging and shutdown.

pub mod auth;
pub mod config;
pub mod contacts;
pub mod dkim;
pub mod dns;
pub mod error;
pub mod limits;
pub mod listen;
pub mod logging;
pub mod secret;
pub mod shutdown;
pub mod sieve;
pub mod submit;
pub mod tls;

pub use error::Error;
pub use secret::Secret;
