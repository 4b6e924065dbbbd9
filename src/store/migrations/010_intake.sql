-- Intake: every report as received (raw, content-addressed, compressed), its parse outcome, the
-- events it yielded, and every refusal at the door. The raw bytes are evidence: they are written
-- before anything else is done with a report and never changed afterwards.
CREATE TABLE reports (
  id bigserial PRIMARY KEY,
  -- SHA-256 of the raw bytes (hex): the content address, and what makes a second copy a duplicate.
  sha256 text NOT NULL UNIQUE,
  size bigint NOT NULL,
  channel text NOT NULL CHECK (channel IN ('http', 'smtp', 'imap', 'file', 'cli')),
  content_type text,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- The same mail reaching the desk twice (two addresses, SMTP and IMAP) differs only in its
  -- trace headers: Message-ID plus the hash of the body recognise it.
  message_id text,
  body_sha256 text,
  status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'parsed', 'rejected', 'quarantined')),
  parser text,
  -- Why the report was quarantined (parser failure, a limit) or rejected (not an abuse report).
  reason text,
  reporter_email text,
  reporter_name text,
  subject text,
  forward_consent boolean,
  language text,
  -- Channel details: SMTP envelope and peer, IMAP mailbox and UID, file name, API key.
  meta jsonb NOT NULL DEFAULT '{}',
  event_count integer NOT NULL DEFAULT 0,
  arrivals integer NOT NULL DEFAULT 1,
  last_arrival_at timestamptz NOT NULL DEFAULT now(),
  parsed_at timestamptz,
  -- Case numbers the event sinks reported for this report's events.
  cases text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX reports_message ON reports (message_id, body_sha256) WHERE message_id IS NOT NULL;
CREATE INDEX reports_pending ON reports (status, id) WHERE status IN ('received', 'quarantined');
CREATE INDEX reports_received_at ON reports (received_at);

-- The raw bytes, gzip-compressed, in chunks so that a large feed file never has to be held in
-- memory whole. Reading the chunks in order and inflating them gives the bytes back.
CREATE TABLE report_blobs (
  sha256 text NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (sha256, seq)
);

-- One harmonized event per row. The flat event is kept whole in `event`; the columns are what
-- attribution and case work select on. report_id is null for events that came from no report
-- (blocklist listings, log detection); `source` names where they came from.
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  report_id bigint REFERENCES reports(id),
  source text NOT NULL,
  time timestamptz NOT NULL,
  source_ip inet,
  classification_type text,
  customer_id text,
  service_id text,
  -- The inventory resource (range or name) the event was attributed through.
  attributed_to text,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_report ON events (report_id);
CREATE INDEX events_source_ip ON events (source_ip);
CREATE INDEX events_customer ON events (customer_id, time) WHERE customer_id IS NOT NULL;

-- Input turned away before it became a report (too large, malformed at the protocol level, rate
-- limited), so that an operator can answer "did you get my report?" even for those.
CREATE TABLE intake_refusals (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  channel text NOT NULL,
  reason text NOT NULL,
  size bigint,
  peer text,
  meta jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX intake_refusals_at ON intake_refusals (at);
