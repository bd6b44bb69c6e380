//! URLAUTH mailbox access keys (RFC 4467 3): one random key per mailbox of a user,
//! made on first use by GENURLAUTH and dropped by RESETKEY.

use rand::RngCore;
use rusqlite::OptionalExtension;

use crate::Store;
use crate::error::Result;
use crate::message::owned_mailbox;
use crate::types::{AccountId, MailboxId};

/// Bytes in a mailbox access key (HMAC-SHA256 keys of the block size are as strong as any).
pub const URLAUTH_KEY_BYTES: usize = 32;

impl Store {
    /// The access key of `mailbox`, or None when none was made since the last reset.
    pub async fn urlauth_key(
        &self,
        account: AccountId,
        mailbox: MailboxId,
    ) -> Result<Option<Vec<u8>>> {
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            Ok(
                c.prepare_cached("SELECT key FROM urlauth_keys WHERE mailbox_id = ?1")?
                    .query_row([mailbox.0], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    /// The access key of `mailbox`, made (random) when there is none.
    pub async fn urlauth_key_or_create(
        &self,
        account: AccountId,
        mailbox: MailboxId,
    ) -> Result<Vec<u8>> {
        let mut fresh = vec![0u8; URLAUTH_KEY_BYTES];
        rand::rng().fill_bytes(&mut fresh);
        self.write(move |tx| {
            let conn = tx.conn();
            owned_mailbox(conn, account, mailbox)?;
            conn.prepare_cached(
                "INSERT OR IGNORE INTO urlauth_keys (mailbox_id, key, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute((mailbox.0, &fresh, tx.now))?;
            Ok(conn
                .prepare_cached("SELECT key FROM urlauth_keys WHERE mailbox_id = ?1")?
                .query_row([mailbox.0], |r| r.get(0))?)
        })
        .await
    }

    /// RESETKEY (RFC 4467 7.1): forgets the key of `mailbox`, or of every mailbox
    /// of the account, so every URL authorized with them stops working.
    pub async fn reset_urlauth_keys(
        &self,
        account: AccountId,
        mailbox: Option<MailboxId>,
    ) -> Result<()> {
        self.write(move |tx| {
            let conn = tx.conn();
            match mailbox {
                Some(m) => {
                    owned_mailbox(conn, account, m)?;
                    conn.prepare_cached("DELETE FROM urlauth_keys WHERE mailbox_id = ?1")?
                        .execute([m.0])?;
                }
                None => {
                    conn.prepare_cached(
                        "DELETE FROM urlauth_keys WHERE mailbox_id IN \
                         (SELECT id FROM mailboxes WHERE account_id = ?1)",
                    )?
                    .execute([account.0])?;
                }
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::EmailAddress;

    #[tokio::test]
    async fn keys_are_made_once_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let a = EmailAddress::parse("a@example.org").unwrap();
        let account = store.create_account(&a, "pw", false).await.unwrap().id;
        let inbox = store.mailbox(account, "INBOX").await.unwrap().unwrap().id;
        let drafts = store.mailbox(account, "Drafts").await.unwrap().unwrap().id;
        assert_eq!(store.urlauth_key(account, inbox).await.unwrap(), None);
        let k1 = store.urlauth_key_or_create(account, inbox).await.unwrap();
        assert_eq!(k1.len(), URLAUTH_KEY_BYTES);
        assert_eq!(
            store.urlauth_key_or_create(account, inbox).await.unwrap(),
            k1
        );
        assert_eq!(
            store.urlauth_key(account, inbox).await.unwrap(),
            Some(k1.clone())
        );
        let d1 = store.urlauth_key_or_create(account, drafts).await.unwrap();
        assert_ne!(d1, k1);
        // One mailbox, then all.
        store
            .reset_urlauth_keys(account, Some(inbox))
            .await
            .unwrap();
        assert_eq!(store.urlauth_key(account, inbox).await.unwrap(), None);
        assert_eq!(store.urlauth_key(account, drafts).await.unwrap(), Some(d1));
        let k2 = store.urlauth_key_or_create(account, inbox).await.unwrap();
        assert_ne!(k2, k1);
        store.reset_urlauth_keys(account, None).await.unwrap();
        assert_eq!(store.urlauth_key(account, inbox).await.unwrap(), None);
        assert_eq!(store.urlauth_key(account, drafts).await.unwrap(), None);
        // Another user's mailbox is not found.
        let b = EmailAddress::parse("b@example.org").unwrap();
        let other = store.create_account(&b, "pw", false).await.unwrap().id;
        assert!(store.urlauth_key(other, inbox).await.is_err());
        assert!(store.urlauth_key_or_create(other, inbox).await.is_err());
        assert!(store.reset_urlauth_keys(other, Some(inbox)).await.is_err());
    }
}
