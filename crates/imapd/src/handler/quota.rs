//! GETQUOTA and GETQUOTAROOT (RFC 9208): one quota root, "", per account,
//! with the account's storage (in KiB) and message limits.

use imap_proto::{Code, Data, MailboxName, QuotaResource};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

async fn resources(s: &Session, account: store::AccountId) -> Result<Vec<QuotaResource>, Reply> {
    let a = s
        .shared
        .store
        .account_by_id(account)
        .await?
        .ok_or_else(|| Reply::no("No such account").code(Code::Nonexistent))?;
    let mut out = Vec::new();
    if let Some(limit) = a.quota_bytes {
        out.push(QuotaResource {
            name: "STORAGE".into(),
            usage: a.used_bytes.div_ceil(1024),
            limit: limit / 1024,
        });
    }
    if let Some(limit) = a.quota_messages {
        out.push(QuotaResource {
            name: "MESSAGE".into(),
            usage: a.used_messages,
            limit,
        });
    }
    Ok(out)
}

pub(crate) async fn get_quota(s: &mut Session, root: &str) -> Outcome {
    let account = account(s)?;
    if !root.is_empty() {
        return Err(Reply::no("No such quota root").code(Code::Nonexistent));
    }
    let resources = resources(s, account).await?;
    s.send(Data::Quota {
        root: String::new(),
        resources,
    });
    Ok(Reply::ok("GETQUOTA completed"))
}

pub(crate) async fn get_quota_root(s: &mut Session, mailbox: &MailboxName) -> Outcome {
    let account = account(s)?;
    if s.shared
        .store
        .mailbox(account, mailbox.as_str())
        .await?
        .is_none()
    {
        return Err(Reply::no("No such mailbox").code(Code::Nonexistent));
    }
    let resources = resources(s, account).await?;
    s.send(Data::QuotaRoot {
        mailbox: mailbox.clone(),
        roots: vec![String::new()],
    });
    s.send(Data::Quota {
        root: String::new(),
        resources,
    });
    Ok(Reply::ok("GETQUOTAROOT completed"))
}
