-- What each build derived its marts from, so the next build can derive only what changed since
-- (pipeline/build/increments.py).
create table if not exists meta.builds (
    run_id varchar primary key,
    built_at timestamptz not null,
    fingerprint varchar not null,
    full_build boolean not null,
    changed_tickers integer not null,
    changed_ciks integer not null
);
comment on table meta.builds is 'One row per build whose transform committed: when it read the raw tables, and what it was built from.';
comment on column meta.builds.run_id is 'The run that built (meta.runs).';
comment on column meta.builds.built_at is 'When the transform read the raw tables: rows loaded later are the next build''s change set.';
comment on column meta.builds.fingerprint is 'sha256 of the build''s settings (tickers, benchmarks, anchor, as-of), its SQL models and its seeds: a build whose fingerprint differs from the last one''s rebuilds every mart.';
comment on column meta.builds.full_build is 'True where every mart was rebuilt from scratch; false where only the rows new data reached were derived again.';
comment on column meta.builds.changed_tickers is 'Tickers with a bar loaded or revised since the previous build (all of them in a full build).';
comment on column meta.builds.changed_ciks is 'Companies (CIKs) with a fact or filing loaded since the previous build (all of them in a full build).';
