-- Blocklist watch: the state of every watched list, each fetch (for freshness and churn), which
-- inventory addresses are listed where and since when, and alerts about lists that broke.

-- One row per list (a URL, a file, or one file of a watched directory).
CREATE TABLE blocklist_sources (
  name text PRIMARY KEY,
  location text NOT NULL,
  category text,
  maintainer text,
  -- HTTP validators of the copy we hold, sent back as If-None-Match / If-Modified-Since.
  etag text,
  last_modified text,
  -- A local file's size and mtime when last read, to skip re-reading an unchanged file.
  file_stamp text,
  checked_at timestamptz,
  fetched_at timestamptz,
  next_due timestamptz,
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ok', 'kept_previous', 'failed')),
  error text,
  header jsonb NOT NULL DEFAULT '{}',
  source_date timestamptz,
  entries integer NOT NULL DEFAULT 0,
  unique_ips double precision NOT NULL DEFAULT 0,
  malformed integer NOT NULL DEFAULT 0,
  malformed_samples jsonb NOT NULL DEFAULT '[]',
  sha256 text
);

-- One row per check of a list: what came back and how much changed.
CREATE TABLE blocklist_updates (
  id bigserial PRIMARY KEY,
  list text NOT NULL,
  checked_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('updated', 'unchanged', 'kept_previous', 'failed')),
  source_date timestamptz,
  entries integer,
  unique_ips double precision,
  added double precision,
  removed double precision,
  malformed integer,
  detail text
);
CREATE INDEX blocklist_updates_list ON blocklist_updates (list, checked_at);

-- A list entry that covers addresses of one inventory assignment (or, for a DNSBL, one checked
-- address), from first seen to delisting. assignment_id is NULL for a DNSBL hit on an address
-- the inventory does not hold (the provider's own mail servers).
CREATE TABLE blocklist_listings (
  id bigserial PRIMARY KEY,
  list text NOT NULL,
  entry text NOT NULL,
  ip_count double precision NOT NULL,
  assignment_id bigint,
  customer_id text,
  service_id text,
  netblock text,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  delisted_at timestamptz,
  -- act: handed to the desk as an event; report: recorded and reported only; wait: needs a
  -- second, independent list first.
  decision text NOT NULL DEFAULT 'report' CHECK (decision IN ('act', 'report', 'wait')),
  event_sent_at timestamptz,
  delisting_sent_at timestamptz,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX blocklist_listings_active ON blocklist_listings (list, entry, coalesce(assignment_id, 0)) WHERE delisted_at IS NULL;
CREATE INDEX blocklist_listings_customer ON blocklist_listings (customer_id);
CREATE INDEX blocklist_listings_assignment ON blocklist_listings (assignment_id) WHERE delisted_at IS NULL;

CREATE TABLE blocklist_alerts (
  id bigserial PRIMARY KEY,
  list text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('vanished', 'empty', 'truncated', 'over_cap', 'fetch_failed', 'stale')),
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blocklist_alerts_list ON blocklist_alerts (list, created_at);
