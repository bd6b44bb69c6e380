//! Where a recipient domain's mail goes: a configured route, our own MDA
//! over LMTP for local domains, the smarthost, or the domain's MX hosts.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use mail_auth::MessageAuthenticator;
use store::Store;
use tokio::sync::OnceCell;
use zest_core::config::{Config, DnsConfig};

use super::client::Failure;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Destination {
    /// Our MDA (local domains).
    Lmtp(SocketAddr),
    /// One `host:port`: a `[submission] routes` entry or the smarthost.
    Host(String),
    /// The domain's MX hosts, port 25.
    Mx(String),
    /// Cannot be routed now (the store could not say whether it is local).
    Unavailable(String),
    /// Never routable (a local domain while LMTP is off).
    Unroutable(String),
}

pub(crate) struct Router {
    routes: BTreeMap<String, String>,
    relay: Option<String>,
    lmtp: Option<SocketAddr>,
    /// `[dns] servers`, or the system's resolvers.
    dns: DnsConfig,
    resolver: OnceCell<Option<MessageAuthenticator>>,
}

/// A host to connect to and the name it is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub host: String,
    pub port: u16,
}

impl Router {
    pub(crate) fn new(config: &Config) -> Router {
        Router {
            routes: config
                .submission
                .routes
                .iter()
                .map(|(d, t)| (d.trim_end_matches('.').to_lowercase(), t.clone()))
                .collect(),
            relay: Some(config.submission.relay_host.clone()).filter(|r| !r.is_empty()),
            lmtp: config.mda.lmtp_listen.addrs().first().copied(),
            dns: config.dns.clone(),
            resolver: OnceCell::new(),
        }
    }

    pub(crate) async fn destination(&self, store: &Store, domain: &str) -> Destination {
        if let Some(target) = self.routes.get(domain) {
            return Destination::Host(target.clone());
        }
        match store.is_local_domain(domain).await {
            Ok(true) => {
                return match self.lmtp {
                    Some(addr) => Destination::Lmtp(lmtp_target(addr)),
                    None => Destination::Unroutable(domain.to_string()),
                };
            }
            Ok(false) => {}
            Err(e) => return Destination::Unavailable(e.to_string()),
        }
        match &self.relay {
            Some(relay) => Destination::Host(relay.clone()),
            None => Destination::Mx(domain.to_string()),
        }
    }

    /// The hosts to try, in order.
    pub(crate) async fn hops(&self, dest: &Destination) -> Result<Vec<Hop>, Failure> {
        match dest {
            Destination::Lmtp(addr) => Ok(vec![Hop {
                host: addr.ip().to_string(),
                port: addr.port(),
            }]),
            Destination::Host(target) => {
                parse_host_port(target).map(|h| vec![h]).ok_or_else(|| {
                    Failure::permanent(None, format!("550 5.4.4 invalid route {target:?}"))
                })
            }
            Destination::Mx(domain) => self.mx(domain).await,
            Destination::Unavailable(why) => {
                Err(Failure::temporary(None, format!("451 4.3.0 {why}")))
            }
            Destination::Unroutable(domain) => Err(Failure::permanent(
                None,
                format!("550 5.4.4 no route to local domain {domain}"),
            )),
        }
    }

    async fn mx(&self, domain: &str) -> Result<Vec<Hop>, Failure> {
        let resolver = self
            .resolver
            .get_or_init(|| async {
                match zest_core::dns::authenticator(&self.dns) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot set up the DNS resolver");
                        None
                    }
                }
            })
            .await;
        let Some(resolver) = resolver else {
            return Err(Failure::temporary(
                None,
                "451 4.4.3 DNS resolver unavailable".into(),
            ));
        };
        let fqdn = format!("{domain}.");
        match resolver.resolver().mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut mx: Vec<(u16, String)> = lookup
                    .iter()
                    .map(|m| {
                        (
                            m.preference(),
                            m.exchange().to_ascii().trim_end_matches('.').to_string(),
                        )
                    })
                    .collect();
                mx.sort();
                // RFC 7505: a null MX says the domain accepts no mail.
                if mx.len() == 1 && mx[0].1.is_empty() {
                    return Err(Failure::permanent(
                        None,
                        format!("556 5.1.10 {domain} accepts no mail (null MX)"),
                    ));
                }
                Ok(mx
                    .into_iter()
                    .filter(|(_, h)| !h.is_empty())
                    .map(|(_, host)| Hop { host, port: 25 })
                    .collect())
            }
            // An answer of "no such domain" also counts as "no records":
            // it is asked first.
            Err(e) if e.is_nx_domain() => Err(Failure::permanent(
                None,
                format!("550 5.1.2 domain {domain} does not exist"),
            )),
            Err(e) if e.is_no_records_found() => {
                // RFC 5321 5.1: no MX means the domain itself is the host.
                Ok(vec![Hop {
                    host: domain.to_string(),
                    port: 25,
                }])
            }
            Err(e) => Err(Failure::temporary(
                None,
                format!("451 4.4.3 DNS lookup for {domain} failed: {e}"),
            )),
        }
    }
}

/// LMTP to a wildcard listen address goes to loopback.
fn lmtp_target(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}

/// "host:port" or "[v6]:port".
pub(crate) fn parse_host_port(s: &str) -> Option<Hop> {
    let s = s.trim();
    let (host, port) = s.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some(Hop {
        host: host.to_string(),
        port: port.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use zest_core::dns::fixture::ZoneServer;

    use super::*;

    #[test]
    fn host_ports() {
        assert_eq!(
            parse_host_port("127.0.0.1:2526"),
            Some(Hop {
                host: "127.0.0.1".into(),
                port: 2526
            })
        );
        assert_eq!(
            parse_host_port("[::1]:25"),
            Some(Hop {
                host: "::1".into(),
                port: 25
            })
        );
        assert_eq!(parse_host_port("example.net"), None);
        assert_eq!(parse_host_port(":25"), None);
    }

    fn router(dns: &ZoneServer) -> Router {
        let mut config = Config::default();
        config.dns.servers = vec![dns.addr()];
        Router::new(&config)
    }

    fn hops(list: &[(&str, u16)]) -> Vec<Hop> {
        list.iter()
            .map(|(host, port)| Hop {
                host: host.to_string(),
                port: *port,
            })
            .collect()
    }

    #[tokio::test]
    async fn mx_hosts_in_preference_order_from_the_configured_resolver() {
        let dns = ZoneServer::start().await.unwrap();
        dns.mx("remote.example", 20, "mx2.remote.example");
        dns.mx("remote.example", 10, "mx1.remote.example");
        let r = router(&dns);
        let got = r
            .hops(&Destination::Mx("remote.example".into()))
            .await
            .unwrap();
        assert_eq!(
            got,
            hops(&[("mx1.remote.example", 25), ("mx2.remote.example", 25)])
        );
    }

    #[tokio::test]
    async fn no_mx_means_the_domain_itself_and_null_mx_or_no_domain_fail() {
        let dns = ZoneServer::start().await.unwrap();
        dns.a("plain.example", Ipv4Addr::LOCALHOST);
        dns.mx("nomail.example", 0, ".");
        let r = router(&dns);
        assert_eq!(
            r.hops(&Destination::Mx("plain.example".into()))
                .await
                .unwrap(),
            hops(&[("plain.example", 25)])
        );
        let Err(null) = r.hops(&Destination::Mx("nomail.example".into())).await else {
            panic!("a null MX is not a route");
        };
        assert!(format!("{null:?}").contains("556 5.1.10"), "{null:?}");
        let Err(gone) = r.hops(&Destination::Mx("gone.example".into())).await else {
            panic!("a domain that does not exist is not a route");
        };
        assert!(format!("{gone:?}").contains("550 5.1.2"), "{gone:?}");
    }
}
