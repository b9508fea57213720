-- The warehouse's own tables: raw landing tables and run metadata. staging.* and marts.* are
-- built by transforms/. The release before numbered migrations ran this on every connection; every statement is idempotent.

create schema if not exists raw;
create schema if not exists staging;
create schema if not exists marts;
create schema if not exists meta;

create table if not exists raw.prices (
    ticker varchar not null,
    date date not null,
    open double,
    high double,
    low double,
    close double,
    adj_close double,
    volume bigint,
    close_is_adjusted boolean not null,
    payload_sha256 varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    primary key (ticker, date)
);
comment on table raw.prices is 'Daily bars from Yahoo Finance, one row per (ticker, date); a later payload replaces a revised bar.';
comment on column raw.prices.ticker is 'Yahoo symbol, e.g. NVDA or ^SOX.';
comment on column raw.prices.date is 'Trading day, exchange-local.';
comment on column raw.prices.open is 'Opening price, in the currency of the listing.';
comment on column raw.prices.high is 'Session high.';
comment on column raw.prices.low is 'Session low.';
comment on column raw.prices.close is 'Close as traded (split-adjusted by Yahoo, not dividend-adjusted), unless close_is_adjusted.';
comment on column raw.prices.adj_close is 'Close adjusted for dividends and splits.';
comment on column raw.prices.volume is 'Shares traded; 0 for an index.';
comment on column raw.prices.close_is_adjusted is 'True where the payload came auto-adjusted (no Adj Close column): then open/high/low/close are adjusted too.';
comment on column raw.prices.payload_sha256 is 'sha256 of the raw-zone payload this row came from (meta.payloads).';
comment on column raw.prices.run_id is 'The run that loaded this row (meta.runs).';
comment on column raw.prices.loaded_at is 'When this row was loaded.';

create table if not exists raw.price_events (
    ticker varchar not null,
    date date not null,
    event varchar not null,
    value double not null,
    payload_sha256 varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    primary key (ticker, date, event)
);
comment on table raw.price_events is 'Dividends and splits reported with the daily bars.';
comment on column raw.price_events.ticker is 'Yahoo symbol.';
comment on column raw.price_events.date is 'Ex-date of the event.';
comment on column raw.price_events.event is 'dividend or split.';
comment on column raw.price_events.value is 'Dividend per share, or the split ratio (new shares per old share).';
comment on column raw.price_events.payload_sha256 is 'sha256 of the raw-zone payload this row came from.';
comment on column raw.price_events.run_id is 'The run that loaded this row.';
comment on column raw.price_events.loaded_at is 'When this row was loaded.';

create table if not exists raw.capex_guidance (
    ticker varchar not null,
    statement_date date not null,
    date_precision varchar not null,
    fiscal_period varchar not null,
    low_usd_bn double,
    high_usd_bn double,
    point_usd_bn double,
    basis varchar not null,
    qualitative boolean not null,
    quote varchar not null,
    source_url varchar not null,
    evidence varchar not null,
    line integer not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    primary key (ticker, fiscal_period, statement_date)
);
comment on table raw.capex_guidance is 'The guidance ledger (seeds/capex_guidance.csv) as last loaded: one row per management statement on capex; each load replaces every row.';
comment on column raw.capex_guidance.ticker is 'The company that gave the guidance, e.g. META.';
comment on column raw.capex_guidance.statement_date is 'When it was said; the first of the month where date_precision is month.';
comment on column raw.capex_guidance.date_precision is 'day, or month where only the month of the statement is known.';
comment on column raw.capex_guidance.fiscal_period is 'The period guided, in the company''s own calendar: FY2026, FY2026Q1, FY2025H2, or CY2026 for a calendar year.';
comment on column raw.capex_guidance.low_usd_bn is 'Low end of a range, or the floor of an "at least" statement, in US$ billions.';
comment on column raw.capex_guidance.high_usd_bn is 'High end of a range, in US$ billions.';
comment on column raw.capex_guidance.point_usd_bn is 'A point estimate ("approximately $80 billion"), in US$ billions.';
comment on column raw.capex_guidance.basis is 'What the company counts as capex here; it may differ from the cash-flow line.';
comment on column raw.capex_guidance.qualitative is 'True where the statement gives a direction but no figure.';
comment on column raw.capex_guidance.quote is 'A short quote of the statement.';
comment on column raw.capex_guidance.source_url is 'Where the statement was read.';
comment on column raw.capex_guidance.evidence is 'seen: the figure was read in the cited source; secondary: seen only in a summary citing it.';
comment on column raw.capex_guidance.line is 'The line of the ledger file this row came from.';
comment on column raw.capex_guidance.run_id is 'The run that loaded this row (meta.runs).';
comment on column raw.capex_guidance.loaded_at is 'When this row was loaded.';

create table if not exists raw.xbrl_facts (
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
    primary key (cik, taxonomy, concept, unit, period, accn)
);
comment on table raw.xbrl_facts is 'SEC companyfacts as filed: one row per fact per filing that reported it, so restatements keep every version. Every taxonomy and unit.';
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
comment on column raw.xbrl_facts.payload_sha256 is 'sha256 of the raw-zone companyfacts payload this row came from (meta.payloads).';
comment on column raw.xbrl_facts.run_id is 'The run that loaded this row.';
comment on column raw.xbrl_facts.loaded_at is 'When this row was loaded.';

create table if not exists raw.filings (
    cik bigint not null,
    accession_number varchar not null,
    form varchar not null,
    filing_date date not null,
    report_date date,
    acceptance_datetime timestamptz,
    act varchar,
    file_number varchar,
    film_number varchar,
    items varchar,
    core_type varchar,
    size bigint,
    is_xbrl boolean,
    is_inline_xbrl boolean,
    primary_document varchar,
    primary_doc_description varchar,
    payload_sha256 varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null,
    primary key (cik, accession_number)
);
comment on table raw.filings is 'SEC EDGAR filings index from submissions (recent and archive files), one row per (cik, accession).';
comment on column raw.filings.cik is 'SEC Central Index Key whose submissions listed the filing.';
comment on column raw.filings.accession_number is 'Accession number, 0000000000-00-000000.';
comment on column raw.filings.form is 'Form type: 10-K, 10-Q, 8-K, 4, ...';
comment on column raw.filings.filing_date is 'Date filed.';
comment on column raw.filings.report_date is 'Period of report (end of the period covered); NULL where the form has none.';
comment on column raw.filings.acceptance_datetime is 'When EDGAR accepted the filing.';
comment on column raw.filings.act is 'Securities act the filing is under (33, 34, ...), empty if none.';
comment on column raw.filings.file_number is 'SEC file number.';
comment on column raw.filings.film_number is 'SEC film number.';
comment on column raw.filings.items is '8-K item numbers, comma-separated.';
comment on column raw.filings.core_type is 'EDGAR core form type.';
comment on column raw.filings.size is 'Size of the filing in bytes.';
comment on column raw.filings.is_xbrl is 'Whether the filing carries XBRL.';
comment on column raw.filings.is_inline_xbrl is 'Whether the filing carries inline XBRL.';
comment on column raw.filings.primary_document is 'File name of the primary document.';
comment on column raw.filings.primary_doc_description is 'Description of the primary document.';
comment on column raw.filings.payload_sha256 is 'sha256 of the raw-zone submissions payload this row came from.';
comment on column raw.filings.run_id is 'The run that loaded this row.';
comment on column raw.filings.loaded_at is 'When this row was loaded.';

create table if not exists raw.companies (
    ticker varchar primary key,
    cik bigint not null,
    name varchar not null,
    fiscal_year_end varchar not null
);
comment on table raw.companies is 'The companies whose SEC filings are fetched: seeds/companies.csv as of the last filings run.';
comment on column raw.companies.ticker is 'Ticker shown in the marts.';
comment on column raw.companies.cik is 'SEC Central Index Key.';
comment on column raw.companies.name is 'Company name.';
comment on column raw.companies.fiscal_year_end is 'Month and day the fiscal year ends, MMDD; 52/53-week years end within 7 days of it.';

create table if not exists raw.concept_map (
    metric varchar not null,
    period varchar not null,
    priority integer not null,
    taxonomy varchar not null,
    concept varchar not null,
    primary key (metric, priority)
);
comment on table raw.concept_map is 'Metric -> ordered candidate XBRL concepts: seeds/concept_map.csv as of the last filings run.';
comment on column raw.concept_map.metric is 'Metric name: capex, operating_cash_flow, revenue, current_debt, noncurrent_debt, total_debt, stockholders_equity, rpo.';
comment on column raw.concept_map.period is 'duration (a flow, made into discrete quarters) or instant (a balance).';
comment on column raw.concept_map.priority is 'Lower wins: per company and period the first candidate with a value is used.';
comment on column raw.concept_map.taxonomy is 'XBRL taxonomy of the concept.';
comment on column raw.concept_map.concept is 'XBRL concept.';

create table if not exists meta.runs (
    run_id varchar primary key,
    flow varchar not null,
    mode varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,
    message varchar
);
comment on table meta.runs is 'One row per pipeline run.';
comment on column meta.runs.run_id is 'UTC start time and a random suffix.';
comment on column meta.runs.flow is 'The flow that ran: daily, ingest_prices, ingest_filings, build, import_prices.';
comment on column meta.runs.mode is 'live, replay <dir>, sample, or import.';
comment on column meta.runs.started_at is 'When the run started.';
comment on column meta.runs.finished_at is 'When it ended; NULL while running or if it died.';
comment on column meta.runs.status is 'running, succeeded or failed.';
comment on column meta.runs.message is 'The one-line outcome.';

create table if not exists meta.payloads (
    sha256 varchar primary key,
    path varchar not null,
    source varchar not null,
    ticker varchar,
    rows bigint not null,
    run_id varchar not null,
    loaded_at timestamptz not null
);
comment on table meta.payloads is 'Every raw payload loaded: where it lies and what it held.';
comment on column meta.payloads.sha256 is 'sha256 of the payload bytes.';
comment on column meta.payloads.path is 'Where the payload was read from.';
comment on column meta.payloads.source is 'yahoo or sec.';
comment on column meta.payloads.ticker is 'The ticker the payload is about, where it is about one.';
comment on column meta.payloads.rows is 'Rows read from it.';
comment on column meta.payloads.run_id is 'The run that last loaded it.';
comment on column meta.payloads.loaded_at is 'When it was last loaded.';

create table if not exists meta.validations (
    run_id varchar not null,
    suite varchar not null,
    success boolean not null,
    evaluated integer not null,
    failed integer not null,
    summary varchar not null,
    report_path varchar not null,
    validated_at timestamptz not null,
    primary key (run_id, suite)
);
comment on table meta.validations is 'Great Expectations results, one row per suite run.';
comment on column meta.validations.run_id is 'The run that validated.';
comment on column meta.validations.suite is 'The suite: raw_prices, relative_performance, ...';
comment on column meta.validations.success is 'Whether every expectation passed.';
comment on column meta.validations.evaluated is 'Expectations evaluated.';
comment on column meta.validations.failed is 'Expectations that failed.';
comment on column meta.validations.summary is 'Which expectations failed on which rows.';
comment on column meta.validations.report_path is 'The full JSON report.';
comment on column meta.validations.validated_at is 'When the suite ran.';

create table if not exists meta.sec_http (
    url varchar primary key,
    etag varchar,
    last_modified varchar,
    sha256 varchar not null,
    run_id varchar not null,
    loaded_at timestamptz not null
);
comment on table meta.sec_http is 'Per SEC URL, the validators and hash of the payload last loaded from it, for conditional GETs.';
comment on column meta.sec_http.url is 'The data.sec.gov URL.';
comment on column meta.sec_http.etag is 'ETag SEC sent with it, sent back as If-None-Match.';
comment on column meta.sec_http.last_modified is 'Last-Modified SEC sent with it, sent back as If-Modified-Since.';
comment on column meta.sec_http.sha256 is 'sha256 of the body: an unchanged body is not stored or loaded again.';
comment on column meta.sec_http.run_id is 'The run that loaded it.';
comment on column meta.sec_http.loaded_at is 'When it was loaded.';

-- Not a model in transforms/: the runner rebuilds those from scratch, and the scorecard keeps its
-- history. pipeline/build/scorecard.py appends each run's rows after the marts are validated.
create table if not exists marts.thesis_scorecard (
    claim_id varchar not null,
    statement varchar not null,
    value double,
    threshold varchar not null,
    status varchar not null check (status in ('supported', 'not_supported', 'insufficient_data')),
    as_of date,
    evidence varchar not null,
    run_id varchar not null,
    primary key (run_id, claim_id)
);
comment on table marts.thesis_scorecard is 'Each claim of the thesis (seeds/claims.yml) as evaluated by each run: one row per claim per run, history kept.';
comment on column marts.thesis_scorecard.claim_id is 'The claim''s id in seeds/claims.yml.';
comment on column marts.thesis_scorecard.statement is 'The claim in plain words, as it read when evaluated.';
comment on column marts.thesis_scorecard.value is 'The claim''s metric on the data, in the unit its statement gives; NULL where the data is insufficient.';
comment on column marts.thesis_scorecard.threshold is 'The test the value must pass, e.g. <= -20 or between 180 and 210.';
comment on column marts.thesis_scorecard.status is 'supported, not_supported, or insufficient_data where an input table, row or value is missing.';
comment on column marts.thesis_scorecard.as_of is 'The date of the data the value comes from (the latest date the metric read).';
comment on column marts.thesis_scorecard.evidence is 'Which mart and rows the value comes from, or what is missing.';
comment on column marts.thesis_scorecard.run_id is 'The run that evaluated the claim (meta.runs).';
