-- The report of each event is checked once per batch by insertEvents (one lookup of the batch's
-- reports, locked against deletion until commit) instead of by a foreign key lookup and row lock
-- per event, which was a fifth of the embedded database's work in storing a feed's events (bench/
-- intake-csv.ts). Reports are never deleted; should one with events ever be, or its id change,
-- that is refused as the key refused it.
ALTER TABLE events DROP CONSTRAINT events_report_id_fkey;

CREATE FUNCTION reports_keep_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM events WHERE report_id = OLD.id) THEN
    RAISE EXCEPTION 'report % has events and cannot be deleted or renumbered', OLD.id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER reports_keep_events BEFORE DELETE OR UPDATE OF id ON reports FOR EACH ROW EXECUTE FUNCTION reports_keep_events();
