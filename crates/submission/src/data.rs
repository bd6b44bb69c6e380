//! DATA and BDAT (RFC 3030): receiving message content, then the checks and
//! header fixes of `message` and the queue. A 250 is sent only once the
//! message is durable in the queue.

use smtp_proto::request::receiver::DataReceiver;
use store::{BodyType, OutboundMessage, QueueSource};

use crate::reply::{self, Reply};
use crate::session::{Mode, Next, Session};

impl Session {
    pub(crate) fn data(&mut self) -> Next {
        let Some(env) = &self.envelope else {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL command"));
        };
        if env.recipients.is_empty() {
            return self.error(Reply::new(554, "5.5.1", "No valid recipients"));
        }
        if env.body == BodyType::BinaryMime || env.chunked {
            return self.error(Reply::new(
                503,
                "5.5.1",
                "BODY=BINARYMIME and BDAT require BDAT, not DATA",
            ));
        }
        self.reply(Reply::new(354, "", "End data with <CR><LF>.<CR><LF>"));
        self.mode = Mode::Data(DataReceiver::new());
        Next::Continue
    }

    pub(crate) fn bdat(&mut self, size: usize, last: bool) -> Next {
        // The chunk's bytes follow whatever we answer; they are always read.
        match &mut self.envelope {
            None => {
                self.chunk_error
                    .get_or_insert(Reply::new(503, "5.5.1", "Need MAIL command"));
            }
            Some(env) if env.recipients.is_empty() => {
                self.chunk_error
                    .get_or_insert(Reply::new(554, "5.5.1", "No valid recipients"));
            }
            Some(env) => env.chunked = true,
        }
        self.mode = Mode::Bdat { left: size, last };
        Next::Continue
    }

    /// Consumes up to `left` bytes of a BDAT chunk from `buf`.
    pub(crate) async fn bdat_bytes(&mut self, buf: &mut Vec<u8>, left: usize, last: bool) -> Next {
        let n = left.min(buf.len());
        let max = self.shared.max_message_size();
        if self.chunk_error.is_none()
            && let Some(env) = self.envelope.as_mut()
        {
            if env.data.len() + n > max {
                env.data = Vec::new();
                self.chunk_error = Some(Reply::new(
                    552,
                    "5.3.4",
                    "Message size exceeds fixed maximum message size",
                ));
            } else {
                env.data.extend_from_slice(&buf[..n]);
            }
        }
        buf.drain(..n);
        let left = left - n;
        if left > 0 {
            self.mode = Mode::Bdat { left, last };
            return Next::NeedInput;
        }
        if let Some(e) = &self.chunk_error {
            let e = e.clone();
            if last {
                self.envelope = None;
                self.chunk_error = None;
            }
            self.reply(e);
            return Next::Continue;
        }
        if last {
            let r = self.finish_message(true).await;
            self.reply(r);
        } else {
            let size = self.envelope.as_ref().map_or(0, |e| e.data.len());
            self.reply(Reply::new(250, "2.0.0", format!("{size} octets received")));
        }
        Next::Continue
    }

    /// The end of a message: checks, header fixes, then the queue.
    pub(crate) async fn finish_message(&mut self, chunked: bool) -> Reply {
        let Some(env) = self.envelope.take() else {
            return Reply::new(503, "5.5.1", "Need MAIL command");
        };
        let Some(account) = self.account.clone() else {
            return Reply::new(530, "5.7.0", "Authentication required");
        };
        let mut raw = env.data;
        if raw.len() > self.shared.max_message_size() {
            return Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        }
        if env.body != BodyType::BinaryMime && raw.contains(&0) {
            return Reply::new(
                554,
                "5.6.0",
                "NUL in message; send it with BDAT and BODY=BINARYMIME",
            );
        }
        if !chunked {
            // RFC 5321 2.3.8: lines end in CRLF; mend the bare LFs some clients send.
            raw = crate::message::crlf(raw);
        }
        let ctx = crate::message::Context {
            hostname: &self.shared.config.hostname,
            helo: self.helo.as_deref().unwrap_or("unknown"),
            peer: self.peer.ip(),
            secure: self.secure,
            user: account.address.as_str(),
        };
        let raw = match crate::message::prepare(raw, &ctx, |a| self.owns(a)) {
            Ok(raw) => raw,
            Err(r) => return r,
        };
        let recipients = env.recipients.len();
        let referenced = env.referenced;
        let msg = OutboundMessage {
            sender: env.sender,
            account: Some(account.id),
            source: QueueSource::Submission,
            recipients: env.recipients,
            raw,
            env_id: env.env_id,
            dsn_ret: env.ret,
            body_type: env.body,
            smtputf8: env.smtputf8,
            hold_until: env.hold_until,
        };
        let size = msg.raw.len();
        match self.store().enqueue(msg).await {
            Ok(id) => {
                tracing::info!(queue_id = %id, user = %account.address, recipients, size, "queued");
                self.mark_submitted(referenced).await;
                Reply::new(250, "2.0.0", format!("OK queued as {id}"))
            }
            Err(e) => reply::from_store(&e),
        }
    }
}
