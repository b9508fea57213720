-- Each company's fiscal years, read from its 12-month facts that end within 7 days of the
-- fiscal year end in seeds/companies.csv (52/53-week years end on a weekday near it). The day
-- after the last known year end starts the year in progress.
with

facts as (
    select cik, period_start, period_end
    from staging.xbrl_facts_latest
    where period_type = 'year'
),

companies as (
    select
        ticker,
        cik,
        cast(substr(fiscal_year_end, 1, 2) as integer) as end_month,
        cast(substr(fiscal_year_end, 3, 2) as integer) as end_day
    from raw.companies
),

years as (
    select distinct facts.cik, facts.period_start, facts.period_end
    from facts
    inner join companies using (cik)
    where least(
        abs(date_diff('day', make_date(year(period_end) - 1, end_month, end_day), period_end)),
        abs(date_diff('day', make_date(year(period_end), end_month, end_day), period_end)),
        abs(date_diff('day', make_date(year(period_end) + 1, end_month, end_day), period_end))
    ) <= 7
),

starts as (
    select cik, period_start as fiscal_year_start from years
    union
    select cik, period_end + 1 as fiscal_year_start from years
),

final as (
    select
        companies.ticker,
        starts.cik,
        -- Named for the calendar year it ends in: NVIDIA's FY2026 ends 2026-01-25, Oracle's FY2025 on 2025-05-31.
        year(starts.fiscal_year_start + 364) as fiscal_year,
        starts.fiscal_year_start,
        max(years.period_end) as fiscal_year_end
    from starts
    inner join companies using (cik)
    left join years on years.cik = starts.cik and years.period_start = starts.fiscal_year_start
    group by all
    order by starts.cik, starts.fiscal_year_start
)

select * from final
