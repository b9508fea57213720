-- Discrete fiscal quarters of every monetary duration concept, from the facts known on the
-- build's as-of date. A quarter's value is the figure the company reported for it: a directly
-- tagged 3-month fact where one was filed. Where none was, it is derived from fiscal year-to-date
-- facts (10-Q cash flows are year to date): Q2 = 6M - 3M, Q3 = 9M - 6M, Q4 = FY - 9M, all sharing
-- the fiscal year's start; both operands are facts known on the as-of date. Where both exist the
-- derived value is kept beside the tagged one and their gap (a unit of rounding, usually) has a
-- column of its own: the four quarters add up to the year less the sum of the gaps. A quarter
-- that can be neither read nor derived is absent. Each quarter also carries its value as first
-- reported: the first filing of the tagged fact, or the later operand's first filing less the
-- earlier operand as it stood then. Per-share, ratio and share-count facts are not additive and
-- are left out.
with

facts as (
    select *
    from staging.xbrl_facts_latest
    where period_type in ('quarter', 'half', 'nine_months', 'year')
      and staging.is_currency(unit)
),

versions as (
    -- Every version known on the as-of date, to read an operand as it stood on a given day.
    select cik, taxonomy, concept, unit, period, value, accn, filed
    from staging.xbrl_facts
    where filed <= staging.known_by()
),

years as (
    select cik, fiscal_year, fiscal_year_start from intermediate.fiscal_years
),

placed as (
    -- Each fact in the fiscal year that holds its start; its position is the day count from the
    -- year's start to its end, classified like durations.
    select
        facts.*,
        years.fiscal_year,
        years.fiscal_year_start,
        staging.quarters_spanned(date_diff('day', years.fiscal_year_start, facts.period_end)) as fiscal_quarter
    from facts
    asof inner join years on facts.cik = years.cik and facts.period_start >= years.fiscal_year_start
),

year_to_date as (
    select * from placed
    where period_start = fiscal_year_start and fiscal_quarter is not null
),

tagged as (
    -- At most one 3-month fact per quarter end: the last filed.
    select * from placed
    where period_type = 'quarter' and fiscal_quarter is not null
    qualify row_number() over (
        partition by cik, taxonomy, concept, unit, period_end order by filed desc, period_start desc) = 1
),

differenced as (
    select
        cur.ticker,
        cur.cik,
        cur.taxonomy,
        cur.concept,
        cur.unit,
        cur.fiscal_year,
        cur.fiscal_quarter,
        prev.period_end + 1 as period_start,
        cur.period_end,
        prev.period as prev_period,
        cur.value - prev.value as value,
        cur.first_value,
        cur.first_accn,
        cur.first_filed,
        prev.first_value as prev_first_value,
        prev.first_accn as prev_first_accn,
        [
            {'sign': 1, 'period_start': cur.period_start, 'period_end': cur.period_end,
             'value': cur.value, 'accn': cur.accn, 'filed': cur.filed},
            {'sign': -1, 'period_start': prev.period_start, 'period_end': prev.period_end,
             'value': prev.value, 'accn': prev.accn, 'filed': prev.filed}
        ] as operands,
        list_distinct([cur.accn, prev.accn]) as accessions,
        greatest(cur.filed, prev.filed) as filed
    from year_to_date as cur
    inner join year_to_date as prev
        on prev.cik = cur.cik
        and prev.taxonomy = cur.taxonomy
        and prev.concept = cur.concept
        and prev.unit = cur.unit
        and prev.fiscal_year_start = cur.fiscal_year_start
        and prev.fiscal_quarter = cur.fiscal_quarter - 1
),

derived as (
    -- As first reported: the later operand's first version less the earlier operand as it stood
    -- on that filing's day (its first version, if it was first filed only later).
    select
        differenced.* exclude (first_value, first_accn, first_filed, prev_first_value, prev_first_accn),
        differenced.first_value - coalesce(prior.value, differenced.prev_first_value) as first_value,
        list_distinct([differenced.first_accn, coalesce(prior.accn, differenced.prev_first_accn)])
            as first_accessions,
        differenced.first_filed
    from differenced
    asof left join versions as prior
        on prior.cik = differenced.cik
        and prior.taxonomy = differenced.taxonomy
        and prior.concept = differenced.concept
        and prior.unit = differenced.unit
        and prior.period = differenced.prev_period
        and differenced.first_filed >= prior.filed
),

combined as (
    select
        coalesce(tagged.ticker, derived.ticker) as ticker,
        coalesce(tagged.cik, derived.cik) as cik,
        coalesce(tagged.taxonomy, derived.taxonomy) as taxonomy,
        coalesce(tagged.concept, derived.concept) as concept,
        coalesce(tagged.unit, derived.unit) as unit,
        coalesce(tagged.fiscal_year, derived.fiscal_year) as fiscal_year,
        coalesce(tagged.fiscal_quarter, derived.fiscal_quarter) as fiscal_quarter,
        coalesce(tagged.period_start, derived.period_start) as period_start,
        coalesce(tagged.period_end, derived.period_end) as period_end,
        coalesce(tagged.value, derived.value) as value,
        tagged.value is null as is_derived,
        tagged.value as tagged_value,
        derived.value as derived_value,
        tagged.value - derived.value as tagged_derived_gap,
        derived.operands,
        case when tagged.value is not null then [tagged.accn] else derived.accessions end as accessions,
        coalesce(tagged.filed, derived.filed) as filed,
        case when tagged.value is not null then tagged.first_value else derived.first_value end
            as first_reported_value,
        case when tagged.value is not null then [tagged.first_accn] else derived.first_accessions end
            as first_reported_accessions,
        coalesce(tagged.first_filed, derived.first_filed) as first_filed
    from tagged
    full outer join derived
        on derived.cik = tagged.cik
        and derived.taxonomy = tagged.taxonomy
        and derived.concept = tagged.concept
        and derived.unit = tagged.unit
        and derived.period_end = tagged.period_end
),

final as (
    select
        ticker,
        cik,
        taxonomy,
        concept,
        unit,
        fiscal_year,
        fiscal_quarter,
        period_start,
        period_end,
        staging.calendar_quarter(period_end) as calendar_quarter,
        value,
        is_derived,
        tagged_value,
        derived_value,
        tagged_derived_gap,
        operands,
        accessions,
        filed,
        first_reported_value,
        first_reported_accessions,
        first_filed
    from combined
    order by cik, taxonomy, concept, unit, period_end
)

select * from final
