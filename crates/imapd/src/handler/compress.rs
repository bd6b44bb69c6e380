//! COMPRESS (RFC 4978): the tagged OK goes out uncompressed, then both
//! directions are deflated.

use imap_proto::{Code, Tag};

use crate::reply::Reply;
use crate::session::compress::Deflate;
use crate::session::{Session, Stream};

/// Runs COMPRESS; `None` when the tagged response was already sent.
pub(crate) async fn compress(s: &mut Session, tag: &Tag, mechanism: &str) -> Option<Reply> {
    if s.stream.is_compressed() {
        return Some(Reply::no("Compression is already active").code(Code::CompressionActive));
    }
    if mechanism != "DEFLATE" {
        return Some(Reply::bad("Unknown compression mechanism").code(Code::ClientBug));
    }
    s.tagged(tag.clone(), Reply::ok("DEFLATE active"));
    s.flush().await;
    // Whatever the client sent after the command is already compressed.
    let pending = std::mem::take(&mut s.buf);
    let inner = std::mem::replace(&mut s.stream, Stream::Closed);
    s.stream = Stream::Deflate(Box::new(Deflate::new(inner, pending)));
    None
}
