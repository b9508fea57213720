-- Each company's metrics per fiscal quarter end, through the concept map: flows (capex, cash
-- from operations, revenue) as discrete quarters, balances (debt, equity, RPO) at the quarter
-- end, all in the company's reporting currency. Per period the first candidate concept (taxonomy
-- and concept) with a value wins, so a series stays continuous when a company re-tags. An
-- incremental build derives only the companies whose filings changed.
with

concept_map as (
    select metric, period, priority, taxonomy, concept from raw.concept_map
),

quarters as (
    -- Currency units only: xbrl_quarters holds nothing else.
    select * from intermediate.xbrl_quarters where ticker is not null and staging.cik_changed(cik)
),

period_ends as (
    -- The fiscal calendar: every quarter end seen in any concept, and every fiscal year end.
    select distinct cik, fiscal_year, fiscal_quarter, period_end, calendar_quarter from quarters
    union
    select cik, fiscal_year, 4, fiscal_year_end, staging.calendar_quarter(fiscal_year_end)
    from intermediate.fiscal_years
    where fiscal_year_end is not null and staging.cik_changed(cik)
),

flows as (
    select
        quarters.ticker,
        quarters.cik,
        concept_map.metric,
        concept_map.priority,
        quarters.taxonomy,
        quarters.concept,
        quarters.unit as currency,
        quarters.fiscal_year,
        quarters.fiscal_quarter,
        quarters.period_start,
        quarters.period_end,
        quarters.calendar_quarter,
        quarters.value,
        quarters.is_derived,
        quarters.tagged_derived_gap,
        quarters.operands,
        quarters.accessions,
        quarters.filed,
        quarters.first_reported_value,
        quarters.first_reported_accessions,
        quarters.first_filed
    from quarters
    inner join concept_map
        on concept_map.period = 'duration'
        and concept_map.taxonomy = quarters.taxonomy
        and concept_map.concept = quarters.concept
),

balances as (
    select
        facts.ticker,
        facts.cik,
        concept_map.metric,
        concept_map.priority,
        facts.taxonomy,
        facts.concept,
        facts.unit as currency,
        period_ends.fiscal_year,
        period_ends.fiscal_quarter,
        cast(null as date) as period_start,
        facts.period_end,
        period_ends.calendar_quarter,
        facts.value,
        false as is_derived,
        cast(null as double) as tagged_derived_gap,
        cast(null as struct(
            sign integer, period_start date, period_end date, value double, accn varchar, filed date
        )[]) as operands,
        [facts.accn] as accessions,
        facts.filed,
        facts.first_value as first_reported_value,
        [facts.first_accn] as first_reported_accessions,
        facts.first_filed
    from staging.xbrl_facts_latest as facts
    inner join concept_map
        on concept_map.period = 'instant'
        and concept_map.taxonomy = facts.taxonomy
        and concept_map.concept = facts.concept
    inner join period_ends
        on period_ends.cik = facts.cik
        and period_ends.period_end = facts.period_end
    where facts.period_type = 'instant' and staging.is_currency(facts.unit) and facts.ticker is not null
        and staging.cik_changed(facts.cik)
),

candidates as (
    select * from flows union all by name select * from balances
),

reporting_currencies as (
    -- The currency most of a company's candidate figures are in. A filer may tag a few figures in
    -- another (a 20-F's convenience translation into US dollars): they are never mixed in.
    select cik, currency
    from candidates
    group by cik, currency
    qualify row_number() over (partition by cik order by count(*) desc, currency) = 1
),

final as (
    select candidates.* exclude (priority)
    from candidates
    inner join reporting_currencies using (cik, currency)
    qualify row_number() over (partition by cik, metric, period_end order by priority, fiscal_year desc) = 1
    order by ticker, metric, period_end
)

select * from final
