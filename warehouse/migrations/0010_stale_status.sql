-- A claim whose evidence is older than a freshness bound of the sources it reads is scored `stale`
-- (pipeline/build/freshness.py), in the scorecard and in the timeline. DuckDB cannot change a CHECK
-- constraint in place: each table is made again with the new one, and its rows copied over.
create table marts.thesis_scorecard_0010 (
    claim_id varchar not null,
    statement varchar not null,
    value double,
    threshold varchar not null,
    status varchar not null check (status in ('supported', 'not_supported', 'stale', 'insufficient_data')),
    as_of date,
    evidence varchar not null,
    run_id varchar not null,
    primary key (run_id, claim_id)
);
insert into marts.thesis_scorecard_0010 by name select * from marts.thesis_scorecard;
drop table marts.thesis_scorecard;
alter table marts.thesis_scorecard_0010 rename to thesis_scorecard;
comment on table marts.thesis_scorecard is 'Each claim of the thesis (seeds/claims.yml) as evaluated by each run: one row per claim per run, history kept.';
comment on column marts.thesis_scorecard.claim_id is 'The claim''s id in seeds/claims.yml.';
comment on column marts.thesis_scorecard.statement is 'The claim in plain words, as it read when evaluated.';
comment on column marts.thesis_scorecard.value is 'The claim''s metric on the data, in the unit its statement gives; NULL where the data is insufficient.';
comment on column marts.thesis_scorecard.threshold is 'The test the value must pass, e.g. <= -20 or between 180 and 210.';
comment on column marts.thesis_scorecard.status is 'supported; not_supported; stale where the evidence is older than the error bound of a source it reads (the value is kept, the evidence says which bound); or insufficient_data where an input table, row or value is missing.';
comment on column marts.thesis_scorecard.as_of is 'The date of the data the value comes from: for a claim reading several series, the last date of the oldest.';
comment on column marts.thesis_scorecard.evidence is 'Which mart and rows the value comes from, or what is missing; for a stale claim, the bound it is older than.';
comment on column marts.thesis_scorecard.run_id is 'The run that evaluated the claim (meta.runs).';

create table marts.thesis_timeline_0010 (
    claim_id varchar not null,
    week date not null,
    as_of_date date not null,
    status varchar not null check (status in ('supported', 'not_supported', 'stale', 'insufficient_data')),
    value double,
    threshold varchar not null,
    evidence varchar not null,
    claim_hash varchar not null,
    run_id varchar not null,
    primary key (claim_id, week)
);
insert into marts.thesis_timeline_0010 by name select * from marts.thesis_timeline;
drop table marts.thesis_timeline;
alter table marts.thesis_timeline_0010 rename to thesis_timeline;
comment on table marts.thesis_timeline is 'Each claim of the thesis (seeds/claims.yml) scored point in time at each week''s last session, from the anchor date to the latest data: one row per (claim_id, week). Nothing filed, stated or traded after as_of_date is seen.';
comment on column marts.thesis_timeline.claim_id is 'The claim''s id in seeds/claims.yml.';
comment on column marts.thesis_timeline.week is 'The Monday of the week.';
comment on column marts.thesis_timeline.as_of_date is 'The week''s last session (so far, for the week in progress): the claim is scored as of this date.';
comment on column marts.thesis_timeline.status is 'supported; not_supported; stale where its prices end before the week starts, or its filed figures are older than the filings'' error bound at as_of_date; or insufficient_data where an input was not known yet.';
comment on column marts.thesis_timeline.value is 'The claim''s metric as of as_of_date, in the unit its statement gives.';
comment on column marts.thesis_timeline.threshold is 'The test the value must pass, e.g. <= -20.';
comment on column marts.thesis_timeline.evidence is 'Which mart and rows the value comes from, as of as_of_date; for a stale week, the bound it is older than.';
comment on column marts.thesis_timeline.claim_hash is 'A hash of the claim as scored, and of the filings'' error bound: a claim edited in seeds/claims.yml, or a changed bound, is scored again for every week.';
comment on column marts.thesis_timeline.run_id is 'The run that scored the row (meta.runs).';
