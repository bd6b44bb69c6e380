//! Sender authentication of inbound SMTP mail: SPF (RFC 7208), DKIM (RFC 6376)
//! and DMARC (RFC 7489) with `mail-auth`, recorded in Authentication-Results
//! (RFC 8601). Verifying never refuses mail unless the config asks to honour
//! a DMARC p=reject policy.

use std::net::IpAddr;
use std::time::Duration;

use mail_auth::common::headers::HeaderWriter;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator};

use crate::session::Reply;

/// DNS lookups for one message take at most this long in all.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) struct Verifier {
    authenticator: MessageAuthenticator,
    hostname: String,
    reject_dmarc: bool,
}

impl Verifier {
    /// Uses the system's resolver configuration (/etc/resolv.conf).
    pub(crate) fn new(hostname: &str, reject_dmarc: bool) -> Option<Verifier> {
        match MessageAuthenticator::new_system_conf() {
            Ok(authenticator) => Some(Verifier {
                authenticator,
                hostname: hostname.to_string(),
                reject_dmarc,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no DNS resolver; SPF, DKIM and DMARC are not verified");
                None
            }
        }
    }

    /// The Authentication-Results field for `body`, or the refusal when the
    /// config honours DMARC p=reject and the message fails it.
    pub(crate) async fn verify(
        &self,
        body: &[u8],
        ip: IpAddr,
        helo: &str,
        mail_from: &str,
    ) -> Result<String, Reply> {
        match tokio::time::timeout(VERIFY_TIMEOUT, self.check(body, ip, helo, mail_from)).await {
            Ok(r) => r,
            Err(_) => Ok(format!(
                "Authentication-Results: {}; spf=temperror; dkim=temperror; dmarc=temperror\r\n",
                self.hostname
            )),
        }
    }

    async fn check(
        &self,
        body: &[u8],
        ip: IpAddr,
        helo: &str,
        mail_from: &str,
    ) -> Result<String, Reply> {
        let host = self.hostname.as_str();
        let sender_domain = mail_from.rsplit_once('@').map(|(_, d)| d).unwrap_or(helo);
        let spf = self
            .authenticator
            .verify_spf(SpfParameters::verify_mail_from(ip, helo, host, mail_from))
            .await;
        let Some(message) = AuthenticatedMessage::parse(body) else {
            let header = AuthenticationResults::new(host)
                .with_spf_mailfrom_result(&spf, ip, mail_from, helo);
            return Ok(header.to_header());
        };
        let dkim = self.authenticator.verify_dkim(&message).await;
        let dmarc = self
            .authenticator
            .verify_dmarc(DmarcParameters::new(&message, &dkim, sender_domain, &spf))
            .await;
        let fails = |r: &DmarcResult| matches!(r, DmarcResult::Fail(_));
        if self.reject_dmarc
            && dmarc.policy() == Policy::Reject
            && fails(dmarc.dkim_result())
            && fails(dmarc.spf_result())
        {
            return Err(Reply::new(
                550,
                [5, 7, 1],
                "rejected by the sender domain's DMARC policy",
            ));
        }
        let header = AuthenticationResults::new(host)
            .with_dkim_results(&dkim, message.from())
            .with_spf_mailfrom_result(&spf, ip, mail_from, helo)
            .with_dmarc_result(&dmarc);
        Ok(header.to_header())
    }
}
