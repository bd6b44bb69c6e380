//! Command handlers, one module per command family. Each takes the parsed
//! command and the session, queues untagged responses, and returns the
//! tagged outcome; only the session loop writes to the socket.

pub(crate) mod append;
pub(crate) mod auth;
pub(crate) mod capability;
pub(crate) mod catenate;
pub(crate) mod compress;
pub(crate) mod convert;
pub(crate) mod copy;
pub(crate) mod expunge;
pub(crate) mod fetch;
pub(crate) mod flags;
pub(crate) mod list;
pub(crate) mod mailbox;
pub(crate) mod notify;
pub(crate) mod qresync;
pub(crate) mod quota;
pub(crate) mod search;
pub(crate) mod select;
pub(crate) mod sort;
pub(crate) mod status;
pub(crate) mod store;
pub(crate) mod urlauth;

use imap_proto::{CommandBody, Tag};

use crate::reply::{Outcome, Reply};
use crate::session::Session;

/// Runs one command; `None` when the handler already sent the tagged response.
pub(crate) async fn run(s: &mut Session, tag: &Tag, body: CommandBody) -> Option<Outcome> {
    use CommandBody as C;
    if matches!(
        body,
        C::Select { .. } | C::Examine { .. } | C::Close | C::Unselect
    ) {
        // RFC 5267 4.3: updates cease when the mailbox is no longer selected.
        s.contexts.end();
    }
    Some(match body {
        C::Capability => capability::capability(s),
        C::Noop | C::Check => Ok(Reply::ok(format!("{} completed", body.name()))),
        C::Logout => {
            s.logout();
            Ok(Reply::ok("LOGOUT completed"))
        }
        C::StartTls => {
            if s.stream.is_tls() {
                Err(Reply::bad("TLS is already active"))
            } else {
                s.start_tls(tag.clone()).await;
                return None;
            }
        }
        C::Authenticate {
            mechanism,
            initial_response,
        } => auth::authenticate(s, &mechanism, initial_response).await,
        C::Login { username, password } => auth::login(s, &username, password.expose()).await,
        C::Id { .. } => capability::id(s),
        C::Enable { capabilities } => capability::enable(s, &capabilities),
        C::Namespace => capability::namespace(s),
        C::Select { mailbox, params } => qresync::select(s, mailbox.as_str(), false, params).await,
        C::Examine { mailbox, params } => qresync::select(s, mailbox.as_str(), true, params).await,
        C::Close => select::close(s, true).await,
        C::Unselect => select::close(s, false).await,
        C::Create {
            mailbox,
            special_use,
        } => mailbox::create(s, mailbox.as_str(), &special_use).await,
        C::Delete { mailbox } => mailbox::delete(s, mailbox.as_str()).await,
        C::Rename { from, to } => mailbox::rename(s, from.as_str(), to.as_str()).await,
        C::Subscribe { mailbox } => mailbox::subscribe(s, mailbox.as_str(), true).await,
        C::Unsubscribe { mailbox } => mailbox::subscribe(s, mailbox.as_str(), false).await,
        C::List(cmd) => list::list(s, cmd).await,
        C::Lsub { reference, pattern } => list::lsub(s, &reference, &pattern).await,
        C::Status { mailbox, items } => status::status(s, &mailbox, &items).await,
        C::Append { mailbox, messages } => append::append(s, mailbox.as_str(), messages).await,
        C::Expunge => expunge::expunge(s, None).await,
        C::UidExpunge { set } => expunge::expunge(s, Some(set)).await,
        C::Search {
            uid,
            charset,
            criteria,
            returns,
        } => search::search(s, tag, uid, charset.as_deref(), criteria, returns).await,
        C::Fetch {
            uid,
            set,
            items,
            modifiers,
        } => fetch::fetch(s, uid, &set, items, &modifiers).await,
        C::Store {
            uid,
            set,
            mode,
            silent,
            flags,
            modifiers,
        } => store::store(s, uid, &set, mode, silent, &flags, &modifiers).await,
        C::Copy { uid, set, mailbox } => copy::copy(s, uid, &set, mailbox.as_str(), false).await,
        C::Move { uid, set, mailbox } => copy::copy(s, uid, &set, mailbox.as_str(), true).await,
        C::Idle => s.idle().await,
        C::GetQuota { root } => quota::get_quota(s, &root).await,
        C::GetQuotaRoot { mailbox } => quota::get_quota_root(s, &mailbox).await,
        C::Compress { mechanism } => match compress::compress(s, tag, &mechanism).await {
            Some(reply) => Err(reply),
            None => return None,
        },
        C::Notify(set) => notify::notify(s, set).await,
        C::Sort {
            uid,
            returns,
            criteria,
            charset,
            search,
        } => sort::sort(s, tag, uid, returns, criteria, &charset, search).await,
        C::Thread {
            uid,
            algorithm,
            charset,
            search,
        } => sort::thread(s, uid, algorithm, &charset, search).await,
        C::CancelUpdate { tags } => sort::cancel_update(s, &tags),
        C::ResetKey {
            mailbox,
            mechanisms,
        } => urlauth::resetkey(s, mailbox, &mechanisms).await,
        C::GenUrlAuth { urls } => urlauth::genurlauth(s, urls).await,
        C::UrlFetch { urls, params } => urlauth::urlfetch(s, urls, params).await,
        C::Convert {
            uid,
            set,
            params,
            items,
        } => convert::convert(s, tag, uid, &set, params, items).await,
        C::Conversions { from, to } => convert::conversions(s, &from, &to),
        C::SetQuota { .. } => {
            Err(Reply::no("Quotas are set by the administrator").code(imap_proto::Code::NoPerm))
        }
        _ => Err(Reply::bad("Command not supported")),
    })
}

/// The account of an authenticated session (the state table guarantees one).
pub(crate) fn account(s: &Session) -> Result<::store::AccountId, Reply> {
    s.state
        .account()
        .map(|a| a.id)
        .ok_or_else(|| Reply::bad("Log in first"))
}
