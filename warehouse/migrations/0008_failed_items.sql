-- A run loads what it could: a ticker Yahoo brought no prices for (unknown, or failing after the
-- retries) is named here with why, and the other tickers load (pipeline/ingest/prices.py).
alter table meta.runs add column failed json;
comment on column meta.runs.failed is 'The items that failed while the rest loaded, as a JSON object of item -> why in one line, e.g. {"NVDX": "Yahoo Finance does not know NVDX (HTTP 404): check the ticker"}; NULL when none failed.';
