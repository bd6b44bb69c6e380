//! What SORT and THREAD read: the sort values of a mailbox's messages, the
//! sent date kept with each entry (also when copied), and only the values
//! asked for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::{SortColumns, Uid};

#[macro_use]
#[allow(unused_macros)]
mod common;
use common::open_with;

#[tokio::test]
async fn sort_rows_read_what_is_asked() {
    let (_dir, store, mut users) = open_with(&["alice@example.org", "bob@example.org"]).await;
    let bob = users.pop().unwrap();
    let alice = users.pop().unwrap();
    let inbox = store.mailbox(alice.id, "INBOX").await.unwrap().unwrap().id;
    let archive = store
        .mailbox(alice.id, "Archive")
        .await
        .unwrap()
        .unwrap()
        .id;
    let one = b"From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.com>\r\nTo: team: a@x.org, b@x.org;\r\n\
Cc: Carl <carl@example.com>\r\nSubject: Re: plans\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\
Message-ID: <1@x>\r\nIn-Reply-To: <0@x>\r\nReferences: <a@x> <0@x>\r\n\r\nbody\r\n";
    let two = b"From: bob@example.com\r\nSubject: none\r\n\r\nbody\r\n";
    for m in [&one[..], &two[..]] {
        store
            .append(alice.id, "INBOX", m.to_vec(), Default::default(), None)
            .await
            .unwrap();
    }
    let all = SortColumns {
        date: true,
        subject: true,
        addresses: true,
        display: true,
        threading: true,
    };
    let rows = store.sort_rows(alice.id, inbox, Uid(1), all).await.unwrap();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r.uid, Uid(1));
    assert_eq!(r.sent_date, Some(760_686_745));
    assert_eq!(r.subject.as_deref(), Some("Re: plans"));
    assert_eq!(r.from_mailbox.as_deref(), Some("jorg"));
    // A list that starts with a group sorts by the group's name.
    assert_eq!(r.to_mailbox.as_deref(), Some("team"));
    assert_eq!(r.display_to.as_deref(), Some("team"));
    assert_eq!(r.cc_mailbox.as_deref(), Some("carl"));
    assert_eq!(r.display_from.as_deref(), Some("Jörg"));
    assert_eq!(r.message_id.as_deref(), Some("<1@x>"));
    assert_eq!(r.in_reply_to.as_deref(), Some("<0@x>"));
    assert_eq!(r.references, ["<a@x>", "<0@x>"]);
    let r = &rows[1];
    assert_eq!((r.sent_date, r.to_mailbox.as_deref()), (None, None));
    assert_eq!(r.display_from.as_deref(), Some("bob@example.com"));
    // Only the date: the entries alone, from a UID on.
    let date = SortColumns {
        date: true,
        ..SortColumns::default()
    };
    let rows = store
        .sort_rows(alice.id, inbox, Uid(2), date)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].uid, rows[0].sent_date), (Uid(2), None));
    let rows = store
        .sort_rows(alice.id, inbox, Uid(1), date)
        .await
        .unwrap();
    assert_eq!(rows[0].sent_date, Some(760_686_745));
    assert_eq!(rows[0].subject, None);
    // A copy keeps the sent date with its new entry.
    store
        .copy_messages(alice.id, inbox, vec![Uid(1)], "Archive")
        .await
        .unwrap();
    let rows = store
        .sort_rows(alice.id, archive, Uid(1), date)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sent_date, Some(760_686_745));
    // Another account's mailbox is not readable.
    assert_err!(
        store.sort_rows(bob.id, inbox, Uid(1), date).await,
        store::StoreError::NotFound(_)
    );
}
