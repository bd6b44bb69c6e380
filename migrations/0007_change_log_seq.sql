-- The change log's sequence numbers need no AUTOINCREMENT: pruning never
-- removes the newest row, so no number is handed out twice. Pruning finds the
-- rows older than its cut-off by sequence number (the times rise with it), so
-- the index on created_at goes too. Each commit then writes two pages fewer.
CREATE TABLE change_log_next (
    seq        INTEGER PRIMARY KEY,
    account_id INTEGER,
    mailbox_id INTEGER,
    kind       INTEGER NOT NULL,
    uid        INTEGER,
    modseq     INTEGER,
    name       TEXT,                    -- mailbox or script name the change is about
    old_name   TEXT,                    -- a renamed mailbox's previous name
    created_at INTEGER NOT NULL
);
INSERT INTO change_log_next (seq, account_id, mailbox_id, kind, uid, modseq, name, old_name, created_at)
    SELECT seq, account_id, mailbox_id, kind, uid, modseq, name, old_name, created_at FROM change_log;
DROP TABLE change_log;
ALTER TABLE change_log_next RENAME TO change_log;
DELETE FROM sqlite_sequence WHERE name = 'change_log';
