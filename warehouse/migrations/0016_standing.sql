-- What a run with nothing new reads to know, without the trading calendar or a write, that the
-- published version stands (pipeline/build/standing.py): until when the build's day and last
-- session hold, and which replayed folder a run loaded.
alter table meta.builds add column stands_until timestamptz;
alter table meta.runs add column inputs varchar;
comment on column meta.builds.stands_until is 'When the day or the last closed NYSE session the build worked for changes (New York''s next midnight, or the next session''s close and settle): until then, with nothing new loaded, its version stands. NULL for an as-of build.';
comment on column meta.runs.inputs is 'For a replay: sha256 of every file of the replayed folder''s prices/ and sec/ (their paths and bytes). A replay of the same bytes after this run succeeded and was built finds nothing new without reading them. NULL for a live run.';
