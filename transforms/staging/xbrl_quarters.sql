-- Discrete fiscal quarters of every monetary duration concept, from the latest known facts.
-- 10-Q cash-flow facts are fiscal year-to-date, so: Q1 as tagged; Q2 = 6M - 3M; Q3 = 9M - 6M;
-- Q4 = FY - 9M, all sharing the fiscal year's start. The differences telescope, so the four
-- quarters always add up to the year. A directly tagged 3-month fact stands in where a
-- difference has no operands, and is kept beside a derived value as a cross-check (filers round
-- each figure separately, so the two often differ by a unit of rounding). A quarter that can be
-- neither derived nor read is absent. Per-share, ratio and share-count facts are not additive and
-- are left out.
with

facts as (
    select *
    from staging.xbrl_facts_latest
    where period_type in ('quarter', 'half', 'nine_months', 'year')
      and regexp_full_match(unit, '[A-Z]{3}')
),

years as (
    select cik, fiscal_year, fiscal_year_start from staging.fiscal_years
),

placed as (
    -- Each fact in the fiscal year that holds its start; its position is the day count from the
    -- year's start to its end, classified like durations.
    select
        facts.*,
        years.fiscal_year,
        years.fiscal_year_start,
        case
            when date_diff('day', years.fiscal_year_start, facts.period_end) between 84 and 98 then 1
            when date_diff('day', years.fiscal_year_start, facts.period_end) between 175 and 190 then 2
            when date_diff('day', years.fiscal_year_start, facts.period_end) between 266 and 280 then 3
            when date_diff('day', years.fiscal_year_start, facts.period_end) between 357 and 378 then 4
        end as fiscal_quarter
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

derived as (
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
        cur.value - prev.value as value,
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

combined as (
    select
        coalesce(derived.ticker, tagged.ticker) as ticker,
        coalesce(derived.cik, tagged.cik) as cik,
        coalesce(derived.taxonomy, tagged.taxonomy) as taxonomy,
        coalesce(derived.concept, tagged.concept) as concept,
        coalesce(derived.unit, tagged.unit) as unit,
        coalesce(derived.fiscal_year, tagged.fiscal_year) as fiscal_year,
        coalesce(derived.fiscal_quarter, tagged.fiscal_quarter) as fiscal_quarter,
        coalesce(derived.period_start, tagged.period_start) as period_start,
        coalesce(derived.period_end, tagged.period_end) as period_end,
        coalesce(derived.value, tagged.value) as value,
        derived.value is not null as is_derived,
        tagged.value as tagged_value,
        derived.operands,
        coalesce(derived.accessions, [tagged.accn]) as accessions,
        coalesce(derived.filed, tagged.filed) as filed
    from derived
    full outer join tagged
        on tagged.cik = derived.cik
        and tagged.taxonomy = derived.taxonomy
        and tagged.concept = derived.concept
        and tagged.unit = derived.unit
        and tagged.period_end = derived.period_end
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
        -- The calendar quarter holding (end - 45 days): Oracle's Aug 31 quarter is Q3, NVIDIA's
        -- late-January quarter Q4 of the year before.
        year(period_end - 45) || 'Q' || quarter(period_end - 45) as calendar_quarter,
        value,
        is_derived,
        tagged_value,
        operands,
        accessions,
        filed
    from combined
    order by cik, taxonomy, concept, unit, period_end
)

select * from final
