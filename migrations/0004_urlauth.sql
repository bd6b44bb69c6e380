-- URLAUTH (RFC 4467): urlauth_keys (made in 0001) holds the mailbox access key of
-- each mailbox, which belongs to the mailbox's owner. RESETKEY deletes keys;
-- GENURLAUTH makes a fresh random one when none exists, so URLs authorized before
-- a reset stop working. When each key was made, for the operator.
ALTER TABLE urlauth_keys ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
