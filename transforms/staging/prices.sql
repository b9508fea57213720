-- Daily bars as stored, typed and named as the marts use them, dated on or before the build's
-- as-of date (all of them where none is set, as in the analyst copy).
with

source as (
    select * from raw.prices
),

renamed as (
    select
        ticker,
        date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        close_is_adjusted
    from source
),

final as (
    select * from renamed
    where date <= staging.known_by()
)

select * from final
