"""Hand-set marts.leverage and marts.capex_slope rows, with the columns those marts publish."""

import datetime as dt

import pandas as pd

LEVERAGE = {
    "ticker": "varchar",
    "cik": "varchar",
    "fiscal_year": "integer",
    "fiscal_quarter": "integer",
    "period_end": "date",
    "calendar_quarter": "varchar",
    "currency": "varchar",
    "total_debt": "double",
    "stockholders_equity": "double",
    "debt_to_equity": "double",
    "operating_cash_flow": "double",
    "capex": "double",
    "free_cash_flow": "double",
    "free_cash_flow_ttm": "double",
    "rpo": "double",
    "rpo_yoy_growth": "double",
    "source_accessions": "varchar[]",
    "last_filed": "date",
}
CAPEX_SLOPE = {
    "ticker": "varchar",
    "calendar_quarter": "varchar",
    "period_end": "date",
    "currency": "varchar",
    "capex": "double",
    "capex_ttm": "double",
    "capex_yoy_growth": "double",
    "capex_ttm_yoy_growth": "double",
    "ttm_growth_change": "double",
    "is_complete": "boolean",
    "fiscal_year": "integer",
    "guidance_low": "double",
    "guidance_high": "double",
    "guidance_mid": "double",
    "guidance_basis": "varchar",
    "guidance_implied_growth": "double",
}


def table(con, name, columns, rows):
    con.execute(f"create table {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    con.register("new_rows", pd.DataFrame(rows))
    con.execute(f"insert into {name} by name select * from new_rows")
    con.unregister("new_rows")


def leverage(con, **latest):
    table(
        con,
        "marts.leverage",
        LEVERAGE,
        [
            {
                "ticker": "ORCL",
                "fiscal_year": 2026,
                "fiscal_quarter": 1,
                "period_end": dt.date(2025, 8, 31),
                "currency": "USD",
                "total_debt": 92e9,
                "stockholders_equity": 24e9,
                "debt_to_equity": 92 / 24,
                "free_cash_flow_ttm": -5.9e9,
                "operating_cash_flow": 8.1e9,
                "capex": 8.5e9,
                "rpo": 455e9,
                "source_accessions": ["0000950170-25-118811"],
            },
            {
                "ticker": "ORCL",
                "fiscal_year": 2026,
                "fiscal_quarter": 2,
                "period_end": dt.date(2025, 11, 30),
                "currency": "USD",
                "total_debt": 108e9,
                "stockholders_equity": 26e9,
                "debt_to_equity": 108 / 26,
                "free_cash_flow_ttm": -13e9,
                "operating_cash_flow": 2.1e9,
                "capex": 12e9,
                "rpo": 523e9,
                "source_accessions": ["0000950170-25-160000"],
                **latest,
            },
        ],
    )


def slope_rows(reported, implied):
    """Per company: fiscal 2025's four complete quarters, then a 2026 row with the guidance."""
    rows = []
    for ticker, growth in reported.items():
        for q, end in enumerate(["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"], start=1):
            rows.append(
                {
                    "ticker": ticker,
                    "calendar_quarter": f"2025Q{q}",
                    "period_end": dt.date.fromisoformat(end),
                    "is_complete": True,
                    "fiscal_year": 2025,
                    "capex_ttm_yoy_growth": growth - 0.1 * (4 - q),
                    "capex": (10 + 2 * q) * 1e9,
                }
            )
    for ticker, growth in implied.items():
        rows.append(
            {
                "ticker": ticker,
                "calendar_quarter": "2026Q1",
                "period_end": dt.date(2026, 3, 31),
                "is_complete": False,
                "fiscal_year": 2026,
                "guidance_implied_growth": growth,
            }
        )
    # The aggregate's slope: +1 pp, then -2 pp and -1 pp, then an incomplete quarter at +5 pp.
    for quarter, end, change, complete in [
        ("2025Q2", "2025-06-30", 0.01, True),
        ("2025Q3", "2025-09-30", -0.02, True),
        ("2025Q4", "2025-12-31", -0.01, True),
        ("2026Q1", "2026-03-31", 0.05, False),
    ]:
        rows.append(
            {
                "ticker": "HYPERSCALERS",
                "calendar_quarter": quarter,
                "period_end": dt.date.fromisoformat(end),
                "ttm_growth_change": change,
                "is_complete": complete,
                "fiscal_year": int(quarter[:4]),
                "capex_ttm_yoy_growth": 0.5 + change,
            }
        )
    return rows


REPORTED = {"MSFT": 0.50, "GOOGL": 0.60, "AMZN": 0.40, "META": 0.35, "ORCL": 0.30}
