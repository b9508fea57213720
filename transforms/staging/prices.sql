-- Daily bars as stored, typed and named as the marts use them. A view reads no variables: the
-- analyst copy has none set.
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
)

select * from final
