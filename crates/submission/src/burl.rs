//! BURL (RFC 4468): message content fetched from IMAP by URLAUTH URL. It
//! comes together with URLAUTH in imapd; until then it is not advertised and
//! the command is refused, consuming nothing of the transaction.

use crate::reply::Reply;
use crate::session::{Next, Session};

pub(crate) fn refuse(session: &mut Session, _uri: &str, _is_last: bool) -> Next {
    session.error(Reply::new(502, "5.5.1", "BURL is not available"))
}
