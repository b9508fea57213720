-- Each capex guidance statement, typed, and linked to the earlier statement it revised: the
-- previous statement by the same company on the same fiscal period.
with

statements as (
    select * from staging.capex_guidance
),

typed as (
    select
        *,
        cast(regexp_extract(fiscal_period, '^[A-Z]{2}(\d{4})', 1) as integer) as fiscal_year,
        case
            when fiscal_period like 'CY%' then 'calendar_year'
            when fiscal_period like '%Q_' then 'fiscal_quarter'
            when fiscal_period like '%H_' then 'fiscal_half'
            else 'fiscal_year'
        end as period_kind,
        cast(nullif(regexp_extract(fiscal_period, '[QH]([1-4])$', 1), '') as integer) as period_number,
        -- An "at least" floor alone has no midpoint.
        coalesce(point_usd_bn, (low_usd_bn + high_usd_bn) / 2) as mid_usd_bn
    from statements
),

revisions as (
    select
        typed.*,
        row_number() over chain - 1 as revision_number,
        lag(statement_date) over chain as revises_statement_date,
        lag(low_usd_bn) over chain as previous_low_usd_bn,
        lag(high_usd_bn) over chain as previous_high_usd_bn,
        lag(mid_usd_bn) over chain as previous_mid_usd_bn,
        lead(statement_date) over chain as superseded_on
    from typed
    window chain as (partition by ticker, fiscal_period order by statement_date)
),

final as (
    select
        concat_ws('|', ticker, fiscal_period, strftime(statement_date, '%Y-%m-%d')) as statement_id,
        ticker,
        fiscal_period,
        fiscal_year,
        period_kind,
        period_number,
        statement_date,
        date_precision,
        low_usd_bn,
        high_usd_bn,
        point_usd_bn,
        mid_usd_bn,
        qualitative,
        basis,
        quote,
        source_url,
        evidence,
        revision_number,
        revises_statement_date,
        case when revises_statement_date is not null
            then concat_ws('|', ticker, fiscal_period, strftime(revises_statement_date, '%Y-%m-%d'))
        end as revises_statement_id,
        previous_low_usd_bn,
        previous_high_usd_bn,
        previous_mid_usd_bn,
        mid_usd_bn - previous_mid_usd_bn as change_in_mid_usd_bn,
        superseded_on
    from revisions
    order by ticker, fiscal_period, statement_date
)

select * from final
