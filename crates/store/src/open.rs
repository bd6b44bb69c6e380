//! What SELECT and EXAMINE read, in one consistent read: the mailbox's
//! counters, its keywords, and its entries, or only what changed since a view
//! the caller already holds.

use crate::Store;
use crate::error::Result;
use crate::fetch::keywords;
use crate::listing;
use crate::mailbox::normalize_name;
use crate::message::{Entry, MailboxStatus, changes_since, status_by_name};
use crate::types::{AccountId, MailboxId, ModSeq, Uid, UidValidity};

/// A mailbox as opened for SELECT.
#[derive(Debug)]
pub struct OpenedMailbox<T> {
    pub status: MailboxStatus,
    /// Keywords ever used in the mailbox, sorted.
    pub keywords: Vec<String>,
    pub contents: MailboxContents<T>,
}

/// The messages of an opened mailbox.
#[derive(Debug)]
pub enum MailboxContents<T> {
    /// Every entry, in UID order.
    All(Vec<Entry>),
    /// The caller's view as of `since`, handed back, with what changed after it.
    Since {
        known: T,
        since: ModSeq,
        changed: Vec<Entry>,
        expunged: Vec<Uid>,
        highest: ModSeq,
    },
}

impl Store {
    /// Opens mailbox `name` of `account`. `known` is asked, with the
    /// mailbox's id and UIDVALIDITY, for a view the caller already holds and
    /// the MODSEQ it is as of; then only the changes since are read.
    pub async fn open_mailbox<T, F>(
        &self,
        account: AccountId,
        name: &str,
        known: F,
    ) -> Result<OpenedMailbox<T>>
    where
        T: Send + 'static,
        F: FnOnce(MailboxId, UidValidity) -> Option<(ModSeq, T)> + Send + 'static,
    {
        let name = normalize_name(name)?;
        let (status, keywords, read) = self
            .read(move |c| {
                let tx = c.unchecked_transaction()?;
                let status = status_by_name(&tx, account, name)?;
                let keywords = keywords(&tx, status.id)?;
                let read = match known(status.id, status.uidvalidity) {
                    Some((since, known)) => {
                        let (changed, expunged, highest) = changes_since(&tx, status.id, since)?;
                        Found::Changes(MailboxContents::Since {
                            known,
                            since,
                            changed,
                            expunged,
                            highest,
                        })
                    }
                    None => Found::Listing(listing::read_in(&tx, account, status.id)?),
                };
                tx.commit()?;
                Ok((status, keywords, read))
            })
            .await?;
        let contents = match read {
            Found::Changes(contents) => contents,
            Found::Listing(all) => MailboxContents::All(self.keep_listing(status.id, all)),
        };
        Ok(OpenedMailbox {
            status,
            keywords,
            contents,
        })
    }
}

/// What the read found: the changes since the caller's view, or the listing.
enum Found<T> {
    Changes(MailboxContents<T>),
    Listing(listing::Read),
}
