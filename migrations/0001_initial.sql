-- Zest store, version 1: everything the daemons and the admin UI keep.
-- Times are Unix seconds (UTC). Addresses are stored normalised (lower case).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Accounts, domains, aliases ------------------------------------------------

CREATE TABLE domains (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    dkim_selector    TEXT,
    dkim_algorithm   TEXT,
    dkim_private_key TEXT
);

-- AUTOINCREMENT: ids of deleted accounts and mailboxes are never reused, so a
-- session or subscription holding one can never see another's data.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    address        TEXT NOT NULL UNIQUE,
    domain_id      INTEGER NOT NULL REFERENCES domains(id),
    password_hash  TEXT NOT NULL,          -- argon2id PHC string
    is_admin       INTEGER NOT NULL DEFAULT 0,
    quota_bytes    INTEGER,                -- NULL: no limit
    quota_messages INTEGER,                -- NULL: no limit
    used_bytes     INTEGER NOT NULL DEFAULT 0,
    used_messages  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE aliases (
    id         INTEGER PRIMARY KEY,
    address    TEXT NOT NULL UNIQUE,
    domain_id  INTEGER NOT NULL REFERENCES domains(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX aliases_account ON aliases(account_id);
CREATE INDEX aliases_domain ON aliases(domain_id);

-- Mailboxes and messages ----------------------------------------------------

CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,           -- full name, '/' separated, INBOX in upper case
    parent_id     INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    special_use   TEXT,                    -- e.g. '\Sent' (RFC 6154)
    noselect      INTEGER NOT NULL DEFAULT 0,  -- kept only as a parent of others
    uidvalidity   INTEGER NOT NULL,
    uidnext       INTEGER NOT NULL DEFAULT 1,
    highestmodseq INTEGER NOT NULL DEFAULT 1,
    message_count INTEGER NOT NULL DEFAULT 0,
    unseen_count  INTEGER NOT NULL DEFAULT 0,
    deleted_count INTEGER NOT NULL DEFAULT 0,
    size_bytes    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX mailboxes_parent ON mailboxes(parent_id);

-- Subscriptions are names, not mailboxes: RFC 3501 6.3.6 lets a client
-- subscribe to a name that does not exist, and DELETE must not drop it.
CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- Keywords ever used in a mailbox, for the FLAGS response.
CREATE TABLE mailbox_keywords (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    keyword    TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, keyword)
) WITHOUT ROWID;

-- Message bodies, content-addressed and stored once.
CREATE TABLE blobs (
    id       INTEGER PRIMARY KEY,
    hash     BLOB NOT NULL UNIQUE,          -- SHA-256 of data
    size     INTEGER NOT NULL,
    refcount INTEGER NOT NULL DEFAULT 0,    -- mailbox entries and queue messages
    data     BLOB NOT NULL
);

-- What IMAP needs often, computed once when the blob is stored.
CREATE TABLE message_meta (
    blob_id        INTEGER PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
    header_size    INTEGER NOT NULL,        -- bytes up to and including the blank line
    body_lines     INTEGER NOT NULL,
    sent_date      INTEGER,                 -- Date: header, NULL when absent or unparsable
    subject        TEXT,                    -- decoded
    base_subject   TEXT,                    -- RFC 5256 section 2.1, for SORT and THREAD
    from_addr      TEXT,                    -- first From: mailbox, for SORT FROM
    from_name      TEXT,                    -- its display name, for SORT DISPLAYFROM
    to_addr        TEXT,
    to_name        TEXT,
    cc_addr        TEXT,
    message_id     TEXT,
    in_reply_to    TEXT,
    references_ids TEXT,                    -- space separated message ids
    envelope       TEXT NOT NULL,           -- JSON
    bodystructure  TEXT NOT NULL,           -- JSON
    body_text      TEXT                     -- decoded text of the text parts, for SEARCH;
                                            -- NULL: the same as the raw body (plain text)
);

CREATE TABLE mailbox_messages (
    mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    blob_id       INTEGER NOT NULL REFERENCES blobs(id),
    modseq        INTEGER NOT NULL,
    flags         INTEGER NOT NULL DEFAULT 0,  -- bit set of system flags
    keywords      TEXT NOT NULL DEFAULT '',    -- space separated, sorted
    internal_date INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
CREATE INDEX mailbox_messages_blob ON mailbox_messages(blob_id);

-- Expunged UIDs keep their MODSEQ so QRESYNC can report VANISHED (RFC 7162 3.2.10).
CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

-- Every committed write appends here; each process tails it for its change feed.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER,
    mailbox_id INTEGER,
    kind       INTEGER NOT NULL,
    uid        INTEGER,
    modseq     INTEGER,
    name       TEXT,                    -- mailbox or script name the change is about
    old_name   TEXT,                    -- a renamed mailbox's previous name
    created_at INTEGER NOT NULL
);
CREATE INDEX change_log_created ON change_log(created_at);

-- Address books and contacts --------------------------------------------------

CREATE TABLE addressbooks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,   -- 'default' matched case-insensitively, others exactly
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    book_id      INTEGER NOT NULL REFERENCES addressbooks(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX contacts_book ON contacts(book_id);

CREATE TABLE contact_emails (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    book_id    INTEGER NOT NULL REFERENCES addressbooks(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,       -- as entered
    email_norm TEXT NOT NULL,       -- normalised, what lookups compare
    position   INTEGER NOT NULL,
    PRIMARY KEY (contact_id, email_norm)
) WITHOUT ROWID;
CREATE INDEX contact_emails_lookup ON contact_emails(book_id, email_norm);

-- External lists named by tag: URIs (RFC 6134 2.5) -----------------------------

CREATE TABLE lists (
    id               INTEGER PRIMARY KEY,
    uri              TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    owner_account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,  -- NULL: the server's
    created_at       INTEGER NOT NULL
);
CREATE INDEX lists_owner ON lists(owner_account_id);

CREATE TABLE list_members (
    list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    value_norm TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (list_id, value_norm)
) WITHOUT ROWID;

-- Sieve -----------------------------------------------------------------------

CREATE TABLE sieve_scripts (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    content       BLOB NOT NULL,
    active        INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,             -- the last failure running it, for the user to see
    last_error_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts(account_id) WHERE active = 1;

-- RFC 5230 4.2: one response per sender and :handle within :days.
CREATE TABLE vacation_responses (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    handle     TEXT NOT NULL,
    sender     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, handle, sender)
) WITHOUT ROWID;

-- RFC 7352 duplicate tracking.
CREATE TABLE sieve_duplicates (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    handle     TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, handle, value)
) WITHOUT ROWID;

-- Outbound queue --------------------------------------------------------------

CREATE TABLE queue_messages (
    id          INTEGER PRIMARY KEY,
    blob_id     INTEGER NOT NULL REFERENCES blobs(id),
    sender      TEXT NOT NULL,          -- envelope MAIL FROM, '' for the null sender
    account_id  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    source      TEXT NOT NULL,          -- submission, redirect, vacation, notify, dsn
    env_id      TEXT,                   -- RFC 3461 ENVID
    dsn_ret     TEXT,                   -- FULL or HDRS
    body_type   TEXT,                   -- 7BIT, 8BITMIME, BINARYMIME
    smtputf8    INTEGER NOT NULL DEFAULT 0,
    hold_until  INTEGER,                -- RFC 4865 FUTURERELEASE
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE queue_recipients (
    id              INTEGER PRIMARY KEY,
    queue_id        INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    domain          TEXT NOT NULL,
    orcpt           TEXT,               -- RFC 3461 ORCPT
    notify          TEXT,               -- RFC 3461 NOTIFY
    status          TEXT NOT NULL,      -- pending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    last_attempt    INTEGER,
    last_error      TEXT,
    delay_notified  INTEGER NOT NULL DEFAULT 0,
    finished_at     INTEGER
);
CREATE INDEX queue_recipients_due ON queue_recipients(status, next_attempt);
CREATE INDEX queue_recipients_queue ON queue_recipients(queue_id);

-- Admin UI and API ------------------------------------------------------------

CREATE TABLE web_sessions (
    token_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER
);

-- RFC 4467 URLAUTH keys, per user and mailbox.
CREATE TABLE urlauth_keys (
    mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    key        BLOB NOT NULL
);
