-- The moment a run worked for (THESIS_TODAY, or the real time): started_at is when it really
-- started. A live run asks EDGAR again only when EDGAR has been open since the last one worked for.
alter table meta.runs add column worked_for timestamptz;
comment on column meta.runs.worked_for is 'The moment the run worked for: the real time, or the moment THESIS_TODAY set (pipeline/runtime/clock.py). started_at is when it really started.';
