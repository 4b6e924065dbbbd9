-- The event sinks (case work) run after a report's events are committed, in transactions of their
-- own. Until they are done the report says so, so that a desk stopped in between hands the stored
-- events to the sinks when it starts again instead of leaving them without a case.
ALTER TABLE reports ADD COLUMN sinks_pending boolean NOT NULL DEFAULT false;
CREATE INDEX reports_sinks_pending ON reports (id) WHERE sinks_pending;
