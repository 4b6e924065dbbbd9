-- Events joining open cases are recorded as one audit entry per grouping batch,
-- action 'cases.events_added', change {cases: [case ids], events: [events added to each]}, instead
-- of one entry per case: a batch of 5,000 events touches thousands of cases, and an entry each was
-- the largest single cost of grouping after the case updates. The entry is hash-chained like any
-- other; a case's own trail (auditOf) finds the batch entries naming it through this index, built
-- from the hashed content itself, so nothing outside the chain decides what a case's trail shows.
CREATE INDEX audit_log_batch_cases ON audit_log USING gin ((change->'cases') jsonb_path_ops)
  WHERE action = 'cases.events_added';
