//! ENVELOPE, BODY and BODYSTRUCTURE on the wire (RFC 3501 7.4.2) from the
//! summary the store computed at delivery.

use store::summary::{Address, BodyStructure, Envelope};

use super::wire::{nstring, string};

pub fn envelope(out: &mut Vec<u8>, e: &Envelope) {
    out.push(b'(');
    nstring(out, e.date.as_deref());
    out.push(b' ');
    nstring(out, e.subject.as_deref());
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        out.push(b' ');
        addresses(out, list);
    }
    out.push(b' ');
    nstring(out, e.in_reply_to.as_deref());
    out.push(b' ');
    nstring(out, e.message_id.as_deref());
    out.push(b')');
}

fn addresses(out: &mut Vec<u8>, list: &[Address]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        nstring(out, a.name.as_deref());
        out.push(b' ');
        nstring(out, a.adl.as_deref());
        out.push(b' ');
        nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

fn params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, k.as_bytes());
        out.push(b' ');
        string(out, v.as_bytes());
    }
    out.push(b')');
}

fn extension(out: &mut Vec<u8>, b: &BodyStructure) {
    out.push(b' ');
    match &b.disposition {
        Some((d, p)) => {
            out.push(b'(');
            string(out, d.as_bytes());
            out.push(b' ');
            params(out, p);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match b.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => string(out, one.as_bytes()),
        many => {
            out.push(b'(');
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, l.as_bytes());
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    nstring(out, b.location.as_deref());
}

/// BODYSTRUCTURE when `extended`, else BODY.
pub fn body(out: &mut Vec<u8>, b: &BodyStructure, extended: bool) {
    out.push(b'(');
    if !b.parts.is_empty() {
        for p in &b.parts {
            body(out, p, extended);
        }
        out.push(b' ');
        string(out, b.media_subtype.as_bytes());
        if extended {
            out.push(b' ');
            params(out, &b.params);
            extension(out, b);
        }
        out.push(b')');
        return;
    }
    string(out, b.media_type.as_bytes());
    out.push(b' ');
    string(out, b.media_subtype.as_bytes());
    out.push(b' ');
    params(out, &b.params);
    out.push(b' ');
    nstring(out, b.id.as_deref());
    out.push(b' ');
    nstring(out, b.description.as_deref());
    out.push(b' ');
    string(out, b.encoding.as_bytes());
    out.extend_from_slice(format!(" {}", b.size).as_bytes());
    if let Some(m) = &b.message {
        out.push(b' ');
        envelope(out, &m.0);
        out.push(b' ');
        body(out, &m.1, extended);
        out.extend_from_slice(format!(" {}", b.lines.unwrap_or(0)).as_bytes());
    } else if b.media_type.eq_ignore_ascii_case("text") {
        out.extend_from_slice(format!(" {}", b.lines.unwrap_or(0)).as_bytes());
    }
    if extended {
        out.push(b' ');
        nstring(out, b.md5.as_deref());
        extension(out, b);
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::summary::summarize;

    fn render(raw: &[u8], extended: bool) -> String {
        let s = summarize(raw);
        let mut out = Vec::new();
        body(&mut out, &s.body, extended);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn rfc3501_example_envelope() {
        let raw = b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\nFrom: Terry Gray <gray@cac.washington.edu>\r\nSubject: IMAP4rev1 WG mtg summary and minutes\r\nTo: imap@cac.washington.edu\r\ncc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\nMessage-Id: <B27397-0100000@cac.washington.edu>\r\n\r\nhi\r\n";
        let s = summarize(raw);
        let mut out = Vec::new();
        envelope(&mut out, &s.envelope);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((NIL NIL \"imap\" \"cac.washington.edu\")) \
             ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) \
             NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
        );
    }

    #[test]
    fn simple_and_multipart_structures() {
        let plain =
            b"Subject: x\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nline 1\r\nline 2\r\n";
        assert_eq!(
            render(plain, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 16 2)"
        );
        assert_eq!(
            render(plain, true),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 16 2 NIL NIL NIL NIL)"
        );
        let multi = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nhello\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
        assert_eq!(
            render(multi, true),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)\
             (\"application\" \"pdf\" NIL NIL NIL \"base64\" 4 NIL (\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL) \
             \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)"
        );
    }
}
