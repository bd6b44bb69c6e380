//! One connection: the loop that reads commands (with literals, limits and
//! timeouts), runs their handlers, merges the store's change feed into
//! untagged updates, and is the only writer to the socket.

pub(crate) mod compress;
pub(crate) mod context;
pub(crate) mod notify;
pub(crate) mod selected;
pub(crate) mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use imap_proto::{
    Command, CommandBody, EncodeOptions, Parsed, Response, Skip, Status, StatusResponse, Tag,
};
use store::{ChangeKind, ChangeStream, FeedItem};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::Shared;
use crate::reply::Reply;
use state::{State, allowed};

/// The socket, before or after TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// COMPRESS=DEFLATE over one of the above (RFC 4978).
    Deflate(Box<compress::Deflate>),
    Closed,
}

impl Stream {
    async fn read_buf(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        match self {
            Stream::Deflate(d) => d.read_buf(buf).await,
            s => s.raw_read(buf).await,
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Deflate(d) => d.write_all(data).await,
            s => s.raw_write(data).await,
        }
    }

    /// Reads from the socket itself (under any compression).
    pub(crate) async fn raw_read(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read_buf(buf).await,
            Stream::Tls(s) => s.read_buf(buf).await,
            Stream::Deflate(_) | Stream::Closed => Ok(0),
        }
    }

    pub(crate) async fn raw_write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(data).await,
            Stream::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Stream::Deflate(_) | Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
            Stream::Deflate(d) => match &mut d.inner {
                Stream::Plain(s) => s.shutdown().await,
                Stream::Tls(s) => s.shutdown().await,
                _ => Ok(()),
            },
            Stream::Closed => Ok(()),
        };
    }

    pub fn is_tls(&self) -> bool {
        match self {
            Stream::Deflate(d) => d.inner.is_tls(),
            s => matches!(s, Stream::Tls(_)),
        }
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self, Stream::Deflate(_))
    }
}

/// Why reading stopped.
enum Stop {
    Eof,
    Timeout,
    Shutdown,
    Io,
}

/// Reads what is available into `buf`. An idle connection waits with a
/// small buffer; one that is receiving data reads in large chunks.
async fn read_some(stream: &mut Stream, buf: &mut Vec<u8>, shared: &Shared) -> Result<(), Stop> {
    if buf.is_empty() && buf.capacity() > IDLE_BUFFER {
        *buf = Vec::new();
    }
    buf.reserve(if buf.is_empty() {
        IDLE_BUFFER
    } else {
        BUSY_BUFFER
    });
    let read = tokio::select! {
        r = tokio::time::timeout(shared.limits.idle_timeout, stream.read_buf(buf)) => r,
        _ = shared.shutdown.triggered() => return Err(Stop::Shutdown),
    };
    match read {
        Err(_) => Err(Stop::Timeout),
        Ok(Err(_)) => Err(Stop::Io),
        Ok(Ok(0)) => Err(Stop::Eof),
        Ok(Ok(_)) => Ok(()),
    }
}

/// Read buffer of a connection waiting for its next command.
const IDLE_BUFFER: usize = 1024;
/// Read chunk while a command (or a literal) is arriving.
const BUSY_BUFFER: usize = 16 * 1024;

/// The largest non-synchronising literal LITERAL- allows (RFC 7888 4).
const LITERAL_MINUS: u32 = 4096;

/// The shortest command line accepted, whatever the configured line limit.
const MIN_COMMAND_LINE: usize = 1024 * 1024;

pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub stream: Stream,
    pub peer: SocketAddr,
    /// Bytes read and not yet parsed.
    pub buf: Vec<u8>,
    /// Encoded responses not yet written.
    pub out: Vec<u8>,
    pub state: State,
    pub changes: Option<ChangeStream>,
    pub limits: imap_proto::Limits,
    pub opts: EncodeOptions,
    /// CONDSTORE is enabled (RFC 7162 3.1): FETCH responses carry MODSEQ.
    pub condstore: bool,
    /// QRESYNC is enabled (RFC 7162 3.2): VANISHED replaces EXPUNGE.
    pub qresync: bool,
    /// IMAP4rev2 is enabled (RFC 9051): no `\Recent`, no RECENT responses.
    pub rev2: bool,
    /// The store's commit count when this session last caught up: a write
    /// by another session of this process is seen at the next command even
    /// before the change feed reports it.
    seen_commits: u64,
    /// What NOTIFY asked for (RFC 5465); None without NOTIFY or after NONE.
    pub notify: Option<Box<notify::Notify>>,
    /// Results kept up to date and sort values (RFC 5267 4).
    pub contexts: context::Contexts,
    /// Input still to drop after a refused command.
    skip: Option<Skip>,
    /// Buffer length at which a literal being received is complete.
    want: usize,
    /// Writing failed: the peer is gone.
    broken: bool,
}

impl Session {
    pub fn new(shared: Arc<Shared>, stream: Stream, peer: SocketAddr) -> Session {
        let l = &shared.limits;
        // APPEND carries the only large literals: one over APPENDLIMIT is
        // refused before its bytes arrive (RFC 7889).
        let max_literal =
            u32::try_from(l.max_literal_size.min(l.max_message_size)).unwrap_or(u32::MAX);
        let limits = imap_proto::Limits {
            // Resynchronising clients send sets of many thousand UIDs in one
            // command (RFC 7162 4): a command line may be long.
            max_line: l.max_line_length.max(MIN_COMMAND_LINE),
            max_literal,
            // LITERAL- until login (RFC 7888 4); LITERAL+ after it.
            max_non_sync_literal: max_literal.min(LITERAL_MINUS),
            max_depth: l.max_nesting,
            ..imap_proto::Limits::default()
        };
        Session {
            shared,
            stream,
            peer,
            buf: Vec::new(),
            out: Vec::new(),
            state: State::NotAuthenticated,
            changes: None,
            limits,
            opts: EncodeOptions::default(),
            condstore: false,
            qresync: false,
            rev2: false,
            seen_commits: 0,
            notify: None,
            contexts: context::Contexts::default(),
            skip: None,
            want: 0,
            broken: false,
        }
    }

    /// Queues a response.
    pub fn send(&mut self, r: impl Into<Response>) {
        r.into().encode(&self.opts, &mut self.out);
    }

    /// Writes what is queued.
    pub async fn flush(&mut self) {
        if self.out.is_empty() || self.broken {
            self.out.clear();
            return;
        }
        let out = std::mem::take(&mut self.out);
        if self.stream.write_all(&out).await.is_err() {
            self.broken = true;
        }
    }

    /// Writes early when a large response has piled up.
    pub async fn flush_if_large(&mut self) {
        if self.out.len() >= 256 * 1024 {
            self.flush().await;
        }
    }

    pub async fn close(&mut self) {
        self.flush().await;
        self.stream.shutdown().await;
    }

    pub async fn run(&mut self) {
        let caps = self.capabilities();
        self.send(StatusResponse::untagged(
            Status::Ok,
            Some(imap_proto::Code::Capability(caps)),
            format!("{} Zest IMAP ready", self.shared.config.hostname),
        ));
        self.flush().await;
        while !self.broken && !matches!(self.state, State::Logout) {
            match self.next_command().await {
                // Boxed: the largest handler's state is held only while a
                // command runs, not by every connection waiting for one.
                Ok(cmd) => Box::pin(self.dispatch(cmd)).await,
                Err(stop) => {
                    match stop {
                        Stop::Timeout => self.bye("Autologout; idle for too long"),
                        Stop::Shutdown => self.bye("Server shutting down"),
                        Stop::Eof | Stop::Io => {}
                    }
                    break;
                }
            }
            self.flush().await;
        }
    }

    fn bye(&mut self, text: &str) {
        self.send(StatusResponse::untagged(Status::Bye, None, text));
    }

    /// Reads until a whole command is parsed. Parse errors are answered here
    /// and their input skipped; a synchronising literal gets `+` first.
    async fn next_command(&mut self) -> Result<Command, Stop> {
        loop {
            if let Some(skip) = &mut self.skip {
                let n = skip.consume(&self.buf);
                self.buf.drain(..n);
                if skip.is_done() {
                    self.skip = None;
                } else {
                    self.read_more().await?;
                    continue;
                }
            }
            if !self.buf.is_empty() && self.buf.len() >= self.want {
                match imap_proto::parse_command(&self.buf, &self.limits) {
                    Ok(Parsed::Done(cmd, n)) => {
                        self.buf.drain(..n);
                        self.want = 0;
                        return Ok(cmd);
                    }
                    Ok(Parsed::Incomplete) => {}
                    Ok(Parsed::NeedLiteral { size, sync }) => {
                        self.want = self.buf.len() + size as usize;
                        if sync {
                            self.send(imap_proto::Continuation::Text {
                                code: None,
                                text: "Ready for literal data".into(),
                            });
                            self.flush().await;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(kind = ?e.kind, "refused a command");
                        self.send(e.response());
                        self.flush().await;
                        self.want = 0;
                        self.skip = Some(e.skip);
                        if self.skip.is_some_and(|s| s.is_done()) {
                            // Nothing to drop: make progress on the offending line anyway.
                            self.skip = Some(Skip {
                                bytes: 0,
                                then_line: true,
                            });
                        }
                        continue;
                    }
                }
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> Result<(), Stop> {
        if self.notify.is_some() && self.buf.is_empty() && self.skip.is_none() {
            return Box::pin(self.read_or_notify()).await;
        }
        read_some(&mut self.stream, &mut self.buf, &self.shared).await
    }

    /// Reads one line (a SASL response or IDLE's DONE), without its CRLF.
    pub(crate) async fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                let line = line.strip_suffix(b"\n").unwrap_or(&line);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                return Some(String::from_utf8_lossy(line).into_owned());
            }
            if self.buf.len() > self.limits.max_line {
                return None;
            }
            if self.read_more().await.is_err() {
                return None;
            }
        }
    }

    async fn dispatch(&mut self, cmd: Command) {
        let Command { tag, body } = cmd;
        tracing::debug!(command = body.name(), "command");
        if !allowed(&body, self.state.kind()) {
            let text = match (&body, self.state.kind()) {
                (_, state::Kind::NotAuthenticated) => "Log in first",
                (_, state::Kind::Submit) => "Not available to the submission identity",
                (
                    CommandBody::StartTls
                    | CommandBody::Login { .. }
                    | CommandBody::Authenticate { .. },
                    _,
                ) => "Already logged in",
                _ => "Select a mailbox first",
            };
            self.tagged(tag, Reply::bad(text).code(imap_proto::Code::ClientBug));
            return;
        }
        // RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH (nor CONVERT,
        // RFC 5259 6).
        // After SELECT the client has just learnt EXISTS: messages expunged
        // meanwhile keep their numbers until its next command.
        let allow_expunge = !matches!(
            body,
            CommandBody::Fetch { uid: false, .. }
                | CommandBody::Store { uid: false, .. }
                | CommandBody::Search { uid: false, .. }
                | CommandBody::Sort { uid: false, .. }
                | CommandBody::Thread { uid: false, .. }
                | CommandBody::Convert { uid: false, .. }
                | CommandBody::Select { .. }
                | CommandBody::Examine { .. }
        );
        let Some(outcome) = crate::handler::run(self, &tag, body).await else {
            return;
        };
        let reply = outcome.unwrap_or_else(|r| r);
        if !matches!(self.state, State::Logout | State::NotAuthenticated) {
            self.updates(allow_expunge).await;
        }
        self.tagged(tag, reply);
    }

    pub fn tagged(&mut self, tag: Tag, r: Reply) {
        self.send(StatusResponse {
            tag: Some(tag),
            status: r.status,
            code: r.code,
            text: r.text,
        });
    }

    /// The view about to be read includes every write committed so far.
    pub(crate) fn caught_up_with_writes(&mut self) {
        self.seen_commits = self.shared.store.write_stats().commits;
    }

    /// Takes in what the change feed reported and sends the untagged updates
    /// it implies for the selected mailbox.
    pub(crate) async fn updates(&mut self, allow_expunge: bool) {
        let mut dirty = false;
        let max_uid = self
            .state
            .selected()
            .and_then(|s| s.msgs.last().map(|m| m.uid));
        if let Some(changes) = &mut self.changes {
            let selected = self.state.selected().map(|s| s.id);
            while let Some(item) = changes.try_next() {
                if let Some(n) = &mut self.notify {
                    n.note(&item, selected);
                }
                dirty |= match item {
                    FeedItem::Change(c) => match &c.kind {
                        ChangeKind::MessageAdded { mailbox, .. }
                        | ChangeKind::FlagsChanged { mailbox, .. }
                        | ChangeKind::MessageExpunged { mailbox, .. }
                        | ChangeKind::MailboxDeleted { mailbox, .. } => Some(*mailbox) == selected,
                        _ => false,
                    },
                    FeedItem::Missed(_) => true,
                };
            }
        }
        let commits = self.shared.store.write_stats().commits;
        dirty |= std::mem::replace(&mut self.seen_commits, commits) != commits;
        let Some(account) = self.state.account().map(|a| a.id) else {
            return;
        };
        let store = self.shared.store.clone();
        let Some(sel) = self.state.selected_mut() else {
            if self.notify.is_some() {
                Box::pin(self.notify_send(None)).await;
            }
            return;
        };
        // With QRESYNC the client tracks HIGHESTMODSEQ: always catch up, so
        // that this session's own changes are reported with the command.
        if dirty || sel.dirty || sel.qresync {
            match store.changes_since(account, sel.id, sel.modseq).await {
                Ok((changed, expunged, highest)) => {
                    let before = sel.modseq;
                    let next_uid = sel.msgs.last().map_or(0, |m| m.uid.0.saturating_add(1));
                    // RFC 5267 4.3.4: REMOVEFROM while the numbers still hold.
                    let removals = if allow_expunge && self.contexts.updating() {
                        sel.mark_expunged(&expunged);
                        self.contexts.expunging(sel)
                    } else {
                        Vec::new()
                    };
                    let mut data = sel.apply(changed, &expunged, highest, allow_expunge);
                    if !removals.is_empty() {
                        let at = data
                            .iter()
                            .position(|d| {
                                matches!(
                                    d,
                                    imap_proto::Response::Data(
                                        imap_proto::Data::Expunge(_)
                                            | imap_proto::Data::Vanished { .. }
                                    )
                                )
                            })
                            .unwrap_or(data.len());
                        data.splice(at..at, removals.into_iter().map(Into::into));
                    }
                    sel.dirty = false;
                    let upto = sel.msgs.last().map_or(0, |m| m.uid.0.saturating_add(1));
                    // New messages are recent to the first session that sees them.
                    if upto > next_uid && !sel.read_only && !self.rev2 {
                        let first = self.shared.recent.claim(sel.id, upto);
                        let n = sel.mark_recent(first.max(next_uid));
                        let at = data
                            .iter()
                            .position(|d| {
                                matches!(d, imap_proto::Response::Data(imap_proto::Data::Exists(_)))
                            })
                            .map_or(data.len(), |i| i + 1);
                        data.insert(at, imap_proto::Data::Recent(n).into());
                    }
                    if sel.qresync && sel.modseq > before {
                        // What the client has now caught up to (RFC 7162 3.2).
                        data.push(crate::handler::qresync::highest_modseq(sel.modseq));
                    }
                    for d in data {
                        self.send(d);
                    }
                }
                Err(store::StoreError::NotFound(_)) => {
                    // Deleted by another session: nothing left to show (as Dovecot does).
                    self.bye("The selected mailbox was deleted");
                    self.state = State::Logout;
                }
                Err(e) => tracing::warn!(error = %e, "refreshing the selected mailbox failed"),
            }
        } else if allow_expunge {
            let mut data = self.contexts.expunging(sel);
            data.extend(sel.take_expunged());
            for d in data {
                self.send(d);
            }
        }
        if self.contexts.updating()
            && let Some(sel) = self.state.selected()
        {
            // ADDTO and REMOVEFROM after EXISTS (RFC 5267 4.3.3).
            match self.contexts.refresh(&store, account, sel).await {
                Ok(data) => data.into_iter().for_each(|d| self.send(d)),
                Err(e) => tracing::warn!(error = %e, "updating search contexts failed"),
            }
        }
        if self.notify.is_some() {
            Box::pin(self.notify_send(max_uid)).await;
        }
    }

    /// IDLE (RFC 2177): updates as they happen until the client sends DONE.
    pub(crate) async fn idle(&mut self) -> Result<Reply, Reply> {
        self.send(imap_proto::Continuation::Text {
            code: None,
            text: "idling".into(),
        });
        self.updates(true).await;
        self.flush().await;
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                let text = String::from_utf8_lossy(&line);
                return if text.trim().eq_ignore_ascii_case("DONE") {
                    Ok(Reply::ok("IDLE terminated"))
                } else {
                    Err(Reply::bad("Expected DONE"))
                };
            }
            if self.buf.len() > self.limits.max_line {
                self.buf.clear();
                return Err(Reply::bad("Expected DONE"));
            }
            let woke = {
                let Session {
                    stream,
                    buf,
                    shared,
                    changes,
                    ..
                } = self;
                match changes {
                    Some(ch) => tokio::select! {
                        r = read_some(stream, buf, shared) => Err(r),
                        item = ch.next() => Ok(item),
                    },
                    None => Err(read_some(stream, buf, shared).await),
                }
            };
            match woke {
                Err(Ok(())) => {}
                Err(Err(stop)) => {
                    if matches!(stop, Stop::Shutdown) {
                        self.bye("Server shutting down");
                    }
                    self.state = State::Logout;
                    return Err(Reply::bad("Connection closed during IDLE"));
                }
                Ok(None) => {}
                Ok(Some(item)) => {
                    let selected = self.state.selected().map(|s| s.id);
                    if let Some(n) = &mut self.notify {
                        n.note(&item, selected);
                    }
                    let mine = match &item {
                        FeedItem::Change(c) => match &c.kind {
                            ChangeKind::MessageAdded { mailbox, .. }
                            | ChangeKind::FlagsChanged { mailbox, .. }
                            | ChangeKind::MessageExpunged { mailbox, .. } => {
                                self.state.selected().map(|s| s.id) == Some(*mailbox)
                            }
                            _ => false,
                        },
                        FeedItem::Missed(_) => true,
                    };
                    if let Some(sel) = self.state.selected_mut() {
                        sel.dirty |= mine;
                    }
                    self.updates(true).await;
                    self.flush().await;
                }
            }
        }
    }

    /// STARTTLS (RFC 3501 6.2.1): the OK goes out in plaintext, then the
    /// handshake; anything the client pipelined after the command is dropped
    /// (RFC 3207 6).
    pub(crate) async fn start_tls(&mut self, tag: Tag) {
        self.tagged(tag, Reply::ok("Begin TLS negotiation now"));
        self.flush().await;
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            self.broken = true;
            return;
        };
        match self.shared.tls.accept(tcp).await {
            Ok(tls) => self.stream = Stream::Tls(Box::new(tls)),
            Err(e) => {
                tracing::info!(error = %e, "STARTTLS handshake failed");
                self.broken = true;
            }
        }
    }

    /// Ends the session after the current response.
    pub(crate) fn logout(&mut self) {
        self.bye("Logging out");
        self.state = State::Logout;
    }
}
