-- Daily bars for the configured universe, typed and named as the marts use them.
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
    select *
    from renamed
    where list_contains(getvariable('universe'), ticker)
)

select * from final
