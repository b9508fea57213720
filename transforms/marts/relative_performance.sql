-- Each configured ticker against its benchmark, one row per session both traded.
-- Parameters: measured (each ticker and its benchmark), anchor_date, and the change scope
-- (staging.rederive_since): in an incremental build only the rows from the first changed session
-- on are derived, from the mart's own earlier rows ({{ this }}) and the new bars; in a full build,
-- every row, from the bars alone ({{ this }} is then empty).
with

measured as (
    select measured.ticker, measured.benchmark
    from (select unnest(getvariable('measured'), recursive := true)) as measured
    where measured.ticker <> measured.benchmark
),

scope as (
    -- Where rows are derived: from the first session whose ticker or benchmark bar changed.
    select ticker, since
    from (
        select ticker, least(staging.rederive_since(ticker), staging.rederive_since(benchmark)) as since
        from measured
    )
    where since is not null
),

earliest as (
    -- The first changed session of any ticker: a constant, so the scans below skip what precedes
    -- it (and its lookback) by the zonemaps on `date`.
    select staging.changed_from() as since
),

prices as (
    select ticker, date, adj_close from staging.prices
    where date >= (select since from earliest)
),

paired as (
    -- The bars from `since` on, the rows to derive.
    select
        prices.date,
        prices.ticker,
        measured.benchmark,
        prices.adj_close,
        benchmark.adj_close as benchmark_adj_close,
        scope.since
    from prices
    inner join measured on measured.ticker = prices.ticker
    inner join prices as benchmark on benchmark.ticker = measured.benchmark and benchmark.date = prices.date
    inner join scope on scope.ticker = prices.ticker
    where prices.date >= scope.since
),

-- The mart's rows before `since`, which no changed bar reaches ({{ this }}, aliased `previous`):
-- the same values a full build derives, and all that is read of the earlier history. Each read
-- filters the table itself, so that its scan skips what it does not need.

anchor as (
    -- The anchor row: stored before `since` (its closes as stored, not derived back from `rebased`),
    -- or among the bars from `since` on.
    select
        ticker,
        arg_min(adj_close, date) as anchor_adj_close,
        arg_min(benchmark_adj_close, date) as anchor_benchmark_adj_close
    from (
        select previous.ticker, previous.date, previous.adj_close, previous.benchmark_adj_close
        from {{ this }} as previous
        inner join scope using (ticker)
        where previous.date >= getvariable('anchor_date') and previous.date < scope.since
        union all
        select ticker, date, adj_close, benchmark_adj_close from paired
        where date >= getvariable('anchor_date')
    )
    group by ticker
),

peak as (
    -- The running peak before `since`: the close of the last new high, where drawdown is exactly 0
    -- (a / a - 1) and only there.
    select ticker, arg_max(previous.adj_close, previous.date) as earlier_peak
    from {{ this }} as previous
    inner join scope using (ticker)
    where previous.drawdown = 0 and previous.date < scope.since
    group by ticker
),

counted as (
    -- How many of each ticker's rows precede `since`, and so how many of the last ones its windows
    -- read: 252, for the lagged returns (the 60-session sums are exact, see `units`, so where their
    -- window starts makes no difference).
    select ticker, least(count(*), 252) as kept
    from {{ this }} as previous
    inner join scope using (ticker)
    where previous.date < scope.since
    group by ticker
),

recent as materialized (
    -- The rows within 550 days before `since`: the kept ones, for a ticker trading daily.
    select previous.ticker, previous.date, previous.adj_close, previous.benchmark_adj_close
    from {{ this }} as previous
    inner join scope using (ticker)
    where previous.date >= (select since from earliest) - 550
        and previous.date >= scope.since - 550
        and previous.date < scope.since
),

enough as (
    select recent.ticker from recent inner join counted using (ticker)
    group by recent.ticker, counted.kept having count(*) >= counted.kept
),

sparse as (
    select scope.ticker, scope.since from scope semi join counted using (ticker) anti join enough using (ticker)
),

candidates as (
    -- The recent rows where they hold the kept ones, else all of a ticker's rows before `since`.
    select ticker, date, adj_close, benchmark_adj_close from recent semi join enough using (ticker)
    union all
    select previous.ticker, previous.date, previous.adj_close, previous.benchmark_adj_close
    from {{ this }} as previous
    inner join sparse using (ticker)
    where previous.date < sparse.since
),

lookback as (
    -- The kept rows: the last `kept` of each ticker's candidates.
    select candidates.ticker, candidates.date, candidates.adj_close, candidates.benchmark_adj_close
    from (
        select *, row_number() over (partition by ticker order by date desc) as back from candidates
    ) as candidates
    inner join counted using (ticker)
    where candidates.back <= counted.kept
),

windowed as (
    -- The kept rows, then the bars to derive, which carry their benchmark and `since` already: joined
    -- again, the millions of a full build's rows would be looked up twice more.
    select lookback.ticker, measured.benchmark, scope.since, lookback.date, lookback.adj_close,
        lookback.benchmark_adj_close
    from lookback
    inner join scope using (ticker)
    inner join measured using (ticker)
    union all
    select ticker, benchmark, since, date, adj_close, benchmark_adj_close from paired
),

daily_returns as (
    select
        windowed.*,
        anchor.anchor_adj_close,
        anchor.anchor_benchmark_adj_close,
        peak.earlier_peak,
        adj_close / lag(adj_close) over session - 1 as daily_return,
        benchmark_adj_close / lag(benchmark_adj_close) over session - 1 as benchmark_daily_return
    from windowed
    left join anchor using (ticker)
    left join peak using (ticker)
    window session as (partition by windowed.ticker order by windowed.date)
),

units as (
    -- Each session's pair of daily returns in units of 1e-12, as integers, where both are known and
    -- below 1e5 (10,000,000%) in size. Sums of integers are exact: the 60-session sums below are the
    -- same whatever order DuckDB adds them in. Its own aggregates over a sliding window (regr_slope,
    -- corr) are not: their last bits follow how its window operator lays out the rows, the other
    -- tickers' included, so a full build's history changed when a session was added to every ticker,
    -- and an increment could not give a full build's bits. The bound keeps the sums within HUGEINT.
    select
        daily_returns.*,
        case when abs(daily_return) < 1e5 and abs(benchmark_daily_return) < 1e5
            then round(daily_return * 1e12)::bigint end as r,
        case when abs(daily_return) < 1e5 and abs(benchmark_daily_return) < 1e5
            then round(benchmark_daily_return * 1e12)::bigint end as b
    from daily_returns
),

derived as (
    select
        date,
        ticker,
        benchmark,
        adj_close,
        benchmark_adj_close,
        100 * adj_close / anchor_adj_close as rebased,
        100 * benchmark_adj_close / anchor_benchmark_adj_close as benchmark_rebased,
        100 * (adj_close / anchor_adj_close) / (benchmark_adj_close / anchor_benchmark_adj_close)
            as relative_strength,
        adj_close / anchor_adj_close - benchmark_adj_close / anchor_benchmark_adj_close
            as excess_return_since_anchor,
        adj_close / lag(adj_close, 21) over session - 1 as return_21d,
        adj_close / lag(adj_close, 63) over session - 1 as return_63d,
        adj_close / lag(adj_close, 126) over session - 1 as return_126d,
        adj_close / lag(adj_close, 252) over session - 1 as return_252d,
        adj_close / greatest(
            coalesce(earlier_peak, adj_close),
            max(adj_close) over (session rows between unbounded preceding and current row)
        ) - 1 as drawdown,
        count(r) over last_60 as pairs,
        sum(r) over last_60 as sum_r,
        sum(b) over last_60 as sum_b,
        sum(r::hugeint * r) over last_60 as sum_rr,
        sum(b::hugeint * b) over last_60 as sum_bb,
        sum(r::hugeint * b) over last_60 as sum_rb,
        since
    from units
    window
        session as (partition by ticker order by date),
        last_60 as (partition by ticker order by date rows between 59 preceding and current row)
),

final as (
    -- Ordered by date, so the zonemaps on `date` let the next increment read only its window. By date
    -- alone: a second key would cost 2 s more of a full build's 30 s at 5,000 tickers, and no reader
    -- needs it (the parquet is written in the key's order).
    select
        * exclude (pairs, sum_r, sum_b, sum_rr, sum_bb, sum_rb, since),
        -- Least squares and Pearson's r from the exact sums: n * sum(rb) - sum(r) * sum(b) and the like
        -- are exact integers, each rounded once to a double. NaN where the benchmark did not move, as
        -- regr_slope and corr give.
        case when pairs = 60 then (pairs * sum_rb - sum_r * sum_b)::double / (pairs * sum_bb - sum_b * sum_b)::double
        end as beta_60d,
        case when pairs = 60 then (pairs * sum_rb - sum_r * sum_b)::double
            / sqrt((pairs * sum_rr - sum_r * sum_r)::double * (pairs * sum_bb - sum_b * sum_b)::double)
        end as corr_60d
    from derived where date >= since
    order by date
)

select * from final
