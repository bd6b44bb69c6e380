//! CAPABILITY, ID (RFC 2971), ENABLE (RFC 5161) and NAMESPACE (RFC 2342).

use imap_proto::{Data, Namespace};

use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::state::Kind;

impl Session {
    /// What this connection offers now: STARTTLS and the SASL mechanisms depend
    /// on TLS and the plaintext rules; only what works is listed.
    pub(crate) fn capabilities(&self) -> Vec<String> {
        let mut caps = vec!["IMAP4rev1".to_string(), "IMAP4rev2".to_string()];
        if self.state.kind() == Kind::NotAuthenticated {
            if !self.stream.is_tls() {
                caps.push("STARTTLS".into());
            }
            if self.plaintext_allowed() {
                caps.push("AUTH=PLAIN".into());
                caps.push("AUTH=LOGIN".into());
            } else {
                caps.push("LOGINDISABLED".into());
            }
        }
        // Before login, non-synchronising literals are held to 4096 octets
        // (RFC 7888 LITERAL-): an unauthenticated client cannot make the
        // server read a large literal it did not agree to.
        caps.push(if self.state.kind() == Kind::NotAuthenticated {
            "LITERAL-".into()
        } else {
            "LITERAL+".into()
        });
        let append_limit = self.append_limit();
        caps.extend(
            [
                "SASL-IR",
                "ID",
                "ENABLE",
                "IDLE",
                "NAMESPACE",
                "UIDPLUS",
                "UNSELECT",
                "MOVE",
                "CHILDREN",
                "SPECIAL-USE",
                "CREATE-SPECIAL-USE",
                "LIST-EXTENDED",
                "LIST-STATUS",
                "MULTIAPPEND",
                "QUOTA",
                "QUOTA=RES-STORAGE",
                "QUOTA=RES-MESSAGE",
                "STATUS=SIZE",
                "CONDSTORE",
                "QRESYNC",
                "ESEARCH",
                "SEARCHRES",
                "NOTIFY",
                "COMPRESS=DEFLATE",
                "UTF8=ACCEPT",
                "SORT",
                "SORT=DISPLAY",
                "ESORT",
                "THREAD=ORDEREDSUBJECT",
                "THREAD=REFERENCES",
                "CONTEXT=SEARCH",
                "CONTEXT=SORT",
                "I18NLEVEL=1",
                "CATENATE",
                "URLAUTH",
                "URLAUTH=BINARY",
                "URL-PARTIAL",
                "BINARY",
                "CONVERT",
            ]
            .iter()
            .map(|c| c.to_string()),
        );
        caps.push(format!("APPENDLIMIT={append_limit}"));
        caps
    }

    pub(crate) fn plaintext_allowed(&self) -> bool {
        self.shared
            .auth
            .plaintext_allowed(self.peer.ip(), self.stream.is_tls())
    }

    /// The largest message APPEND takes (RFC 7889).
    pub(crate) fn append_limit(&self) -> u64 {
        let l = &self.shared.limits;
        l.max_message_size.min(l.max_literal_size)
    }
}

pub(crate) fn capability(s: &mut Session) -> Outcome {
    let caps = s.capabilities();
    s.send(Data::Capability(caps));
    Ok(Reply::ok("CAPABILITY completed"))
}

pub(crate) fn id(s: &mut Session) -> Outcome {
    s.send(Data::Id(Some(vec![("name".into(), Some("Zest".into()))])));
    Ok(Reply::ok("ID completed"))
}

/// Enables what the client asks for and this server offers; ENABLED lists
/// only what this command newly enabled (RFC 5161 3.1).
pub(crate) fn enable(s: &mut Session, requested: &[String]) -> Outcome {
    let mut enabled = Vec::new();
    for cap in requested {
        let newly = match cap.as_str() {
            "CONDSTORE" => !std::mem::replace(&mut s.condstore, true),
            // QRESYNC implies CONDSTORE (RFC 7162 3.2.3).
            "QRESYNC" => {
                s.condstore = true;
                !std::mem::replace(&mut s.qresync, true)
            }
            // RFC 9051: no \Recent, ESEARCH answers SEARCH, UTF-8 names
            // and strings.
            "IMAP4REV2" => {
                s.use_utf8();
                !std::mem::replace(&mut s.rev2, true)
            }
            // RFC 6855 3: UTF-8 mailbox names and quoted strings.
            "UTF8=ACCEPT" => !s.use_utf8(),
            _ => false,
        };
        if newly && !enabled.contains(cap) {
            enabled.push(match cap.as_str() {
                "IMAP4REV2" => "IMAP4rev2".to_string(),
                _ => cap.clone(),
            });
        }
    }
    let (condstore, qresync) = (s.condstore, s.qresync);
    if let Some(sel) = s.state.selected_mut() {
        sel.condstore = condstore;
        sel.qresync = qresync;
    }
    s.send(Data::Enabled(enabled));
    Ok(Reply::ok("ENABLE completed"))
}

impl Session {
    /// Mailbox names and quoted strings are UTF-8 from now on (RFC 6855 3,
    /// RFC 9051 5.1); returns whether they were already.
    pub(crate) fn use_utf8(&mut self) -> bool {
        let was = self.opts.utf8;
        self.opts.utf8 = true;
        self.limits.utf8 = true;
        was
    }

    /// A CONDSTORE enabling command was used (RFC 7162 3.1): FETCH
    /// MODSEQ/CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS
    /// HIGHESTMODSEQ or SELECT (CONDSTORE).
    pub(crate) fn enable_condstore(&mut self) {
        let newly = !std::mem::replace(&mut self.condstore, true);
        let Some(sel) = self.state.selected_mut() else {
            return;
        };
        sel.condstore = true;
        // RFC 7162 3.1: the first CONDSTORE enabling command with a mailbox
        // selected tells the client the mailbox's HIGHESTMODSEQ.
        if newly {
            let highest = sel.modseq;
            self.send(super::qresync::highest_modseq(highest));
        }
    }
}

pub(crate) fn namespace(s: &mut Session) -> Outcome {
    s.send(Data::Namespace {
        personal: Some(vec![Namespace {
            prefix: String::new(),
            delimiter: Some('/'),
        }]),
        other: None,
        shared: None,
    });
    Ok(Reply::ok("NAMESPACE completed"))
}
