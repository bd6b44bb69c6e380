//! The outbound queue API: enqueue, leases, per-recipient results, reports,
//! and the admin operations behind `zest queue`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use store::{
    BodyType, ChangeKind, DsnRet, FeedItem, OutboundMessage, OutboundRecipient, Outcome, QueueId,
    QueueSource, RecipientStatus, ReportAction, Store, StoreError,
};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn message(sender: &str, rcpts: &[&str]) -> OutboundMessage {
    OutboundMessage {
        sender: sender.into(),
        account: None,
        source: QueueSource::Submission,
        recipients: rcpts.iter().map(|r| OutboundRecipient::new(*r)).collect(),
        raw: format!("From: {sender}\r\nSubject: hi\r\n\r\nbody\r\n").into_bytes(),
        env_id: None,
        dsn_ret: None,
        body_type: BodyType::SevenBit,
        smtputf8: false,
        hold_until: None,
    }
}

async fn store() -> (tempfile::TempDir, Store) {
    let (dir, store, _) = common::open_with(&[]).await;
    (dir, store)
}

fn delivered() -> Outcome {
    Outcome::Delivered {
        remote_mta: Some("mx.example.net".into()),
        reply: "250 2.0.0 ok".into(),
        local: false,
        reported_downstream: false,
    }
}

#[tokio::test]
async fn enqueue_then_list_shows_every_field() {
    let (_d, store) = store().await;
    let mut msg = message(
        "alice@example.org",
        &["bob@Example.NET", "carol@example.com"],
    );
    msg.env_id = Some("env-1".into());
    msg.dsn_ret = Some(DsnRet::Hdrs);
    msg.body_type = BodyType::EightBitMime;
    msg.smtputf8 = true;
    msg.recipients[0].notify = Some("SUCCESS,FAILURE".into());
    msg.recipients[0].orcpt = Some("rfc822;bob@example.net".into());
    let id = store.enqueue(msg.clone()).await.unwrap();
    let list = store.list_queue().await.unwrap();
    assert_eq!(list.len(), 1);
    let q = &list[0];
    assert_eq!(q.id, id);
    assert_eq!(q.sender, "alice@example.org");
    assert_eq!(q.source, QueueSource::Submission);
    assert_eq!(q.env_id.as_deref(), Some("env-1"));
    assert_eq!(q.dsn_ret, Some(DsnRet::Hdrs));
    assert_eq!(q.body_type, BodyType::EightBitMime);
    assert!(q.smtputf8);
    assert_eq!(q.size, msg.raw.len() as u64);
    assert_eq!(q.expires_at - q.created_at, 5 * 24 * 3600);
    let r: Vec<_> = q
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.domain.as_str(), r.status, r.attempts))
        .collect();
    assert_eq!(
        r,
        vec![
            (
                "bob@Example.NET",
                "example.net",
                RecipientStatus::Pending,
                0
            ),
            (
                "carol@example.com",
                "example.com",
                RecipientStatus::Pending,
                0
            )
        ]
    );
    assert_eq!(q.recipients[0].notify.as_deref(), Some("SUCCESS,FAILURE"));
    assert_eq!(
        q.recipients[0].orcpt.as_deref(),
        Some("rfc822;bob@example.net")
    );
    assert_eq!(store.queue_message_raw(id).await.unwrap(), msg.raw);
}

#[tokio::test]
async fn bad_entries_are_refused() {
    let (_d, store) = store().await;
    assert_invalid!(
        store.enqueue(message("a@example.org", &[])).await,
        "queue entry"
    );
    assert_invalid!(
        store.enqueue(message("a@example.org", &["nodomain"])).await,
        "queue entry"
    );
    assert_invalid!(
        store
            .enqueue(message("bad sender", &["b@example.net"]))
            .await,
        "queue entry"
    );
    assert!(store.list_queue().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_claim_leases_recipients_until_their_result_is_recorded() {
    let (_d, store) = store().await;
    let id = store
        .enqueue(message(
            "a@example.org",
            &["b@example.net", "c@example.net"],
        ))
        .await
        .unwrap();
    let claimed = store.claim_due(100, 600).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert_eq!(claimed[0].recipients.len(), 2);
    assert!(claimed[0].recipients.iter().all(|r| r.attempts == 1));
    // Leased: a second claim (or a flush) does not start another attempt.
    assert!(store.claim_due(100, 600).await.unwrap().is_empty());
    store.flush_queue(None).await.unwrap();
    assert!(store.claim_due(100, 600).await.unwrap().is_empty());

    let (b, c) = (claimed[0].recipients[0].id, claimed[0].recipients[1].id);
    store
        .record_outcomes(vec![
            (b, delivered()),
            (
                c,
                Outcome::Deferred {
                    remote_mta: None,
                    error: "451 4.3.0 try later".into(),
                    retry_at: now(),
                    report_delay: false,
                },
            ),
        ])
        .await
        .unwrap();
    // Only the deferred recipient comes back; the delivered one never does.
    let again = store.claim_due(100, 600).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].recipients.len(), 1);
    assert_eq!(again[0].recipients[0].id, c);
    assert_eq!(again[0].recipients[0].attempts, 2);
    assert_eq!(
        again[0].recipients[0].last_error.as_deref(),
        Some("451 4.3.0 try later")
    );
    store.record_outcomes(vec![(c, delivered())]).await.unwrap();
    // Nothing left to do: the entry and its blob are gone.
    assert!(store.list_queue().await.unwrap().is_empty());
    assert_err!(store.queue_message_raw(id).await, StoreError::NotFound(_));
    assert_eq!(store.next_queue_due().await.unwrap(), None);
}

#[tokio::test]
async fn deferral_waits_for_its_retry_time() {
    let (_d, store) = store().await;
    store
        .enqueue(message("a@example.org", &["b@example.net"]))
        .await
        .unwrap();
    let r = store.claim_due(10, 600).await.unwrap()[0].recipients[0].id;
    let later = now() + 3600;
    store
        .record_outcomes(vec![(
            r,
            Outcome::Deferred {
                remote_mta: Some("mx.example.net".into()),
                error: "421 busy".into(),
                retry_at: later,
                report_delay: false,
            },
        )])
        .await
        .unwrap();
    assert!(store.claim_due(10, 600).await.unwrap().is_empty());
    assert_eq!(store.next_queue_due().await.unwrap(), Some(later));
    // flush makes it due now.
    assert_eq!(store.flush_queue(None).await.unwrap(), 1);
    assert_eq!(store.claim_due(10, 600).await.unwrap().len(), 1);
}

#[tokio::test]
async fn future_release_holds_until_its_time_and_retry_releases_it() {
    let (_d, store) = store().await;
    let mut msg = message("a@example.org", &["b@example.net"]);
    let at = now() + 86400;
    msg.hold_until = Some(at);
    let id = store.enqueue(msg).await.unwrap();
    assert!(store.claim_due(10, 600).await.unwrap().is_empty());
    assert_eq!(store.next_queue_due().await.unwrap(), Some(at));
    // A general flush leaves held messages alone; naming the entry releases it.
    assert_eq!(store.flush_queue(None).await.unwrap(), 0);
    assert!(store.claim_due(10, 600).await.unwrap().is_empty());
    assert_eq!(store.flush_queue(Some(vec![id])).await.unwrap(), 1);
    assert_eq!(store.claim_due(10, 600).await.unwrap().len(), 1);
}

#[tokio::test]
async fn failures_wait_for_their_report_then_leave() {
    let (_d, store) = store().await;
    let mut msg = message(
        "a@example.org",
        &["b@example.net", "c@example.net", "d@example.net"],
    );
    msg.recipients[1].notify = Some("NEVER".into());
    msg.recipients[2].notify = Some("SUCCESS".into());
    let id = store.enqueue(msg).await.unwrap();
    let rs: Vec<_> = store.claim_due(10, 600).await.unwrap()[0]
        .recipients
        .iter()
        .map(|r| r.id)
        .collect();
    let fail = || Outcome::Failed {
        remote_mta: Some("mx.example.net".into()),
        error: "550 5.1.1 no such user".into(),
    };
    store
        .record_outcomes(vec![(rs[0], fail()), (rs[1], fail()), (rs[2], delivered())])
        .await
        .unwrap();
    let pending = store.pending_reports(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let reports: Vec<_> = pending[0].recipients.iter().map(|r| r.report).collect();
    assert_eq!(
        reports,
        vec![
            Some(ReportAction::Failed),
            None,
            Some(ReportAction::Relayed)
        ]
    );
    assert!(store.next_queue_due().await.unwrap().is_some());

    let mut dsn = message("", &["a@example.org"]);
    dsn.source = QueueSource::Dsn;
    let dsn_id = store
        .complete_reports(id, vec![rs[0], rs[2]], Some(dsn))
        .await
        .unwrap()
        .unwrap();
    let list = store.list_queue().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, dsn_id);
    assert_eq!(list[0].sender, "");
    assert_eq!(list[0].source, QueueSource::Dsn);
    assert!(store.pending_reports(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_null_sender_gets_no_reports() {
    let (_d, store) = store().await;
    store
        .enqueue(message("", &["b@example.net"]))
        .await
        .unwrap();
    let r = store.claim_due(10, 600).await.unwrap()[0].recipients[0].id;
    store
        .record_outcomes(vec![(
            r,
            Outcome::Failed {
                remote_mta: None,
                error: "550 no".into(),
            },
        )])
        .await
        .unwrap();
    assert!(store.pending_reports(10).await.unwrap().is_empty());
    assert!(store.list_queue().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_delay_is_reported_once() {
    let (_d, store) = store().await;
    let id = store
        .enqueue(message("a@example.org", &["b@example.net"]))
        .await
        .unwrap();
    let deferred = || Outcome::Deferred {
        remote_mta: None,
        error: "451 later".into(),
        retry_at: 0,
        report_delay: true,
    };
    let r = store.claim_due(10, 600).await.unwrap()[0].recipients[0].id;
    store.record_outcomes(vec![(r, deferred())]).await.unwrap();
    let p = store.pending_reports(10).await.unwrap();
    assert_eq!(p[0].recipients[0].report, Some(ReportAction::Delayed));
    store.complete_reports(id, vec![r], None).await.unwrap();
    assert_eq!(store.list_queue().await.unwrap().len(), 1, "still pending");
    let r = store.claim_due(10, 600).await.unwrap()[0].recipients[0].id;
    store.record_outcomes(vec![(r, deferred())]).await.unwrap();
    assert!(store.pending_reports(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn leases_survive_a_restart_until_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zest.db");
    let id;
    {
        let store = Store::open(&path).await.unwrap();
        id = store
            .enqueue(message(
                "a@example.org",
                &["b@example.net", "c@example.net"],
            ))
            .await
            .unwrap();
        let rs = store.claim_due(10, 600).await.unwrap()[0]
            .recipients
            .clone();
        // b got its 250 and it was recorded; then the process died mid-attempt for c.
        store
            .record_outcomes(vec![(rs[0].id, delivered())])
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    assert!(store.claim_due(10, 600).await.unwrap().is_empty(), "leased");
    assert_eq!(store.recover_leases().await.unwrap(), 1);
    let again = store.claim_due(10, 600).await.unwrap();
    assert_eq!(again[0].id, id);
    let addrs: Vec<_> = again[0]
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(addrs, vec!["c@example.net"]);
    assert_eq!(again[0].recipients[0].attempts, 2);
}

#[tokio::test]
async fn released_leases_are_due_again_without_counting() {
    let (_d, store) = store().await;
    store
        .enqueue(message("a@example.org", &["b@example.net"]))
        .await
        .unwrap();
    let r = store.claim_due(10, 600).await.unwrap()[0].recipients[0].id;
    store.release_leases(vec![r]).await.unwrap();
    let again = store.claim_due(10, 600).await.unwrap();
    assert_eq!(again[0].recipients[0].attempts, 1);
}

#[tokio::test]
async fn delete_removes_entries_and_unknown_ids_are_errors() {
    let (_d, store) = store().await;
    let a = store
        .enqueue(message("a@example.org", &["b@example.net"]))
        .await
        .unwrap();
    let b = store
        .enqueue(message("a@example.org", &["c@example.net"]))
        .await
        .unwrap();
    let claimed = store.claim_due(10, 600).await.unwrap();
    store.delete_queued(vec![a]).await.unwrap();
    let left: Vec<QueueId> = store
        .list_queue()
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(left, vec![b]);
    // A result for a deleted entry is ignored.
    let ra = claimed.iter().find(|m| m.id == a).unwrap().recipients[0].id;
    store
        .record_outcomes(vec![(ra, delivered())])
        .await
        .unwrap();
    assert_err!(store.delete_queued(vec![a]).await, StoreError::NotFound(_));
    assert_err!(
        store.flush_queue(Some(vec![QueueId(9999)])).await,
        StoreError::NotFound(_)
    );
    assert_err!(
        store.queue_entry(QueueId(9999)).await,
        StoreError::NotFound(_)
    );
}

#[tokio::test]
async fn enqueue_publishes_a_queue_change() {
    let (_d, store) = store().await;
    let mut feed = store.subscribe_all_changes();
    store
        .enqueue(message("a@example.org", &["b@example.net"]))
        .await
        .unwrap();
    let item = tokio::time::timeout(std::time::Duration::from_secs(30), feed.next())
        .await
        .unwrap();
    match item {
        Some(FeedItem::Change(c)) => {
            assert_eq!(
                (c.account, c.kind.clone()),
                (None, ChangeKind::QueueChanged)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_blob_shared_with_a_mailbox_outlives_the_queue_entry() {
    let (_d, store, accounts) = common::open_with(&["alice@example.org"]).await;
    let msg = message("alice@example.org", &["b@example.net"]);
    store
        .append(
            accounts[0].id,
            "Sent",
            msg.raw.clone(),
            Default::default(),
            None,
        )
        .await
        .unwrap();
    let id = store.enqueue(msg.clone()).await.unwrap();
    store.delete_queued(vec![id]).await.unwrap();
    let status = store.mailbox_status(accounts[0].id, "Sent").await.unwrap();
    let entries = store.entries(accounts[0].id, status.id).await.unwrap();
    let uid = entries[0].uid;
    assert_eq!(
        store
            .read_message(accounts[0].id, status.id, uid)
            .await
            .unwrap(),
        msg.raw
    );
}

/// Queued bytes carry no summary; a mailbox that gets the very same bytes
/// (a client's copy to Sent) still has its envelope, structure and date.
#[tokio::test]
async fn queued_bytes_appended_to_a_mailbox_get_their_summary() {
    let (_d, store, accounts) = common::open_with(&["alice@example.org"]).await;
    let alice = accounts[0].id;
    let mut msg = message("alice@example.org", &["bob@example.net"]);
    msg.raw = b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: shared bytes\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n"
        .to_vec();
    store.enqueue(msg.clone()).await.unwrap();
    let (_, uid) = store
        .append(
            alice,
            "Sent",
            msg.raw.clone(),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    let sent = store.mailbox_status(alice, "Sent").await.unwrap().id;
    let meta = store.message_meta(alice, sent, vec![uid]).await.unwrap();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0].envelope.subject.as_deref(), Some("shared bytes"));
    let columns = store::SortColumns {
        date: true,
        subject: true,
        ..store::SortColumns::default()
    };
    let sorted = store
        .sort_rows(alice, sent, store::Uid(1), columns)
        .await
        .unwrap();
    assert_eq!(sorted.len(), 1);
    assert!(sorted[0].sent_date.is_some(), "{:?}", sorted[0]);
    assert_eq!(sorted[0].subject.as_deref(), Some("shared bytes"));
}
