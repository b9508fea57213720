-- Each run records the settings it used, so a number in the marts can be traced to how it was made.

alter table meta.runs add column parameters varchar;
comment on column meta.runs.parameters is 'The settings the run used, as JSON: tickers, benchmark, anchor_date, as_of, hyperscalers.';
