-- Payloads that overlap are ordered by when they were received, not by when they were loaded: a
-- payload received earlier but loaded later (a replay, an import of an older file) must not
-- replace what a later one stored, and the same bytes received again after another payload of
-- the ticker are its latest word and load again (pipeline/ingest/prices.py).
alter table meta.payloads add column received_at timestamptz;
comment on column meta.payloads.received_at is 'When the payload was received (its metadata says): of two that overlap, the later one''s rows win. NULL where unknown (a file with no metadata, a payload loaded before this column).';
