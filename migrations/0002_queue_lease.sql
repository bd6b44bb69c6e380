-- Outbound queue, version 2: a delivery attempt leases the recipients it
-- works on, so a crash mid-attempt leaves them due again once the lease runs
-- out and a concurrent flush never starts a second attempt; a result that
-- needs a delivery status notification (RFC 3464) records which one until it
-- has been queued.

ALTER TABLE queue_recipients ADD COLUMN lease_until INTEGER;
ALTER TABLE queue_recipients ADD COLUMN remote_mta TEXT;
ALTER TABLE queue_recipients ADD COLUMN report TEXT;  -- delivered, relayed, delayed, failed

CREATE INDEX queue_recipients_report ON queue_recipients(queue_id) WHERE report IS NOT NULL;
