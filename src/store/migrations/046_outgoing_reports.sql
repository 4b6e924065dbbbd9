-- Abuse reports the desk sends out about offenders outside its network (X-ARF to the abuse contact
-- that RDAP names). Dry runs and refusals are recorded too, with the reason, so that the desk can
-- show what it would have sent, what it sent, and why it sent nothing.
CREATE TABLE outgoing_reports (
  id bigserial PRIMARY KEY,
  ban_id bigint REFERENCES bans(id),
  ip inet NOT NULL,
  format text NOT NULL,
  recipient text,
  rdap_server text,
  rdap_handle text,
  status text NOT NULL CHECK (status IN ('dry-run', 'sent', 'failed', 'skipped')),
  reason text,
  report_uuid text,
  message_id text,
  -- The whole message as composed (sent or not), bounded by the composer.
  message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX outgoing_reports_recipient ON outgoing_reports (recipient, created_at);
CREATE INDEX outgoing_reports_ip ON outgoing_reports (ip, created_at);
CREATE INDEX outgoing_reports_created ON outgoing_reports (created_at);
