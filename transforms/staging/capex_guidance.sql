-- The guidance ledger as loaded: one row per management statement on capex stated on or before
-- the build's as-of date.
with

source as (
    select * from raw.capex_guidance
),

renamed as (
    select
        ticker,
        fiscal_period,
        statement_date,
        date_precision,
        low_usd_bn,
        high_usd_bn,
        point_usd_bn,
        qualitative,
        basis,
        quote,
        source_url,
        evidence
    from source
),

final as (
    select * from renamed
    where statement_date <= staging.known_by()
)

select * from final
