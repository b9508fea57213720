"""beta_60d and corr_60d written by hand for the floors, as transforms/marts/relative_performance.sql
derives them: each pair of daily returns in units of 1e-12 as integers, their sums over the last 60
sessions (exact, so the same in any order: the mart says why), then least squares and Pearson's r.

A floor selects `units(r, b)` beside its returns in a CTE, `SUMS_OVER_60` over them in the next one,
named `derived`, and ends with `FROM_DERIVED`."""

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
