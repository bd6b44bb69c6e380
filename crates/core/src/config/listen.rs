//! The `listen` config value: one `host:port` or a list of them.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// The addresses one listener binds; empty turns the listener off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listen(Vec<SocketAddr>);

impl Listen {
    pub fn new(addrs: Vec<SocketAddr>) -> Self {
        Listen(addrs)
    }

    pub(crate) fn loopback(port: u16) -> Self {
        Listen(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))])
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.0
    }

    pub fn is_off(&self) -> bool {
        self.0.is_empty()
    }

    /// One `host:port`: an IP address (`[...]` around IPv6) or `localhost`.
    /// Names other than localhost are refused: which address they bind would depend
    /// on DNS at start-up.
    pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
        let s = s.trim();
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(addr);
        }
        let bad = || {
            format!(
                "invalid listen address {s:?}: expected IP:port or localhost:port, \
                 e.g. \"127.0.0.1:143\" or \"[::1]:143\""
            )
        };
        let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.eq_ignore_ascii_case("localhost") {
            Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        } else {
            Err(bad())
        }
    }
}

impl FromStr for Listen {
    type Err = String;

    /// An empty string turns the listener off, like an empty list; it is what an
    /// unset-looking `ZEST_IMAP_LISTEN=` in docker-compose means.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Ok(Listen(Vec::new()));
        }
        Ok(Listen(vec![Listen::parse_addr(s)?]))
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

impl Serialize for Listen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.collect_str(one),
            many => serializer.collect_seq(many.iter().map(ToString::to_string)),
        }
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListenVisitor;

        impl<'de> Visitor<'de> for ListenVisitor {
            type Value = Listen;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a \"host:port\" string or a list of them")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Listen, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Listen, A::Error> {
                let mut addrs = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    addrs.push(Listen::parse_addr(&s).map_err(de::Error::custom)?);
                }
                Ok(Listen(addrs))
            }
        }

        deserializer.deserialize_any(ListenVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrapper {
        listen: Listen,
    }

    #[test]
    fn listen_forms() {
        let one = |s: &str| Listen::from_str(s).map(|l| l.addrs().to_vec());
        assert_eq!(
            one("127.0.0.1:143"),
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], 143))])
        );
        assert_eq!(
            one("[::1]:143"),
            Ok(vec![SocketAddr::from((Ipv6Addr::LOCALHOST, 143))])
        );
        assert_eq!(
            one("localhost:25"),
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], 25))])
        );
        assert_eq!(
            one("LocalHost:0"),
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))])
        );
        assert_eq!(one(""), Ok(vec![]));
        for bad in [
            "127.0.0.1",
            "::1:143",
            "example.org:143",
            "127.0.0.1:99999",
            "1.2.3:4",
            ":143",
        ] {
            assert!(one(bad).is_err(), "{bad} should be refused");
        }
        // Round trip through TOML: one address is a string, several a list.
        for listen in [
            Listen::loopback(1),
            Listen::new(vec![]),
            Listen::new(vec![
                SocketAddr::from(([10, 0, 0, 1], 2)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 3)),
            ]),
        ] {
            let w = Wrapper { listen };
            let text = toml::to_string(&w).unwrap();
            assert_eq!(toml::from_str::<Wrapper>(&text).unwrap(), w, "{text}");
        }
    }
}
