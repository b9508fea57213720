-- The latest known version of every XBRL fact: one row per (cik, taxonomy, concept, unit, period).
with

source as (
    select * from staging.xbrl_facts
),

final as (
    select * exclude (superseded_on, is_latest)
    from source
    where is_latest
)

select * from final
