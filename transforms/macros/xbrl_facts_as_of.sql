-- What was known on a date: every XBRL fact at its latest version filed on or before it, with the
-- first version beside it, so a restatement known by then is the difference of the two.
with

known as (
    select * exclude (superseded_on, is_latest)
    from staging.xbrl_facts
    where filed <= d
),

versions as (
    select
        *,
        first_value(value) over period_versions as first_value,
        first_value(accn) over period_versions as first_accn,
        first_value(filed) over period_versions as first_filed,
        count(*) over period_versions as versions_known
    from known
    window period_versions as (
        partition by cik, taxonomy, concept, unit, period order by filed, accn
        rows between unbounded preceding and unbounded following
    )
),

final as (
    select *
    from versions
    qualify row_number() over (partition by cik, taxonomy, concept, unit, period order by filed desc, accn desc) = 1
)

select * from final
