-- Debt, equity, cash flow and RPO per company and fiscal quarter end, in the company's reporting
-- currency, as latest known on the build's as-of date and as first reported.
with

metrics as (
    select * from intermediate.metric_quarters
    where staging.cik_changed(cik)
      and metric in ('capex', 'operating_cash_flow', 'current_debt', 'noncurrent_debt', 'total_debt',
                     'stockholders_equity', 'rpo')
),

used as (
    -- Total debt is current + non-current where a non-current concept has a value; a total-debt
    -- concept only stands in where none has.
    select * from metrics
    qualify metric <> 'total_debt'
        or not bool_or(metric = 'noncurrent_debt') over (partition by cik, period_end)
),

pivoted as (
    select
        ticker,
        cik,
        period_end,
        currency,
        max(fiscal_year) as fiscal_year,
        max(fiscal_quarter) as fiscal_quarter,
        max(calendar_quarter) as calendar_quarter,
        max(value) filter (where metric = 'current_debt') as current_debt,
        max(value) filter (where metric = 'noncurrent_debt') as noncurrent_debt,
        max(value) filter (where metric = 'total_debt') as total_debt_reported,
        max(value) filter (where metric = 'stockholders_equity') as stockholders_equity,
        max(value) filter (where metric = 'operating_cash_flow') as operating_cash_flow,
        max(value) filter (where metric = 'capex') as capex,
        max(value) filter (where metric = 'rpo') as rpo,
        max(first_reported_value) filter (where metric = 'current_debt') as current_debt_first_reported,
        max(first_reported_value) filter (where metric = 'noncurrent_debt') as noncurrent_debt_first_reported,
        max(first_reported_value) filter (where metric = 'total_debt') as total_debt_reported_first_reported,
        max(first_reported_value) filter (where metric = 'stockholders_equity') as stockholders_equity_first_reported,
        max(first_reported_value) filter (where metric = 'operating_cash_flow') as operating_cash_flow_first_reported,
        max(first_reported_value) filter (where metric = 'capex') as capex_first_reported,
        max(first_reported_value) filter (where metric = 'rpo') as rpo_first_reported,
        list_sort(list_distinct(flatten(list(accessions)))) as source_accessions,
        max(filed) as last_filed,
        list_sort(list_distinct(flatten(list(first_reported_accessions)))) as first_reported_accessions,
        max(first_filed) as first_reported_filed
    from used
    group by ticker, cik, period_end, currency
),

measured as (
    select
        *,
        case when noncurrent_debt is not null then coalesce(current_debt, 0) + noncurrent_debt
             else total_debt_reported end as total_debt,
        case when noncurrent_debt_first_reported is not null
             then coalesce(current_debt_first_reported, 0) + noncurrent_debt_first_reported
             else total_debt_reported_first_reported end as total_debt_first_reported,
        operating_cash_flow - capex as free_cash_flow,
        operating_cash_flow_first_reported - capex_first_reported as free_cash_flow_first_reported
    from pivoted
),

rolled as (
    select
        *,
        -- Four quarter ends fall within 300 days (13- and 14-week quarters included); a fifth does not.
        case when count(free_cash_flow) over last_year = 4 then sum(free_cash_flow) over last_year end
            as free_cash_flow_ttm
    from measured
    window last_year as (partition by ticker order by period_end range between interval 300 days preceding
                         and current row)
),

final as (
    select
        cur.ticker,
        cur.cik,
        cur.fiscal_year,
        cur.fiscal_quarter,
        cur.period_end,
        cur.calendar_quarter,
        cur.currency,
        cur.total_debt,
        cur.stockholders_equity,
        case when cur.stockholders_equity > 0 then cur.total_debt / cur.stockholders_equity end as debt_to_equity,
        cur.operating_cash_flow,
        cur.capex,
        cur.free_cash_flow,
        cur.free_cash_flow_ttm,
        cur.rpo,
        cur.rpo / prior.rpo - 1 as rpo_yoy_growth,
        cur.source_accessions,
        cur.last_filed,
        cur.total_debt_first_reported,
        cur.stockholders_equity_first_reported,
        cur.operating_cash_flow_first_reported,
        cur.capex_first_reported,
        cur.free_cash_flow_first_reported,
        cur.rpo_first_reported,
        cur.first_reported_accessions,
        cur.first_reported_filed
    from rolled as cur
    left join rolled as prior
        on prior.ticker = cur.ticker
        and prior.fiscal_year = cur.fiscal_year - 1
        and prior.fiscal_quarter = cur.fiscal_quarter
    where coalesce(cur.total_debt, cur.stockholders_equity, cur.operating_cash_flow, cur.capex, cur.rpo) is not null
    order by cur.ticker, cur.period_end
)

select * from final
