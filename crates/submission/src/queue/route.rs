//! Where a recipient domain's mail goes: a configured route, our own MDA
//! over LMTP for local domains, the smarthost, or the domain's MX hosts.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

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
    /// Its addresses, as the resolver for MX lookups gave them. Empty for a
    /// configured host, which the system resolves when connecting.
    pub addrs: Vec<IpAddr>,
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
                addrs: vec![addr.ip()],
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

    /// The domain's MX hosts in preference order (or the domain itself when
    /// it has no MX), each with its addresses, all from the same resolver.
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
        let hosts: Vec<String> = match resolver.resolver().mx_lookup(fqdn.as_str()).await {
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
                mx.into_iter()
                    .map(|(_, host)| host)
                    .filter(|h| !h.is_empty())
                    .collect()
            }
            // An answer of "no such domain" also counts as "no records":
            // it is asked first.
            Err(e) if e.is_nx_domain() => {
                return Err(Failure::permanent(
                    None,
                    format!("550 5.1.2 domain {domain} does not exist"),
                ));
            }
            Err(e) if e.is_no_records_found() => {
                // RFC 5321 5.1: no MX means the domain itself is the host.
                return match addresses(resolver, domain).await {
                    Ok(addrs) if !addrs.is_empty() => Ok(vec![Hop {
                        host: domain.to_string(),
                        port: 25,
                        addrs,
                    }]),
                    Ok(_) => Err(Failure::permanent(
                        None,
                        format!("550 5.1.2 {domain} has no MX and no address records"),
                    )),
                    Err(e) => Err(Failure::temporary(
                        None,
                        format!("451 4.4.3 DNS lookup for {domain} failed: {e}"),
                    )),
                };
            }
            Err(e) => {
                return Err(Failure::temporary(
                    None,
                    format!("451 4.4.3 DNS lookup for {domain} failed: {e}"),
                ));
            }
        };
        // An MX host without addresses is passed over (RFC 5321 5.1); when
        // none has any, the domain's mail waits for its DNS to be mended.
        let mut hops = Vec::with_capacity(hosts.len());
        let mut missing = Vec::new();
        for host in hosts {
            match addresses(resolver, &host).await {
                Ok(addrs) if !addrs.is_empty() => hops.push(Hop {
                    host,
                    port: 25,
                    addrs,
                }),
                Ok(_) => missing.push(format!("{host}: no address records")),
                Err(e) => missing.push(format!("{host}: {e}")),
            }
        }
        if hops.is_empty() {
            return Err(Failure::temporary(
                None,
                format!(
                    "451 4.4.4 no MX host of {domain} has an address ({})",
                    missing.join("; ")
                ),
            ));
        }
        Ok(hops)
    }
}

/// The addresses of `host`: none when the name or its address records do
/// not exist, an error when the question went unanswered.
async fn addresses(resolver: &MessageAuthenticator, host: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match resolver.resolver().lookup_ip(format!("{host}.")).await {
        Ok(lookup) => Ok(lookup.iter().collect()),
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
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
        addrs: Vec::new(),
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
                port: 2526,
                addrs: Vec::new(),
            })
        );
        assert_eq!(
            parse_host_port("[::1]:25"),
            Some(Hop {
                host: "::1".into(),
                port: 25,
                addrs: Vec::new(),
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

    fn hops(list: &[(&str, [u8; 4])]) -> Vec<Hop> {
        list.iter()
            .map(|(host, ip)| Hop {
                host: host.to_string(),
                port: 25,
                addrs: vec![IpAddr::from(*ip)],
            })
            .collect()
    }

    #[tokio::test]
    async fn mx_hosts_in_preference_order_from_the_configured_resolver() {
        let dns = ZoneServer::start().await.unwrap();
        dns.mx("remote.example", 20, "mx2.remote.example");
        dns.mx("remote.example", 10, "mx1.remote.example");
        dns.mx("remote.example", 15, "unnamed.remote.example");
        dns.mx("remote.example", 30, "noaddress.remote.example");
        // The addresses come from the same resolver: the system's knows none
        // of these names.
        dns.a("mx1.remote.example", Ipv4Addr::new(127, 0, 0, 11));
        dns.a("mx2.remote.example", Ipv4Addr::new(127, 0, 0, 12));
        dns.txt("noaddress.remote.example", "exists, without an address");
        let r = router(&dns);
        let got = r
            .hops(&Destination::Mx("remote.example".into()))
            .await
            .unwrap();
        assert_eq!(
            got,
            hops(&[
                ("mx1.remote.example", [127, 0, 0, 11]),
                ("mx2.remote.example", [127, 0, 0, 12])
            ])
        );
    }

    #[tokio::test]
    async fn mx_hosts_without_any_address_mean_try_again_later() {
        let dns = ZoneServer::start().await.unwrap();
        dns.mx("broken.example", 10, "mx.broken.example");
        let r = router(&dns);
        let Err(e) = r.hops(&Destination::Mx("broken.example".into())).await else {
            panic!("no MX host has an address");
        };
        assert!(e.temporary, "{e:?}");
        assert!(format!("{e:?}").contains("451 4.4.4"), "{e:?}");
        assert!(format!("{e:?}").contains("mx.broken.example"), "{e:?}");
    }

    #[tokio::test]
    async fn no_mx_means_the_domain_itself_and_null_mx_or_no_domain_fail() {
        let dns = ZoneServer::start().await.unwrap();
        dns.a("plain.example", Ipv4Addr::LOCALHOST);
        dns.mx("nomail.example", 0, ".");
        dns.txt("noaddress.example", "exists, without MX or address");
        let r = router(&dns);
        assert_eq!(
            r.hops(&Destination::Mx("plain.example".into()))
                .await
                .unwrap(),
            hops(&[("plain.example", [127, 0, 0, 1])])
        );
        let Err(bare) = r.hops(&Destination::Mx("noaddress.example".into())).await else {
            panic!("a domain without MX or address is not a route");
        };
        assert!(!bare.temporary, "{bare:?}");
        assert!(format!("{bare:?}").contains("550 5.1.2"), "{bare:?}");
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
