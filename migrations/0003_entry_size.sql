-- A mailbox entry carries its message's size and the zone of its INTERNALDATE,
-- so that listing a mailbox reads only mailbox_messages (never the blob rows,
-- which hold the message data) and INTERNALDATE is returned in the zone the
-- client or the server gave (RFC 3501 2.3.3).
ALTER TABLE mailbox_messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
-- Minutes east of UTC.
ALTER TABLE mailbox_messages ADD COLUMN internal_zone INTEGER NOT NULL DEFAULT 0;
UPDATE mailbox_messages
   SET size = (SELECT b.size FROM blobs b WHERE b.id = mailbox_messages.blob_id);

-- A large mailbox's entries in one row, as of `modseq`: reading the mailbox
-- costs this row plus the changes after it.
CREATE TABLE mailbox_listing (
    mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    modseq     INTEGER NOT NULL,
    data       BLOB NOT NULL
);
