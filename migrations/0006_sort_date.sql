-- Each mailbox entry carries its message's sent date (the Date: field as
-- Unix seconds, NULL when absent or unparsable), so that SORT (DATE) and
-- THREAD of a large mailbox read only the mailbox's own entries (RFC 5256).
ALTER TABLE mailbox_messages ADD COLUMN sent_date INTEGER;
UPDATE mailbox_messages
   SET sent_date = (SELECT m.sent_date FROM message_meta m WHERE m.blob_id = mailbox_messages.blob_id);
