-- Hyperscaler capex per calendar quarter: the level, trailing twelve months, their growth, and the
-- change in TTM growth from the previous quarter (the slope), with the guidance in force. Each
-- company in its reporting currency; the aggregate sums US dollars only.
-- Parameters: hyperscalers.
with

capex as (
    select
        ticker,
        fiscal_year,
        fiscal_quarter,
        period_end,
        calendar_quarter,
        currency,
        value as capex,
        first_reported_value as capex_first_reported,
        -- Calendar quarters as consecutive integers, so a year earlier is always 4 less.
        cast(left(calendar_quarter, 4) as integer) * 4 + cast(right(calendar_quarter, 1) as integer) - 1
            as quarter_number
    from intermediate.metric_quarters
    where metric = 'capex' and list_contains(getvariable('hyperscalers'), ticker)
),

companies as (
    select ticker, fiscal_year, fiscal_quarter, period_end, calendar_quarter, quarter_number, currency, capex,
           capex_first_reported, true as is_complete
    from capex
),

summed as (
    -- The companies the aggregate adds up: every one but those reporting in another currency than
    -- the US dollar, which are left out rather than added across currencies.
    select len(getvariable('hyperscalers')) - count(distinct ticker) filter (where currency <> 'USD') as companies
    from capex
),

dollar_quarters as (
    select
        calendar_quarter,
        quarter_number,
        max(period_end) as period_end,
        count(*) as reported,
        sum(capex) as capex,
        sum(capex_first_reported) as capex_first_reported
    from capex
    where currency = 'USD'
    group by calendar_quarter, quarter_number
),

aggregate as (
    -- A quarter is summed only when every company summed has reported it; otherwise it stays empty.
    select
        'HYPERSCALERS' as ticker,
        cast(null as integer) as fiscal_year,
        cast(null as integer) as fiscal_quarter,
        dollar_quarters.period_end,
        dollar_quarters.calendar_quarter,
        dollar_quarters.quarter_number,
        'USD' as currency,
        dollar_quarters.reported = summed.companies as is_complete,
        case when dollar_quarters.reported = summed.companies then dollar_quarters.capex end as capex,
        case when dollar_quarters.reported = summed.companies then dollar_quarters.capex_first_reported end
            as capex_first_reported
    from dollar_quarters
    cross join summed
),

series as (
    select
        *,
        case when count(capex) over last_4 = 4 then sum(capex) over last_4 end as capex_ttm
    from (select * from companies union all by name select * from aggregate)
    window last_4 as (partition by ticker order by quarter_number range between 3 preceding and current row)
),

growth as (
    select
        series.*,
        series.capex / year_ago.capex - 1 as capex_yoy_growth,
        series.capex_ttm / year_ago.capex_ttm - 1 as capex_ttm_yoy_growth
    from series
    left join series as year_ago
        on year_ago.ticker = series.ticker and year_ago.quarter_number = series.quarter_number - 4
),

slope as (
    select
        growth.*,
        growth.capex_ttm_yoy_growth - previous.capex_ttm_yoy_growth as ttm_growth_change
    from growth
    left join growth as previous
        on previous.ticker = growth.ticker and previous.quarter_number = growth.quarter_number - 1
),

prior_fiscal_year as (
    select ticker, fiscal_year + 1 as fiscal_year, sum(capex) as prior_fiscal_year_capex
    from capex
    group by ticker, fiscal_year
    having count(*) = 4
),

guidance as (
    -- Whole-year guidance, in US dollars (so only for a company reporting in them); a CY period is
    -- the fiscal year for calendar-year filers.
    select ticker, fiscal_year, statement_date, superseded_on, basis,
           low_usd_bn * 1e9 as low, high_usd_bn * 1e9 as high, mid_usd_bn * 1e9 as mid
    from marts.capex_guidance
    where period_kind in ('fiscal_year', 'calendar_year') and not qualitative
),

final as (
    select
        slope.ticker,
        slope.calendar_quarter,
        slope.period_end,
        slope.fiscal_year,
        slope.fiscal_quarter,
        slope.currency,
        slope.is_complete,
        slope.capex,
        slope.capex_first_reported,
        slope.capex_ttm,
        slope.capex_yoy_growth,
        slope.capex_ttm_yoy_growth,
        slope.ttm_growth_change,
        guidance.statement_date as guidance_statement_date,
        guidance.low as guidance_low,
        guidance.high as guidance_high,
        guidance.mid as guidance_mid,
        guidance.basis as guidance_basis,
        prior_fiscal_year.prior_fiscal_year_capex,
        guidance.mid / prior_fiscal_year.prior_fiscal_year_capex - 1 as guidance_implied_growth
    from slope
    left join guidance
        on guidance.ticker = slope.ticker
        and slope.currency = 'USD'
        and guidance.fiscal_year = slope.fiscal_year
        and guidance.statement_date <= slope.period_end
        and (guidance.superseded_on is null or guidance.superseded_on > slope.period_end)
    left join prior_fiscal_year
        on prior_fiscal_year.ticker = slope.ticker and prior_fiscal_year.fiscal_year = slope.fiscal_year
    order by slope.ticker, slope.calendar_quarter
)

select * from final
