//! DNS as the daemons ask it: through the resolvers `[dns] servers` names, or
//! the system's. The MDA verifies SPF, DKIM and DMARC with it; the admin
//! dashboard compares what a domain publishes with what it should.

use std::time::Duration;

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};

use crate::config::DnsConfig;

#[cfg(feature = "dns-fixture")]
pub mod fixture;

/// How long one question waits for an answer before it is asked again.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A resolver for `config`: its servers, or the system's when it names none.
pub fn authenticator(config: &DnsConfig) -> Result<MessageAuthenticator, String> {
    if config.servers.is_empty() {
        return MessageAuthenticator::new_system_conf().map_err(|e| e.to_string());
    }
    let mut group = NameServerConfigGroup::default();
    for s in &config.servers {
        group.merge(NameServerConfigGroup::from_ips_clear(
            &[s.ip()],
            s.port(),
            true,
        ));
    }
    let mut options = ResolverOpts::default();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 2;
    // Names are asked as given, never with a search domain appended.
    options.ndots = 0;
    MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], group), options)
        .map_err(|e| e.to_string())
}

/// What DNS said for one name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The records' values: TXT strings joined, MX as "PREF HOST.".
    Records(Vec<String>),
    /// The name has no such records (or does not exist).
    None,
    /// The question could not be answered (timeout, SERVFAIL, no resolver).
    Failed(String),
}

/// The TXT records of `name`.
pub async fn txt(resolver: &MessageAuthenticator, name: &str) -> Answer {
    match resolver.resolver().txt_lookup(fqdn(name)).await {
        Ok(found) => Answer::Records(
            found
                .iter()
                .map(|t| {
                    t.txt_data()
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>()
                })
                .collect(),
        ),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Answer::None,
        Err(e) => Answer::Failed(e.to_string()),
    }
}

/// The MX records of `name`, as "PREFERENCE HOST." in preference order.
pub async fn mx(resolver: &MessageAuthenticator, name: &str) -> Answer {
    match resolver.resolver().mx_lookup(fqdn(name)).await {
        Ok(found) => {
            let mut mx: Vec<(u16, String)> = found
                .iter()
                .map(|m| (m.preference(), m.exchange().to_ascii()))
                .collect();
            mx.sort();
            Answer::Records(
                mx.into_iter()
                    .map(|(p, h)| {
                        let h = h.trim_end_matches('.').to_ascii_lowercase();
                        format!("{p} {h}.")
                    })
                    .collect(),
            )
        }
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Answer::None,
        Err(e) => Answer::Failed(e.to_string()),
    }
}

/// `name` made absolute, so no search domain is ever appended.
fn fqdn(name: &str) -> String {
    let name = name.trim_end_matches('.');
    format!("{name}.")
}
