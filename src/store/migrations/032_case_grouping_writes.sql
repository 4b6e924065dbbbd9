-- Grouping writes, at scale (bench/cases.ts: every batch of 5,000 events updates thousands of cases).
--
-- Half of each page of cases stays free: a batch updates each case once, and cases opened together
-- sit on the same page and are usually touched together; with room for a new version of every
-- case on its page, those updates stay HOT (no index is written). With 85% filled pages two thirds
-- of them were not, and wrote all eight indexes of the table.
ALTER TABLE cases SET (fillfactor = 50);

-- The link's case is checked once per batch by grouping, the only writer of case_events (every
-- case it links is one it has just opened or updated in the same transaction), instead of by a
-- foreign key lookup and row lock per event, which was half of the cost of writing links. Cases
-- are never deleted; should one with events ever be, that is refused as the key refused it.
ALTER TABLE case_events DROP CONSTRAINT case_events_case_id_fkey;

CREATE FUNCTION cases_keep_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM case_events WHERE case_id = OLD.id) THEN
    RAISE EXCEPTION 'case % has events and cannot be deleted', OLD.id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER cases_keep_linked BEFORE DELETE ON cases FOR EACH ROW EXECUTE FUNCTION cases_keep_linked();
