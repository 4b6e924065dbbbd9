-- Every ban a jail decided. An outside offender's ban goes into the exported ban list until it
-- expires or an operator lifts it; an offender that is one of our own addresses is not banned but
-- recorded with its customer and the desk event raised for it. Rows are kept after expiry: they
-- are the ban history bantime.increment counts, and the record of what the desk did and why.
CREATE TABLE bans (
  id bigserial PRIMARY KEY,
  jail text NOT NULL,
  ip inet NOT NULL,
  -- The failure id the filter counted under (the address, or an F-ID capture).
  fid text NOT NULL,
  banned_at timestamptz NOT NULL,
  -- Seconds; negative for a permanent ban (then expires_at is null).
  bantime double precision NOT NULL,
  expires_at timestamptz,
  -- 1 for an address's first ban in the jail (or in all jails with bantime.overalljails).
  ban_count integer NOT NULL,
  failures integer NOT NULL,
  matches jsonb NOT NULL DEFAULT '[]',
  username text,
  own boolean NOT NULL DEFAULT false,
  customer_id text,
  service_id text,
  event_id bigint,
  lifted_at timestamptz,
  lifted_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bans_active ON bans (expires_at) WHERE NOT own AND lifted_at IS NULL;
CREATE INDEX bans_history ON bans (ip, jail, banned_at DESC);
CREATE INDEX bans_banned_at ON bans (banned_at);

-- Where each jail stopped reading each source (file position or journal cursor), so that a
-- restart neither misses nor repeats lines.
CREATE TABLE jail_positions (
  jail text NOT NULL,
  source text NOT NULL,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (jail, source)
);
