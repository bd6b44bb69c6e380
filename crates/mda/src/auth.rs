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
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DmarcOutput, DmarcResult, MessageAuthenticator,
};

use crate::session::Reply;

/// DNS lookups for one message take at most this long in all.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) struct Verifier {
    authenticator: MessageAuthenticator,
    hostname: String,
    reject_dmarc: bool,
}

impl Verifier {
    /// Asks the resolvers `[dns] servers` names, else the system's.
    pub(crate) fn new(
        hostname: &str,
        reject_dmarc: bool,
        dns: &zest_core::config::DnsConfig,
    ) -> Option<Verifier> {
        match zest_core::dns::authenticator(dns) {
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
        let dmarc = dmarc_outcome(dmarc);
        let fails = |r: &DmarcResult| matches!(r, DmarcResult::Fail(_));
        let passes = |r: &DmarcResult| *r == DmarcResult::Pass;
        if self.reject_dmarc
            && dmarc.dmarc_record().is_some()
            && dmarc.policy() == Policy::Reject
            && !passes(dmarc.dkim_result())
            && !passes(dmarc.spf_result())
            && (fails(dmarc.dkim_result()) || fails(dmarc.spf_result()))
        {
            return Err(Reply::new(
                550,
                [5, 7, 1],
                "rejected by the sender domain's DMARC policy",
            ));
        }
        let mut header = AuthenticationResults::new(host).with_dkim_results(&dkim, message.from());
        if dkim.is_empty() {
            // RFC 8601 2.7.1: "none" when the message carries no signature.
            header = AuthenticationResults::new(host);
            let mut with_none = header.with_spf_mailfrom_result(&spf, ip, mail_from, helo);
            with_none = with_none.with_dmarc_result(&dmarc);
            let text = with_none.to_header();
            return Ok(text.replacen(
                &format!("Authentication-Results: {host};"),
                &format!("Authentication-Results: {host};\r\n\tdkim=none;"),
                1,
            ));
        }
        header = header
            .with_spf_mailfrom_result(&spf, ip, mail_from, helo)
            .with_dmarc_result(&dmarc);
        Ok(header.to_header())
    }
}

/// RFC 7489 6.6.2: with a DMARC record published, a message that passes
/// neither aligned SPF nor aligned DKIM fails DMARC. mail-auth 0.7 leaves
/// both results at "none" when neither method passed at all; say "fail".
fn dmarc_outcome(dmarc: DmarcOutput) -> DmarcOutput {
    let unset = |r: &DmarcResult| *r == DmarcResult::None;
    if dmarc.dmarc_record().is_some() && unset(dmarc.spf_result()) && unset(dmarc.dkim_result()) {
        dmarc
            .with_spf_result(DmarcResult::Fail(mail_auth::Error::NotAligned))
            .with_dkim_result(DmarcResult::Fail(mail_auth::Error::NotAligned))
    } else {
        dmarc
    }
}
