-- RDAP answers for IP networks (RFC 9083): the network's range and its abuse contacts, kept until
-- expires_at so that a busy day's bans cost one query per network, not one per address. A failed
-- or empty lookup is cached too (for a shorter time), by the queried address alone.
CREATE TABLE rdap_cache (
  id bigserial PRIMARY KEY,
  first_ip inet NOT NULL,
  last_ip inet NOT NULL,
  server text,
  handle text,
  name text,
  abuse_emails text[] NOT NULL DEFAULT '{}',
  error text,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX rdap_cache_range ON rdap_cache (first_ip, last_ip);
CREATE INDEX rdap_cache_expires ON rdap_cache (expires_at);
