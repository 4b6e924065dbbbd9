-- API keys for reporters, operators, legal staff, customers and tools. Only a hash of each key
-- is stored; the key itself is shown once when it is created.
CREATE TABLE api_keys (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  roles text[] NOT NULL,
  reporter_id text,
  customer_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK (roles <@ ARRAY['admin', 'operator', 'legal', 'reporter', 'customer']::text[] AND cardinality(roles) > 0)
);
