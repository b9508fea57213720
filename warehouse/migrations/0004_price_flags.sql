-- A bar whose open, high or low is out of line with the rest loads, flagged with the warning
-- expectations it failed (the raw_prices suite's warnings), instead of failing its whole batch.
alter table raw.prices add column flags varchar;
comment on column raw.prices.flags is 'The raw_prices warnings this bar loaded with, e.g. ''low <= open''; NULL for a bar that passed all of them.';
