-- Every fact SEC serves loads; one that is merely odd (a unit the warehouse has not stored before,
-- a value beyond 2^53, a negative share count, a 10-K or 10-Q fact filed before its period ends,
-- an end before its start) loads flagged with the raw_xbrl_facts warnings it failed, instead of
-- failing its whole batch.
alter table raw.xbrl_facts add column flags varchar;
comment on column raw.xbrl_facts.flags is 'The raw_xbrl_facts warnings this fact loaded with, e.g. ''new unit'' or ''negative share count; new unit''; NULL for a fact that passed all of them.';
