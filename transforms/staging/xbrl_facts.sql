-- Every version of every XBRL fact as filed, with the company's ticker, the period's kind, and
-- when a later filing superseded it: the history. What was known on a date D is
-- staging.xbrl_facts_as_of(D).
with

source as (
    select * from raw.xbrl_facts
),

companies as (
    select ticker, cik from raw.companies
),

renamed as (
    select
        companies.ticker,
        source.cik,
        source.taxonomy,
        source.concept,
        source.unit,
        source.period,
        source.start as period_start,
        source."end" as period_end,
        source.val as value,
        source.accn,
        source.fy as filing_fiscal_year,
        source.fp as filing_fiscal_period,
        source.form,
        source.filed,
        source.frame,
        source.flags
    from source
    left join companies using (cik)
),

classified as (
    select
        *,
        date_diff('day', period_start, period_end) as duration_days,
        case
            when period_start is null then 'instant'
            else coalesce(
                ['quarter', 'half', 'nine_months', 'year'][
                    staging.quarters_spanned(date_diff('day', period_start, period_end))],
                'other')
        end as period_type
    from renamed
),

final as (
    select
        *,
        lead(filed) over versions as superseded_on,
        lead(filed) over versions is null as is_latest
    from classified
    window versions as (partition by cik, taxonomy, concept, unit, period order by filed, accn)
)

select * from final
