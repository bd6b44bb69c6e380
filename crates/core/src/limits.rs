//! Resource limits every session enforces, and the per-IP connection cap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::{Config, LimitsConfig};

/// The `[limits]` section in the units code uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one command line, CRLF included.
    pub max_line_length: usize,
    /// Bytes in one IMAP literal; larger ones are refused before their bytes arrive.
    pub max_literal_size: u64,
    pub max_message_size: u64,
    /// Depth of parenthesised lists and MIME parts.
    pub max_nesting: usize,
    pub max_connections_per_ip: usize,
    /// A connection with no complete command for this long is closed.
    pub idle_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl From<&LimitsConfig> for Limits {
    fn from(c: &LimitsConfig) -> Self {
        // On 32-bit targets a huge configured value saturates rather than wraps.
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            max_line_length: size(c.max_line_length),
            max_literal_size: c.max_literal_size,
            max_message_size: c.max_message_size,
            max_nesting: size(c.max_nesting),
            max_connections_per_ip: size(c.max_connections_per_ip),
            idle_timeout: Duration::from_secs(c.idle_timeout_secs),
            tls_handshake_timeout: Duration::from_secs(c.tls_handshake_timeout_secs),
            shutdown_grace: Duration::from_secs(c.shutdown_grace_secs),
        }
    }
}

impl From<&Config> for Limits {
    fn from(c: &Config) -> Self {
        Limits::from(&c.limits)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&LimitsConfig::default())
    }
}

/// Caps concurrent connections per client address, shared by a daemon's listeners
/// (clone it; clones share the counts).
#[derive(Debug, Clone)]
pub struct ConnectionLimiter {
    max_per_ip: usize,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionLimiter {
    pub fn new(max_per_ip: usize) -> Self {
        ConnectionLimiter {
            max_per_ip,
            counts: Arc::default(),
        }
    }

    /// A guard that holds one slot for `ip` until dropped, or `None` when `ip`
    /// already has the maximum number of connections.
    pub fn try_acquire(&self, ip: IpAddr) -> Option<ConnectionGuard> {
        let ip = ip.to_canonical();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return None;
        }
        *count += 1;
        Some(ConnectionGuard {
            ip,
            counts: Arc::clone(&self.counts),
        })
    }

    /// Open connections from `ip` right now.
    pub fn count(&self, ip: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&ip.to_canonical()).copied().unwrap_or(0)
    }
}

/// One connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnectionGuard {
    ip: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionGuard {
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            // Forget idle addresses so the map does not grow with every client ever seen.
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn limits_from_config() {
        let c = LimitsConfig {
            idle_timeout_secs: 60,
            ..LimitsConfig::default()
        };
        let l = Limits::from(&c);
        assert_eq!(l.max_line_length, 65536);
        assert_eq!(l.max_literal_size, 52_428_800);
        assert_eq!(l.max_message_size, 52_428_800);
        assert_eq!(l.max_nesting, 64);
        assert_eq!(l.max_connections_per_ip, 200);
        assert_eq!(l.idle_timeout, Duration::from_secs(60));
        assert_eq!(l.tls_handshake_timeout, Duration::from_secs(30));
        assert_eq!(l.shutdown_grace, Duration::from_secs(10));
    }

    #[test]
    fn per_ip_cap_and_release() {
        let limiter = ConnectionLimiter::new(2);
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let g1 = limiter.try_acquire(a).unwrap();
        let g2 = limiter.clone().try_acquire(a).unwrap();
        assert!(limiter.try_acquire(a).is_none());
        let gb = limiter.try_acquire(b).unwrap();
        assert_eq!(gb.ip(), b);
        assert_eq!(limiter.count(a), 2);
        drop(g1);
        assert_eq!(limiter.count(a), 1);
        let g3 = limiter.try_acquire(a).unwrap();
        drop((g2, g3, gb));
        assert_eq!(limiter.count(a), 0);
        assert!(limiter.counts.lock().unwrap().is_empty());
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        let limiter = ConnectionLimiter::new(1);
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        let _g = limiter.try_acquire(v4).unwrap();
        assert!(limiter.try_acquire(mapped).is_none());
        assert!(
            limiter
                .try_acquire(IpAddr::V6(Ipv6Addr::LOCALHOST))
                .is_some()
        );
    }
}
