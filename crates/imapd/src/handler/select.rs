//! SELECT, EXAMINE (RFC 3501 6.3.1-2), CLOSE and UNSELECT (RFC 3691).

use imap_proto::{Code, Data, SeqNum, Status, StatusResponse};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::selected::Selected;
use crate::session::state::State;

pub(crate) async fn select(s: &mut Session, name: &str, read_only: bool) -> Outcome {
    let account_id = account(s)?;
    // A failed SELECT leaves no mailbox selected (RFC 3501 6.3.1).
    deselect(s);
    // Changes already made are in what is read next; skip their events for
    // this mailbox. NOTIFY still reports those of other mailboxes (RFC 5465).
    let mut drained = Vec::new();
    if let Some(changes) = &mut s.changes {
        while let Some(item) = changes.try_next() {
            if s.notify.is_some() {
                drained.push(item);
            }
        }
    }
    s.caught_up_with_writes();
    let store = s.shared.store.clone();
    let shared = s.shared.clone();
    let opened = store
        .open_mailbox(account_id, name, move |id, uidvalidity| {
            shared.snapshots.get(id, uidvalidity)
        })
        .await;
    if let Some(n) = &mut s.notify {
        let selected = opened.as_ref().ok().map(|o| o.status.id);
        for item in &drained {
            n.note(item, selected);
        }
    }
    let store::OpenedMailbox {
        status,
        keywords,
        contents,
    } = opened?;
    let name = name.to_string();
    let sel = match contents {
        store::MailboxContents::Since {
            known: msgs,
            since,
            changed,
            expunged,
            highest,
        } => {
            let mut sel = Selected::from_snapshot(
                status.id,
                name,
                read_only,
                status.uidvalidity,
                since,
                (*msgs).clone(),
                keywords,
            );
            // Nothing was announced yet: the responses below describe the result.
            sel.apply(changed, &expunged, highest, true);
            sel
        }
        store::MailboxContents::All(entries) => Selected::new(
            status.id,
            name,
            read_only,
            status.uidvalidity,
            status.highestmodseq,
            entries,
            keywords,
        ),
    };
    s.shared.snapshots.put(&sel);
    let mut sel = sel;
    let upto = sel.msgs.last().map_or(0, |m| m.uid.0.saturating_add(1));
    let recent = if read_only || s.rev2 {
        // EXAMINE shows what is recent without taking it (RFC 3501 6.3.2).
        let first = s.shared.recent.first_unclaimed(sel.id);
        sel.msgs.iter().filter(|m| m.uid.0 >= first).count() as u32
    } else {
        let first = s.shared.recent.claim(sel.id, upto);
        sel.mark_recent(first)
    };
    // The entries may be newer than the counters read first.
    let uidnext = sel.msgs.last().map_or(status.uidnext, |m| {
        status.uidnext.max(m.uid.0.saturating_add(1))
    });
    for r in sel.flags_responses() {
        s.send(r);
    }
    s.send(Data::Exists(sel.exists()));
    // IMAP4rev2 has no \Recent (RFC 9051 appendix E).
    if !s.rev2 {
        s.send(Data::Recent(recent));
    }
    // IMAP4rev2 drops UNSEEN from SELECT (RFC 9051 6.3.2).
    if let Some(i) = sel
        .msgs
        .iter()
        .position(|m| !m.flags.has(store::Flags::SEEN))
        .filter(|_| !s.rev2)
    {
        s.send(StatusResponse::untagged(
            Status::Ok,
            Some(Code::Unseen(SeqNum(i as u32 + 1))),
            "First unseen",
        ));
    }
    s.send(StatusResponse::untagged(
        Status::Ok,
        Some(Code::UidValidity(imap_proto::UidValidity(
            status.uidvalidity.0,
        ))),
        "UIDs valid",
    ));
    s.send(StatusResponse::untagged(
        Status::Ok,
        Some(Code::UidNext(imap_proto::Uid(uidnext))),
        "Predicted next UID",
    ));
    if s.rev2 {
        // RFC 9051 6.3.2: the mailbox's name and attributes.
        if let Some(info) = store.mailbox(account_id, &sel.name).await? {
            s.send(Data::List(super::list::list_data(&info)));
        }
    }
    let Some(acc) = s.state.account().cloned() else {
        return Err(Reply::bad("Log in first"));
    };
    s.state = State::Selected {
        account: acc,
        mailbox: sel,
    };
    let (code, verb) = if read_only {
        (Code::ReadOnly, "EXAMINE")
    } else {
        (Code::ReadWrite, "SELECT")
    };
    Ok(Reply::ok(format!("{verb} completed")).code(code))
}

/// Back to the authenticated state.
pub(crate) fn deselect(s: &mut Session) {
    if let State::Selected { account, .. } = &s.state {
        s.state = State::Authenticated {
            account: account.clone(),
        };
    }
}

/// CLOSE expunges silently (unless read-only); UNSELECT does not.
pub(crate) async fn close(s: &mut Session, expunge: bool) -> Outcome {
    let account_id = account(s)?;
    if expunge
        && let Some(sel) = s.state.selected()
        && !sel.read_only
    {
        s.shared.store.expunge(account_id, sel.id, None).await?;
    }
    deselect(s);
    Ok(Reply::ok(if expunge {
        "CLOSE completed"
    } else {
        "UNSELECT completed"
    }))
}
