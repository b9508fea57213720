-- raw.xbrl_facts without its primary key. Every filer is several hundred million fact versions,
-- and the key's ART index was 90% of the warehouse file (2.01 GiB against 0.21 GiB at 10 million
-- facts: about 70 GiB at every filer, copied into each analyst copy) and 1.6x the load's CPU
-- (docs/scaling.md). The key stays the rows' identity: the load deletes the rows
-- whose key it brings (an anti-join on the staged rows) before it inserts them, in one
-- transaction (warehouse/load.py). Every row and every fact version are kept; the views and
-- macros read the table by name and are unchanged.
create table raw.xbrl_facts_unindexed (
    cik bigint not null,
    taxonomy varchar not null,
    concept varchar not null,
    unit varchar not null,
    period varchar not null,
    start date,
    "end" date not null,
    val double not null,
    accn varchar not null,
    fy integer,
    fp varchar,
    form varchar not null,
    filed date not null,
    frame varchar,
    payload_sha256 varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    flags varchar
);
insert into raw.xbrl_facts_unindexed by name select * from raw.xbrl_facts;
drop table raw.xbrl_facts;
alter table raw.xbrl_facts_unindexed rename to xbrl_facts;
comment on table raw.xbrl_facts is 'SEC companyfacts as filed: one row per fact per filing that reported it, so restatements keep every version. Every taxonomy and unit. One row per (cik, taxonomy, concept, unit, period, accn): a load replaces the rows whose key it brings; no index enforces it: at every filer one would be most of the file.';
comment on column raw.xbrl_facts.cik is 'SEC Central Index Key of the filer.';
comment on column raw.xbrl_facts.taxonomy is 'XBRL taxonomy: us-gaap, dei, srt, ifrs-full, ...';
comment on column raw.xbrl_facts.concept is 'XBRL concept (tag), e.g. PaymentsToAcquireProductiveAssets.';
comment on column raw.xbrl_facts.unit is 'Unit as SEC names it: USD, shares, USD/shares, pure, ...';
comment on column raw.xbrl_facts.period is 'The period as text: start/end (ISO 8601 interval) for a duration, end alone for an instant. Part of the key, since start is NULL for instants.';
comment on column raw.xbrl_facts.start is 'First day of a duration; NULL for an instant (balance) fact. With end, the only identity of the period.';
comment on column raw.xbrl_facts."end" is 'Last day of a duration, or the date of an instant.';
comment on column raw.xbrl_facts.val is 'The value as filed, in the unit (US dollars for USD).';
comment on column raw.xbrl_facts.accn is 'Accession number of the filing that reported it, 0000000000-00-000000.';
comment on column raw.xbrl_facts.fy is 'Fiscal year of the filing (not of the period); NULL on 8-K and other non-periodic forms.';
comment on column raw.xbrl_facts.fp is 'Fiscal period of the filing: Q1, Q2, Q3 or FY (there is no Q4); NULL on non-periodic forms.';
comment on column raw.xbrl_facts.form is 'Form type of the filing: 10-K, 10-Q, 8-K, 10-K/A, ...';
comment on column raw.xbrl_facts.filed is 'Date the filing was filed: when this version became known.';
comment on column raw.xbrl_facts.frame is 'SEC calendar frame (CY2025Q1, ...), only on the last-filed copy of a period; not relied on.';
comment on column raw.xbrl_facts.payload_sha256 is 'sha256 of the raw-zone companyfacts payload this row came from (meta.payloads); for a row from the bulk archive, bulk:<archive>/<member>@<crc32 hex> (meta.bulk_members).';
comment on column raw.xbrl_facts.run_id is 'The run that loaded this row.';
comment on column raw.xbrl_facts.loaded_at is 'When this row was loaded.';
comment on column raw.xbrl_facts.flags is 'The raw_xbrl_facts warnings this fact loaded with, e.g. ''new unit'' or ''negative share count; new unit''; NULL for a fact that passed all of them.';
