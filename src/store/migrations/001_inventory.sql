-- What the provider owns and who uses it. Assignments carry validity so that a report about a
-- past date finds whoever held the resource then.
CREATE TABLE brands (
  id text PRIMARY KEY,
  name text NOT NULL,
  from_address text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id text PRIMARY KEY,
  name text NOT NULL,
  language text NOT NULL CHECK (language IN ('ja', 'en')),
  emails text[] NOT NULL DEFAULT '{}',
  brand_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers(id),
  type text NOT NULL CHECK (type IN ('shared', 'vps', 'dedicated', 'iaas', 'reseller', 'other')),
  plan text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per resource held by a service for a period. Addresses and ranges are stored as the
-- first and last address (inet) so that ranges that are not CIDRs fit too; names are lower-case.
CREATE TABLE assignments (
  id bigserial PRIMARY KEY,
  service_id text NOT NULL REFERENCES services(id),
  kind text NOT NULL CHECK (kind IN ('ip', 'name')),
  resource text NOT NULL,
  first_ip inet,
  last_ip inet,
  name text,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  CHECK ((kind = 'ip' AND first_ip IS NOT NULL AND last_ip IS NOT NULL) OR (kind = 'name' AND name IS NOT NULL))
);
CREATE UNIQUE INDEX assignments_identity ON assignments (service_id, resource, valid_from);
CREATE INDEX assignments_first_ip ON assignments (first_ip);
CREATE INDEX assignments_name ON assignments (name);

-- Bumped on every inventory change so that processes holding an in-memory index know to reload.
CREATE TABLE inventory_version (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  version bigint NOT NULL DEFAULT 0,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO inventory_version (id, version) VALUES (1, 0);

CREATE TABLE inventory_imports (
  id bigserial PRIMARY KEY,
  source text NOT NULL,
  sha256 text NOT NULL,
  rows integer NOT NULL,
  changed integer NOT NULL,
  conflicts jsonb NOT NULL DEFAULT '[]',
  imported_at timestamptz NOT NULL DEFAULT now()
);
