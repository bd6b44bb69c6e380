//! MAIL and RCPT: the envelope of one transaction, with the parameters of
//! SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), DSN
//! (RFC 3461) and FUTURERELEASE (RFC 4865), and the sender-ownership rule.

use smtp_proto::{MailFrom, RcptTo};
use store::{BodyType, DsnRet, EmailAddress, OutboundRecipient};

use crate::reply::Reply;
use crate::session::{Next, Session};

/// Longest hold a client may ask for (RFC 4865 4: advertised in EHLO).
pub(crate) const MAX_HOLD_SECS: u64 = 7 * 24 * 3600;
/// Recipients per message (RFC 5321 4.5.3.1.8 requires at least 100).
pub(crate) const MAX_RECIPIENTS: usize = 1000;

/// One mail transaction being received.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    pub sender: String,
    pub body: BodyType,
    pub smtputf8: bool,
    pub env_id: Option<String>,
    pub ret: Option<DsnRet>,
    pub hold_until: Option<i64>,
    pub recipients: Vec<OutboundRecipient>,
    pub data: Vec<u8>,
    /// BDAT has started; DATA is no longer allowed (RFC 3030 2).
    pub chunked: bool,
    /// The messages BURL URLs named, marked $Submitted once this one is queued.
    pub referenced: Vec<crate::burl::Referenced>,
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 4865 3: "FUTURERELEASE max-interval max-datetime".
pub(crate) fn future_release_capability() -> String {
    let until = now() + MAX_HOLD_SECS as i64;
    format!(
        "FUTURERELEASE {MAX_HOLD_SECS} {}",
        crate::message::rfc3339(until)
    )
}

const UNSUPPORTED_MAIL_FLAGS: u64 = smtp_proto::MAIL_REQUIRETLS
    | smtp_proto::MAIL_CONPERM
    | smtp_proto::MAIL_BY_NOTIFY
    | smtp_proto::MAIL_BY_RETURN
    | smtp_proto::MAIL_BY_TRACE;

impl Session {
    /// Whether the authenticated user may use `address` as a sender: it is
    /// theirs or an alias of theirs, with or without a `+detail`.
    pub(crate) fn owns(&self, address: &str) -> bool {
        let Ok(a) = EmailAddress::parse(address) else {
            return false;
        };
        let base = a.without_detail();
        self.owned
            .iter()
            .any(|o| *o == a || base.as_ref().is_some_and(|b| b == o))
    }

    pub(crate) async fn mail(&mut self, from: MailFrom<String>) -> Next {
        if self.helo.is_none() {
            return self.error(Reply::new(503, "5.5.1", "Send EHLO first"));
        }
        let Some(account) = &self.account else {
            // Where no login is possible before TLS, say what comes first
            // (RFC 3207 4).
            if !self
                .shared
                .auth
                .plaintext_allowed(self.peer.ip(), self.secure)
            {
                return self.error(Reply::new(
                    530,
                    "5.7.0",
                    "Must issue a STARTTLS command first",
                ));
            }
            return self.error(Reply::new(530, "5.7.0", "Authentication required"));
        };
        if self.envelope.is_some() {
            return self.error(Reply::new(503, "5.5.1", "Nested MAIL command"));
        }
        if from.flags & UNSUPPORTED_MAIL_FLAGS != 0
            || from.mtrk.is_some()
            || from.trans_id.is_some()
            || from.solicit.is_some()
            || from.by != 0
            || from.mt_priority != 0
        {
            return self.error(Reply::new(555, "5.5.4", "Unsupported MAIL parameter"));
        }
        if from.size as u64 > self.shared.limits.max_message_size {
            return self.error(Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ));
        }
        let smtputf8 = from.flags & smtp_proto::MAIL_SMTPUTF8 != 0;
        if !smtputf8 && !from.address.is_ascii() {
            return self.error(Reply::new(
                553,
                "5.6.7",
                "Non-ASCII address requires SMTPUTF8",
            ));
        }
        if !self.owns(&from.address) {
            let user = account.address.to_string();
            tracing::info!(user, sender = ?from.address, "refused a sender the user does not own");
            return self.error(Reply::new(
                550,
                "5.7.1",
                format!("Sender address not owned by {user}"),
            ));
        }
        let now = now();
        let hold_until = if from.hold_for > 0 {
            if from.hold_for > MAX_HOLD_SECS {
                return self.error(Reply::new(
                    501,
                    "5.5.4",
                    "HOLDFOR exceeds the maximum interval",
                ));
            }
            Some(now + from.hold_for as i64)
        } else if from.hold_until > 0 {
            let at = i64::try_from(from.hold_until).unwrap_or(i64::MAX);
            if at > now + MAX_HOLD_SECS as i64 {
                return self.error(Reply::new(
                    501,
                    "5.5.4",
                    "HOLDUNTIL exceeds the maximum date",
                ));
            }
            // RFC 4865 4: a time in the past means release at once.
            (at > now).then_some(at)
        } else {
            None
        };
        let body = if from.flags & smtp_proto::MAIL_BODY_BINARYMIME != 0 {
            BodyType::BinaryMime
        } else if from.flags & smtp_proto::MAIL_BODY_8BITMIME != 0 {
            BodyType::EightBitMime
        } else {
            BodyType::SevenBit
        };
        let ret = if from.flags & smtp_proto::MAIL_RET_FULL != 0 {
            Some(DsnRet::Full)
        } else if from.flags & smtp_proto::MAIL_RET_HDRS != 0 {
            Some(DsnRet::Hdrs)
        } else {
            None
        };
        let env_id = from
            .env_id
            .filter(|e| e.len() <= 100 && e.chars().all(|c| c.is_ascii_graphic()));
        self.envelope = Some(Envelope {
            sender: from.address,
            body,
            smtputf8,
            env_id,
            ret,
            hold_until,
            ..Envelope::default()
        });
        self.chunk_error = None;
        self.reply(Reply::new(250, "2.1.0", "Sender OK"));
        Next::Continue
    }

    pub(crate) fn rcpt(&mut self, to: RcptTo<String>) -> Next {
        let Some(env) = &self.envelope else {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL before RCPT"));
        };
        if env.recipients.len() >= MAX_RECIPIENTS {
            self.reply(Reply::new(452, "4.5.3", "Too many recipients"));
            return Next::Continue;
        }
        if !env.smtputf8 && !to.address.is_ascii() {
            return self.error(Reply::new(
                553,
                "5.6.7",
                "Non-ASCII address requires SMTPUTF8",
            ));
        }
        if to.address.is_empty() || store::recipient_domain(&to.address).is_err() {
            return self.error(Reply::new(501, "5.1.3", "Bad recipient address syntax"));
        }
        if to.flags
            & (smtp_proto::RCPT_CONNEG
                | smtp_proto::RCPT_RRVS_REJECT
                | smtp_proto::RCPT_RRVS_CONTINUE)
            != 0
        {
            return self.error(Reply::new(555, "5.5.4", "Unsupported RCPT parameter"));
        }
        let notify = notify_text(to.flags);
        let orcpt = to.orcpt.map(|o| format!("rfc822;{o}"));
        if let Some(env) = self.envelope.as_mut() {
            env.recipients.push(OutboundRecipient {
                address: to.address,
                orcpt,
                notify,
            });
        }
        self.reply(Reply::new(250, "2.1.5", "Recipient OK"));
        Next::Continue
    }
}

/// RFC 3461 4.1 NOTIFY as stored in the queue.
fn notify_text(flags: u64) -> Option<String> {
    if flags & smtp_proto::RCPT_NOTIFY_NEVER != 0 {
        return Some("NEVER".into());
    }
    let parts: Vec<&str> = [
        (smtp_proto::RCPT_NOTIFY_SUCCESS, "SUCCESS"),
        (smtp_proto::RCPT_NOTIFY_FAILURE, "FAILURE"),
        (smtp_proto::RCPT_NOTIFY_DELAY, "DELAY"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| *name)
    .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}
