-- The thesis over time: every claim scored as of each week's last session. Like
-- marts.thesis_scorecard it keeps its rows across builds; a build scores only the weeks (and the
-- claims) it has not scored before, and the week in progress again.
create table if not exists marts.thesis_timeline (
    claim_id varchar not null,
    week date not null,
    as_of_date date not null,
    status varchar not null check (status in ('supported', 'not_supported', 'insufficient_data')),
    value double,
    threshold varchar not null,
    evidence varchar not null,
    claim_hash varchar not null,
    run_id varchar not null,
    primary key (claim_id, week)
);
comment on table marts.thesis_timeline is 'Each claim of the thesis (seeds/claims.yml) scored point in time at each week''s last session, from the anchor date to the latest data: one row per (claim_id, week). Nothing filed, stated or traded after as_of_date is seen.';
comment on column marts.thesis_timeline.claim_id is 'The claim''s id in seeds/claims.yml.';
comment on column marts.thesis_timeline.week is 'The Monday of the week.';
comment on column marts.thesis_timeline.as_of_date is 'The week''s last session (so far, for the week in progress): the claim is scored as of this date.';
comment on column marts.thesis_timeline.status is 'supported, not_supported, or insufficient_data where an input was not known yet.';
comment on column marts.thesis_timeline.value is 'The claim''s metric as of as_of_date, in the unit its statement gives.';
comment on column marts.thesis_timeline.threshold is 'The test the value must pass, e.g. <= -20.';
comment on column marts.thesis_timeline.evidence is 'Which mart and rows the value comes from, as of as_of_date.';
comment on column marts.thesis_timeline.claim_hash is 'A hash of the claim as scored: a claim edited in seeds/claims.yml is scored again for every week.';
comment on column marts.thesis_timeline.run_id is 'The run that scored the row (meta.runs).';
