-- Each configured ticker against its benchmark, one row per session both traded.
-- Parameters: measured (each ticker and its benchmark), anchor_date, and the change scope
-- (staging.rederive_since): in an incremental build only the rows from the first changed session
-- on are derived, from the history they need; in a full build, every row.
with

measured as (
    select measured.ticker, measured.benchmark
    from (select unnest(getvariable('measured'), recursive := true)) as measured
    where measured.ticker <> measured.benchmark
),

prices as (
    select ticker, date, adj_close from staging.prices
),

paired as (
    select
        prices.date,
        prices.ticker,
        measured.benchmark,
        prices.adj_close,
        benchmark.adj_close as benchmark_adj_close
    from prices
    inner join measured on measured.ticker = prices.ticker
    inner join prices as benchmark on benchmark.ticker = measured.benchmark and benchmark.date = prices.date
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

history as (
    -- What a derived row needs from before `since`: the anchor, the running peak, and the last
    -- 252 sessions for the lagged returns; `lookback_from` is null where only all of it will do.
    select
        paired.ticker,
        scope.since,
        arg_min(paired.adj_close, paired.date) filter (where paired.date >= getvariable('anchor_date'))
            as anchor_adj_close,
        arg_min(paired.benchmark_adj_close, paired.date) filter (where paired.date >= getvariable('anchor_date'))
            as anchor_benchmark_adj_close,
        case
            when count(*) filter (where paired.date < scope.since - interval 550 day) = 0 then null
            when count(*) filter (where paired.date >= scope.since - interval 550 day and paired.date < scope.since)
                >= 252 then scope.since - interval 550 day
        end as lookback_from,
        max(paired.adj_close) filter (where paired.date < scope.since - interval 550 day) as earlier_peak
    from paired
    inner join scope using (ticker)
    group by paired.ticker, scope.since
),

daily_returns as (
    select
        paired.*,
        history.since,
        history.anchor_adj_close,
        history.anchor_benchmark_adj_close,
        case when history.lookback_from is not null then history.earlier_peak end as earlier_peak,
        adj_close / lag(adj_close) over session - 1 as daily_return,
        benchmark_adj_close / lag(benchmark_adj_close) over session - 1 as benchmark_daily_return
    from paired
    inner join history using (ticker)
    where history.lookback_from is null or paired.date >= history.lookback_from
    window session as (partition by paired.ticker order by paired.date)
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
        case when regr_count(daily_return, benchmark_daily_return) over last_60 = 60
            then regr_slope(daily_return, benchmark_daily_return) over last_60 end as beta_60d,
        case when regr_count(daily_return, benchmark_daily_return) over last_60 = 60
            then corr(daily_return, benchmark_daily_return) over last_60 end as corr_60d,
        since
    from daily_returns
    window
        session as (partition by ticker order by date),
        last_60 as (partition by ticker order by date rows between 59 preceding and current row)
),

final as (
    select * exclude (since) from derived where date >= since
)

select * from final
