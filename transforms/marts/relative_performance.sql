-- Each configured ticker against the benchmark, one row per session both traded.
-- Parameters: benchmark, tickers, anchor_date.
with

prices as (
    select ticker, date, adj_close from staging.prices
),

benchmark as (
    select date, adj_close as benchmark_adj_close
    from prices
    where ticker = getvariable('benchmark')
),

paired as (
    select
        prices.date,
        prices.ticker,
        getvariable('benchmark') as benchmark,
        prices.adj_close,
        benchmark.benchmark_adj_close
    from prices
    inner join benchmark using (date)
    where prices.ticker <> getvariable('benchmark')
      and list_contains(getvariable('tickers'), prices.ticker)
),

anchor as (
    -- The first session on or after the configured anchor date.
    select ticker, arg_min(adj_close, date) as anchor_adj_close,
           arg_min(benchmark_adj_close, date) as anchor_benchmark_adj_close
    from paired
    where date >= getvariable('anchor_date')
    group by ticker
),

daily_returns as (
    select
        paired.*,
        anchor.anchor_adj_close,
        anchor.anchor_benchmark_adj_close,
        adj_close / lag(adj_close) over session - 1 as daily_return,
        benchmark_adj_close / lag(benchmark_adj_close) over session - 1 as benchmark_daily_return
    from paired
    left join anchor using (ticker)
    window session as (partition by ticker order by date)
),

final as (
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
        adj_close / max(adj_close) over (session rows between unbounded preceding and current row) - 1
            as drawdown,
        case when regr_count(daily_return, benchmark_daily_return) over last_60 = 60
            then regr_slope(daily_return, benchmark_daily_return) over last_60 end as beta_60d,
        case when regr_count(daily_return, benchmark_daily_return) over last_60 = 60
            then corr(daily_return, benchmark_daily_return) over last_60 end as corr_60d
    from daily_returns
    window
        session as (partition by ticker order by date),
        last_60 as (partition by ticker order by date rows between 59 preceding and current row)
    order by ticker, date
)

select * from final
