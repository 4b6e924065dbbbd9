-- Cases: what the desk does about events. A case groups the events of one customer, service and
-- kind of abuse (or, unattributed, of one resource) and runs through the states in
-- src/cases/states.ts. `version` is bumped on every change so that concurrent edits are refused
-- rather than silently overwritten.

-- One counter per year: numbers are taken under the row lock, so two desks never issue the same one.
CREATE TABLE case_counters (
  year integer PRIMARY KEY,
  last bigint NOT NULL
);

CREATE TABLE cases (
  id bigserial PRIMARY KEY,
  number text NOT NULL UNIQUE,
  year integer NOT NULL,
  seq bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('new', 'triage', 'notified', 'customer_replied', 'resolved', 'no_action', 'escalated', 'closed')),
  -- How the case came to be: grouped from events, or opened by hand (phone, letter, police, legal).
  origin text NOT NULL CHECK (origin IN ('events', 'manual')),
  channel text,
  -- Statistics category of the annual report.
  category text NOT NULL CHECK (category IN ('spam_phishing', 'security_incident', 'rights_infringement', 'other_illegal')),
  abuse_type text NOT NULL,
  playbook text NOT NULL,
  misuse_kind text CHECK (misuse_kind IN ('fraudulent_contract', 'compromised', 'reseller', 'grey_use')),
  -- Police inquiries and legal requests: only the legal role sees these.
  legal_only boolean NOT NULL DEFAULT false,
  legal_kind text CHECK (legal_kind IN ('police_inquiry', 'warrant', 'takedown_request', 'disclosure_request', 'other')),
  customer_id text,
  service_id text,
  service_type text,
  brand_id text,
  resource text,
  group_key text,
  title text NOT NULL DEFAULT '',
  assignee text,
  event_count integer NOT NULL DEFAULT 0,
  first_event_at timestamptz,
  last_event_at timestamptz,
  opened_at timestamptz NOT NULL,
  first_notice_at timestamptz,
  customer_answer_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  reopened_count integer NOT NULL DEFAULT 0,
  -- What the desk or the customer must do next by: the overdue queue is due_at < now().
  due_at timestamptz,
  -- Playbook schedule: the next reminder or escalation step and when it falls due.
  next_step integer NOT NULL DEFAULT 0,
  next_step_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL,
  UNIQUE (year, seq)
) WITH (fillfactor = 85);
-- Grouping looks up the cases of a group that are not closed. Events joining a case change only
-- columns no index covers (counts, last_event_at, version), so with room left on each page
-- (fillfactor) those updates stay on the page and touch no index.
CREATE INDEX cases_group ON cases (group_key) WHERE state <> 'closed';
-- Case lists: one index per filter, each ordered by age for keyset pagination.
CREATE INDEX cases_age ON cases (opened_at, id);
CREATE INDEX cases_state_age ON cases (state, opened_at, id);
CREATE INDEX cases_customer_age ON cases (customer_id, opened_at, id);
CREATE INDEX cases_category_age ON cases (category, opened_at, id);
CREATE INDEX cases_due ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_next_step ON cases (next_step_at) WHERE next_step_at IS NOT NULL;

-- The events of a case, with what is needed to write a notice without going back to intake:
-- the event itself, the report and reporter it came from, and whether the reporter allows
-- forwarding its evidence to the customer.
CREATE TABLE case_events (
  id bigserial NOT NULL,
  case_id bigint NOT NULL REFERENCES cases(id),
  event_id bigint,
  report_id bigint,
  at timestamptz NOT NULL,
  event jsonb NOT NULL,
  -- The reporter's e-mail address or reporter id.
  reporter text,
  channel text,
  consent boolean NOT NULL DEFAULT false,
  -- One index serves both "the events of a case, in order" and identity: one less to write per event.
  PRIMARY KEY (case_id, id)
);
CREATE INDEX case_events_report ON case_events (report_id) WHERE report_id IS NOT NULL;

-- Whether a reporter allows forwarding its evidence, per channel ('*' for every channel).
CREATE TABLE evidence_consent (
  reporter text NOT NULL,
  channel text NOT NULL DEFAULT '*',
  forward boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (reporter, channel)
);

-- Notes, replies and other messages on a case.
CREATE TABLE case_messages (
  id bigserial PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES cases(id),
  kind text NOT NULL CHECK (kind IN ('note', 'customer_reply', 'reporter_message', 'other_message')),
  author text NOT NULL,
  subject text,
  body text NOT NULL,
  message_id text,
  at timestamptz NOT NULL
);
CREATE INDEX case_messages_case ON case_messages (case_id, id);

-- Restrictions (suspend, null-route, block URL) and their undo. A request that the playbook marks
-- for approval waits for a second, different person.
CREATE TABLE case_actions (
  id bigserial PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES cases(id),
  action text NOT NULL,
  target text NOT NULL,
  reason text NOT NULL,
  dry_run boolean NOT NULL DEFAULT false,
  needs_approval boolean NOT NULL,
  status text NOT NULL CHECK (status IN ('proposed', 'pending_approval', 'done', 'failed', 'dry_run', 'rejected')),
  requested_by text,
  requested_at timestamptz,
  approved_by text,
  approved_at timestamptz,
  executed_at timestamptz,
  result jsonb,
  undo_of bigint REFERENCES case_actions(id),
  undone_by bigint REFERENCES case_actions(id),
  created_at timestamptz NOT NULL
);
CREATE INDEX case_actions_case ON case_actions (case_id, id);

-- Mail waiting to go out through the relay, and what became of it.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  case_id bigint REFERENCES cases(id),
  kind text NOT NULL CHECK (kind IN ('notice', 'reminder', 'escalation', 'acknowledgement', 'closing')),
  template text NOT NULL,
  language text NOT NULL,
  recipients text[] NOT NULL,
  sender text NOT NULL,
  reply_to text,
  subject text NOT NULL,
  body text NOT NULL,
  message_id text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  sent_at timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_case ON outbox (case_id, id);

-- One acknowledgement per report, however many cases its events went to.
CREATE TABLE report_acknowledgements (
  report_id bigint PRIMARY KEY,
  outbox_id bigint REFERENCES outbox(id),
  at timestamptz NOT NULL
);

-- The audit trail: append-only and hash-chained. Each entry's hash covers its content and the
-- previous entry's hash, so changing or removing any entry breaks the chain (`madoguchi audit verify`).
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  case_id bigint,
  actor text NOT NULL,
  at timestamptz NOT NULL,
  action text NOT NULL,
  change jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
