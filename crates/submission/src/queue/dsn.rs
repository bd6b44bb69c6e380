//! Delivery status notifications (RFC 3464, RFC 3461 6): built from the
//! results the store marked as needing one, and queued in the same
//! transaction that clears the mark.

use std::fmt::Write as _;

use mail_parser::MessageParser;
use store::{
    BodyType, DsnRet, OutboundMessage, OutboundRecipient, QueueSource, QueuedMessage,
    QueuedRecipient, ReportAction,
};

use super::Inner;
use crate::message::{rfc5322_date, unique_id};

/// Queues the reports that are waiting; returns how many messages had some.
pub(crate) async fn send_reports(inner: &Inner) -> Result<usize, store::StoreError> {
    let pending = inner.store.pending_reports(100).await?;
    let n = pending.len();
    for m in pending {
        let ids: Vec<_> = m
            .recipients
            .iter()
            .filter(|r| r.report.is_some())
            .map(|r| r.id)
            .collect();
        let raw = match inner.store.queue_message_raw(m.id).await {
            Ok(raw) => raw,
            Err(e) => {
                tracing::error!(queue_id = %m.id, error = %e, "cannot read a message to report on");
                continue;
            }
        };
        let lifetime =
            i64::try_from(inner.config.submission.queue_lifetime_secs).unwrap_or(i64::MAX);
        let report = build(
            &inner.config.hostname,
            &m,
            &raw,
            crate::mail::now(),
            lifetime,
        );
        let queued = inner.store.complete_reports(m.id, ids, report).await?;
        if let Some(q) = queued {
            tracing::info!(queue_id = %m.id, report_id = %q, "delivery status notification queued");
        }
    }
    Ok(n)
}

/// The RFC 3463 status code in a reply like "550 5.1.1 no such user".
fn status_of(action: ReportAction, error: Option<&str>) -> String {
    if let Some(e) = error {
        let mut words = e.split_whitespace();
        let code = words.next().unwrap_or("");
        if let Some(s) = words.next() {
            let parts: Vec<&str> = s.split('.').collect();
            if parts.len() == 3
                && matches!(parts[0], "2" | "4" | "5")
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            {
                // A temporary failure that ran out of time (RFC 3463 3.5).
                if action == ReportAction::Failed && parts[0] == "4" {
                    return "5.4.7".into();
                }
                return s.to_string();
            }
        }
        match code.as_bytes().first() {
            Some(b'5') => return "5.0.0".into(),
            Some(b'4') if action == ReportAction::Failed => return "5.4.7".into(),
            Some(b'4') => return "4.0.0".into(),
            _ => {}
        }
    }
    match action {
        ReportAction::Delivered | ReportAction::Relayed => "2.0.0".into(),
        ReportAction::Delayed => "4.0.0".into(),
        ReportAction::Failed => "5.0.0".into(),
    }
}

/// A one-line value for a report field.
fn field(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Builds the report for the recipients of `m` marked with one; None when
/// nobody can receive it (the null sender).
pub(crate) fn build(
    hostname: &str,
    m: &QueuedMessage,
    raw: &[u8],
    now: i64,
    lifetime: i64,
) -> Option<OutboundMessage> {
    if m.sender.is_empty() {
        return None;
    }
    let reported: Vec<(&QueuedRecipient, ReportAction)> = m
        .recipients
        .iter()
        .filter_map(|r| r.report.map(|a| (r, a)))
        .collect();
    if reported.is_empty() {
        return None;
    }
    let worst = if reported.iter().any(|(_, a)| *a == ReportAction::Failed) {
        ReportAction::Failed
    } else if reported.iter().any(|(_, a)| *a == ReportAction::Delayed) {
        ReportAction::Delayed
    } else {
        reported[0].1
    };
    let subject = match worst {
        ReportAction::Failed => "Undelivered Mail Returned to Sender",
        ReportAction::Delayed => "Delayed Mail (still being retried)",
        ReportAction::Delivered | ReportAction::Relayed => "Successful Mail Delivery Report",
    };
    let original_subject = MessageParser::new()
        .parse_headers(raw)
        .and_then(|p| p.subject().map(field))
        .unwrap_or_default();
    let boundary = format!("{}/{}", unique_id(), hostname);

    let mut human = String::new();
    let _ = writeln!(human, "This is the mail system at {hostname}.\r");
    let _ = writeln!(human, "\r");
    match worst {
        ReportAction::Failed => {
            let _ = writeln!(
                human,
                "Your message could not be delivered to one or more recipients.\r"
            );
        }
        ReportAction::Delayed => {
            let _ = writeln!(
                human,
                "Your message has not been delivered yet to one or more recipients. Delivery will be\r\nretried; you do not need to send it again.\r"
            );
        }
        _ => {
            let _ = writeln!(
                human,
                "Your message was delivered to the recipients below.\r"
            );
        }
    }
    if !original_subject.is_empty() {
        let _ = writeln!(human, "\r\nSubject: {original_subject}\r");
    }
    let _ = writeln!(human, "\r");
    for (r, a) in &reported {
        let why = r.last_error.as_deref().map(field).unwrap_or_default();
        let _ = writeln!(
            human,
            "<{}>: {}{}{}\r",
            field(&r.address),
            a.as_str(),
            if why.is_empty() { "" } else { ": " },
            why
        );
    }

    let mut status = String::new();
    let _ = write!(status, "Reporting-MTA: dns; {hostname}\r\n");
    if let Some(e) = &m.env_id {
        let _ = write!(status, "Original-Envelope-Id: {}\r\n", field(e));
    }
    let _ = write!(status, "Arrival-Date: {}\r\n", rfc5322_date(m.created_at));
    for (r, a) in &reported {
        status.push_str("\r\n");
        if let Some(o) = &r.orcpt {
            let _ = write!(status, "Original-Recipient: {}\r\n", field(o));
        }
        let _ = write!(status, "Final-Recipient: rfc822; {}\r\n", field(&r.address));
        let _ = write!(status, "Action: {}\r\n", a.as_str());
        let _ = write!(
            status,
            "Status: {}\r\n",
            status_of(*a, r.last_error.as_deref())
        );
        if let Some(mta) = &r.remote_mta {
            let _ = write!(status, "Remote-MTA: dns; {}\r\n", field(mta));
        }
        if let Some(e) = &r.last_error {
            let kind = if r.remote_mta.is_some() {
                "smtp"
            } else {
                "x-zest"
            };
            let _ = write!(status, "Diagnostic-Code: {kind}; {}\r\n", field(e));
        }
        if let Some(t) = r.last_attempt {
            let _ = write!(status, "Last-Attempt-Date: {}\r\n", rfc5322_date(t));
        }
        if *a == ReportAction::Delayed {
            let _ = write!(
                status,
                "Will-Retry-Until: {}\r\n",
                rfc5322_date(
                    m.hold_until
                        .unwrap_or(m.created_at)
                        .max(m.created_at)
                        .saturating_add(lifetime)
                )
            );
        }
    }

    // RFC 3461 4.3: RET=FULL returns the message; otherwise headers only,
    // except that a failure without RET returns the whole message.
    let full = match m.dsn_ret {
        Some(DsnRet::Full) => true,
        Some(DsnRet::Hdrs) => false,
        None => worst == ReportAction::Failed,
    } && m.body_type != BodyType::BinaryMime;
    let header_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(raw.len());

    let mut out = String::new();
    let _ = write!(
        out,
        "From: Mail Delivery System <MAILER-DAEMON@{hostname}>\r\n"
    );
    let _ = write!(out, "To: <{}>\r\n", field(&m.sender));
    let _ = write!(out, "Subject: {subject}\r\n");
    let _ = write!(out, "Date: {}\r\n", rfc5322_date(now));
    let _ = write!(out, "Message-ID: <{}@{hostname}>\r\n", unique_id());
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    let _ = write!(
        out,
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    );
    out.push_str("This is a MIME-encapsulated message.\r\n\r\n");
    let _ = write!(
        out,
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{human}\r\n"
    );
    let _ = write!(
        out,
        "--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n{status}\r\n"
    );
    let mut bytes = out.into_bytes();
    if full {
        bytes.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes(),
        );
        bytes.extend_from_slice(raw);
        if !raw.ends_with(b"\r\n") {
            bytes.extend_from_slice(b"\r\n");
        }
    } else {
        bytes.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n").as_bytes(),
        );
        bytes.extend_from_slice(&raw[..header_end]);
    }
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let eight_bit = bytes.iter().any(|b| *b >= 0x80);
    Some(OutboundMessage {
        sender: String::new(),
        account: m.account,
        source: QueueSource::Dsn,
        recipients: vec![OutboundRecipient::new(m.sender.clone())],
        raw: bytes,
        env_id: None,
        dsn_ret: None,
        body_type: if eight_bit {
            BodyType::EightBitMime
        } else {
            BodyType::SevenBit
        },
        smtputf8: m.smtputf8,
        hold_until: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(
            status_of(ReportAction::Failed, Some("550 5.1.1 no such user")),
            "5.1.1"
        );
        assert_eq!(
            status_of(ReportAction::Failed, Some("550 no such user")),
            "5.0.0"
        );
        assert_eq!(status_of(ReportAction::Delayed, Some("421 busy")), "4.0.0");
        assert_eq!(
            status_of(ReportAction::Delivered, Some("250 2.0.0 ok")),
            "2.0.0"
        );
        assert_eq!(status_of(ReportAction::Failed, None), "5.0.0");
        assert_eq!(
            status_of(ReportAction::Failed, Some("451 4.4.1 gave up")),
            "5.4.7"
        );
    }
}
