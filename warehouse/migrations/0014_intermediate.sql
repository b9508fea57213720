-- What the marts derive from the sources in common (fiscal years, discrete quarters, metrics) moved
-- from staging to its own layer, transforms/intermediate/: the models of its schema. Their former
-- relations go, so no analyst reads a stale copy of them.
create schema if not exists intermediate;
drop table if exists staging.metric_quarters;
drop view if exists staging.metric_quarters;
drop view if exists staging.xbrl_quarters;
drop view if exists staging.fiscal_years;
