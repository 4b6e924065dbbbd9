-- A case link names its event by `event_id`: the `events` row is the stored event, so the link no
-- longer carries a copy of it (writing that copy was the largest part of grouping). The link keeps
-- its own copy only when there is no row to name (events grouped without being stored) and, by the
-- trigger below, when the row it names is deleted (a reparse replaces a report's events with new
-- ones): the evidence of a case never goes away with its events.
ALTER TABLE case_events ALTER COLUMN event DROP NOT NULL;

-- Serves "the cases of a report" (reparse, statistics) and finds the links of deleted events by key.
DROP INDEX case_events_report;
CREATE INDEX case_events_report ON case_events (report_id, event_id) WHERE report_id IS NOT NULL;

-- What a case keeps of an event: all of it, a raw log line cut to what a notice quotes (4096
-- characters), as the copies made by grouping always were.
CREATE FUNCTION case_event_evidence(event jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(event->'raw') = 'string' AND length(event->>'raw') > 4096
              THEN jsonb_set(event, '{raw}', to_jsonb(left(event->>'raw', 4096))) ELSE event END
$$;

CREATE FUNCTION case_events_keep_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE case_events l SET event = case_event_evidence(g.event) FROM gone g
   WHERE l.report_id = g.report_id AND l.event_id = g.id AND l.event IS NULL;
  -- Events from no report (blocklists, detection): no index leads to their links, and nothing
  -- deletes such events today; should something do so, their links are still kept whole.
  IF EXISTS (SELECT 1 FROM gone WHERE report_id IS NULL) THEN
    UPDATE case_events l SET event = case_event_evidence(g.event) FROM gone g
     WHERE g.report_id IS NULL AND l.report_id IS NULL AND l.event_id = g.id AND l.event IS NULL;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER events_keep_case_evidence AFTER DELETE ON events REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION case_events_keep_evidence();

-- The events of a case as evidence: the link's own copy, else the event it names.
CREATE VIEW case_evidence AS
SELECT l.id, l.case_id, l.event_id, l.report_id, l.at, l.reporter, l.channel, l.consent,
       coalesce(l.event, case_event_evidence(e.event)) AS event
  FROM case_events l LEFT JOIN events e ON e.id = l.event_id AND l.event IS NULL;
