//! Connection states (RFC 3501 3) and the one table of which commands each allows.

use imap_proto::CommandBody;
use store::Account;

use super::selected::Selected;

pub(crate) enum State {
    NotAuthenticated,
    Authenticated {
        account: Account,
    },
    Selected {
        account: Account,
        mailbox: Selected,
    },
    /// The submission server's identity (`$submit`, RFC 4468 BURL): it has no
    /// mailboxes and may only fetch `submit+` URLAUTH URLs.
    Submit,
    Logout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NotAuthenticated,
    Authenticated,
    Selected,
    Submit,
    Logout,
}

impl State {
    pub fn kind(&self) -> Kind {
        match self {
            State::NotAuthenticated => Kind::NotAuthenticated,
            State::Authenticated { .. } => Kind::Authenticated,
            State::Selected { .. } => Kind::Selected,
            State::Submit => Kind::Submit,
            State::Logout => Kind::Logout,
        }
    }

    pub fn account(&self) -> Option<&Account> {
        match self {
            State::Authenticated { account } | State::Selected { account, .. } => Some(account),
            _ => None,
        }
    }

    pub fn is_submit(&self) -> bool {
        matches!(self, State::Submit)
    }

    pub fn selected(&self) -> Option<&Selected> {
        match self {
            State::Selected { mailbox, .. } => Some(mailbox),
            _ => None,
        }
    }

    pub fn selected_mut(&mut self) -> Option<&mut Selected> {
        match self {
            State::Selected { mailbox, .. } => Some(mailbox),
            _ => None,
        }
    }
}

/// Which states accept a command (RFC 3501 6.1-6.4, RFC 9051 6).
pub(crate) fn allowed(cmd: &CommandBody, state: Kind) -> bool {
    use CommandBody as C;
    use Kind as K;
    if state == K::Submit {
        return matches!(
            cmd,
            C::Capability | C::Noop | C::Logout | C::UrlFetch { .. }
        );
    }
    match cmd {
        C::Capability | C::Noop | C::Logout | C::Id { .. } => state != K::Logout,
        C::StartTls | C::Authenticate { .. } | C::Login { .. } => state == K::NotAuthenticated,
        C::Check
        | C::Close
        | C::Unselect
        | C::Expunge
        | C::UidExpunge { .. }
        | C::Search { .. }
        | C::Fetch { .. }
        | C::Store { .. }
        | C::Copy { .. }
        | C::Move { .. }
        | C::Convert { .. }
        | C::Sort { .. }
        | C::Thread { .. }
        | C::CancelUpdate { .. } => state == K::Selected,
        _ => matches!(state, K::Authenticated | K::Selected),
    }
}
