-- SEC's nightly bulk archives (companyfacts.zip, submissions.zip) are read member by member; this
-- manifest records each member loaded, so a later night parses only the members whose size or
-- CRC-32 changed, or that are new. A member that failed is not recorded: it is tried again.
create table if not exists meta.bulk_members (
    archive varchar not null,
    member varchar not null,
    size bigint not null,
    crc32 bigint not null,
    cik bigint not null,
    rows bigint not null,
    staged_path varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    primary key (archive, member)
);
comment on table meta.bulk_members is 'Every member of SEC''s bulk archives loaded, as it was when loaded: one row per (archive, member).';
comment on column meta.bulk_members.archive is 'The archive: companyfacts.zip or submissions.zip.';
comment on column meta.bulk_members.member is 'The member''s name in the archive, CIK##########.json or CIK##########-submissions-NNN.json.';
comment on column meta.bulk_members.size is 'Its uncompressed size in bytes, from the archive''s directory.';
comment on column meta.bulk_members.crc32 is 'Its CRC-32, from the archive''s directory: with size, what tells a changed member.';
comment on column meta.bulk_members.cik is 'The CIK the member is filed under (from its name).';
comment on column meta.bulk_members.rows is 'Rows read from it: facts (into raw.xbrl_facts) or filings (into raw.filings).';
comment on column meta.bulk_members.staged_path is 'The parquet partition it was staged to and loaded from.';
comment on column meta.bulk_members.run_id is 'The run that last loaded it (meta.runs).';
comment on column meta.bulk_members.loaded_at is 'When it was last loaded.';

comment on column raw.xbrl_facts.payload_sha256 is 'sha256 of the raw-zone companyfacts payload this row came from (meta.payloads); for a row from the bulk archive, bulk:<archive>/<member>@<crc32 hex> (meta.bulk_members).';
comment on column raw.filings.payload_sha256 is 'sha256 of the raw-zone submissions payload this row came from; for a row from the bulk archive, bulk:<archive>/<member>@<crc32 hex> (meta.bulk_members).';
