"""The columns of marts.relative_performance written by hand for the floors (sample_run.py,
scale.py), each formula once, independent of transforms/marts/relative_performance.sql.

- `anchored(a0, b0, window)`: the columns a row's closes and its anchor closes give, rebased to
  return_252d.
- beta_60d and corr_60d as the mart derives them: each pair of daily returns in units of 1e-12 as
  integers, their sums over the last 60 sessions (exact, so the same in any order: the mart says
  why), then least squares and Pearson's r. A floor selects `units(r, b)` beside its returns in a
  CTE, `SUMS_OVER_60` over them in the next one, named `derived`, and ends with `FROM_DERIVED`.
"""

LAGS = (21, 63, 126, 252)  # sessions, return_21d .. return_252d


def anchored(a0: str, b0: str, window: str) -> str:
    """rebased, benchmark_rebased, relative_strength, excess_return_since_anchor and the lagged
    returns, from adj_close and benchmark_adj_close, their anchor closes `a0` and `b0`, and the
    lags over `window`."""
    lagged = ", ".join(f"adj_close / lag(adj_close, {n}) over {window} - 1 as return_{n}d" for n in LAGS)
    return (
        f"100 * adj_close / {a0} as rebased, 100 * benchmark_adj_close / {b0} as benchmark_rebased, "
        f"100 * (adj_close / {a0}) / (benchmark_adj_close / {b0}) as relative_strength, "
        f"adj_close / {a0} - benchmark_adj_close / {b0} as excess_return_since_anchor, {lagged}"
    )


SUMS = "pairs, sum_r, sum_b, sum_rr, sum_bb, sum_rb"


def units(r: str, b: str) -> str:
    """The returns `r` (the ticker's) and `b` (the benchmark's) as `r_units` and `b_units`."""
    both = f"abs({r}) < 1e5 and abs({b}) < 1e5"
    return (
        f"case when {both} then round({r} * 1e12)::bigint end as r_units, "
        f"case when {both} then round({b} * 1e12)::bigint end as b_units"
    )


LAST_60 = "(partition by ticker order by date rows between 59 preceding and current row)"
# The sums of the units over each ticker's last 60 sessions, named as in SUMS.
SUMS_OVER_60 = (
    f"count(r_units) over {LAST_60} as pairs, sum(r_units) over {LAST_60} as sum_r, "
    f"sum(b_units) over {LAST_60} as sum_b, sum(r_units::hugeint * r_units) over {LAST_60} as sum_rr, "
    f"sum(b_units::hugeint * b_units) over {LAST_60} as sum_bb, "
    f"sum(r_units::hugeint * b_units) over {LAST_60} as sum_rb"
)


BETA = """
    case when pairs = 60 then (pairs * sum_rb - sum_r * sum_b)::double / (pairs * sum_bb - sum_b * sum_b)::double
    end as beta_60d,
    case when pairs = 60 then (pairs * sum_rb - sum_r * sum_b)::double
        / sqrt((pairs * sum_rr - sum_r * sum_r)::double * (pairs * sum_bb - sum_b * sum_b)::double)
    end as corr_60d"""
FROM_DERIVED = f"select * exclude ({SUMS}), {BETA} from derived"
