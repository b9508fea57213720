-- Every XBRL fact at its latest version known on the build's as-of date (all of them without one).
with

source as (
    select * from staging.xbrl_facts_as_of(staging.known_by())
),

final as (
    select * from source
)

select * from final
