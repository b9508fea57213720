"""Writes the bundled SEC sample: small companyfacts and submissions payloads in SEC's real JSON
format, with made-up figures. SAMPLE DATA, not what any company filed.

    .venv/bin/python sample/generate_sec.py

The sample is as of 2026-03-06 (AS_OF, the last price session of sample/generate.py's prices, and
sample/README.md): no filing date, acceptance time or period end in it is later; main() refuses to
write one that is.

Two filers, under the real CIKs so the company list maps them to tickers:
- an NVIDIA-like filer, fiscal years ending near the end of January: FY2025 (52 weeks,
  2024-01-29 .. 2025-01-26) and FY2026 (53 weeks, 2025-01-27 .. 2026-02-01, a 14-week fourth
  quarter; hypothetical: NVIDIA's real FY2026 was 52 weeks to 2026-01-25, its next 53-week year
  is FY2027). Cash-flow facts are year-to-date; capex switches from
  PaymentsToAcquirePropertyPlantAndEquipment (FY2025) to PaymentsToAcquireProductiveAssets
  (FY2026); the FY2026 Q1 10-Q restates FY2025 Q1 operating cash flow (500M -> 480M) as a
  comparative; an 8-K earnings release (2026-02-25, before the 10-K of 2026-03-04) carries a
  revenue fact with null fy/fp.
- an Oracle-like filer, fiscal year ending May 31: FY2025 and FY2026 Q1, whose debt moves from
  DebtCurrent + LongTermNotesPayable to NotesPayableCurrent + LongTermNotesAndLoans; capex goes
  back to FY2023.
- Microsoft-, Alphabet-, Amazon- and Meta-like filers with capex only, year-to-date in 10-Qs and
  10-Ks, so every hyperscaler reports calendar 2022Q3 .. 2025Q3 and the aggregate is complete.
Re-running writes identical files.
"""

from __future__ import annotations

import datetime as dt
import json
from itertools import accumulate
from pathlib import Path

HERE = Path(__file__).parent / "sec"
M = 1_000_000
AS_OF = dt.date(2026, 3, 6)  # the sample's as-of date: nothing in it is dated later


def fact(period: tuple[str, str] | str, millions: float, filing: dict) -> dict:
    """A duration (start, end) or an instant (end); fy and fp stay null on an 8-K, as SEC sends them."""
    start, end = period if isinstance(period, tuple) else (None, period)
    return {**({"start": start} if start else {}), "end": end, "val": round(millions * M), **filing}


def filing(accn: str, fy: int | None, fp: str | None, form: str, filed: str) -> dict:
    return {"accn": accn, "fy": fy, "fp": fp, "form": form, "filed": filed}


def year_to_date(start: str, ends: list[str], values: list[float], filings: list[dict]) -> list[dict]:
    return [fact((start, end), value, f) for end, value, f in zip(ends, values, filings, strict=True)]


def companyfacts(cik: int, name: str, concepts: dict[str, list[dict]]) -> dict:
    return {
        "cik": cik,
        "entityName": name,
        "facts": {
            "us-gaap": {
                concept: {
                    "label": concept,
                    "description": f"SAMPLE DATA, made up, as of {AS_OF}",
                    "units": {"USD": rows},
                }
                for concept, rows in concepts.items()
            }
        },
    }


def nvidia_like() -> dict:
    q25 = [
        filing("0001045810-24-000101", 2025, "Q1", "10-Q", "2024-05-29"),
        filing("0001045810-24-000102", 2025, "Q2", "10-Q", "2024-08-28"),
        filing("0001045810-24-000103", 2025, "Q3", "10-Q", "2024-11-20"),
        filing("0001045810-25-000023", 2025, "FY", "10-K", "2025-02-26"),
    ]
    q26 = [
        filing("0001045810-25-000101", 2026, "Q1", "10-Q", "2025-05-28"),
        filing("0001045810-25-000102", 2026, "Q2", "10-Q", "2025-08-27"),
        filing("0001045810-25-000103", 2026, "Q3", "10-Q", "2025-11-19"),
        filing("0001045810-26-000101", 2026, "FY", "10-K", "2026-03-04"),
    ]
    earnings_release = filing("0001045810-26-000100", None, None, "8-K", "2026-02-25")
    ends25 = ["2024-04-28", "2024-07-28", "2024-10-27", "2025-01-26"]  # 52 weeks
    ends26 = ["2025-04-27", "2025-07-27", "2025-10-26", "2026-02-01"]  # 53 weeks: Q4 is 14
    balance_dates = [*ends25, *ends26]
    filed_with = [*q25, *q26]
    return companyfacts(
        1045810,
        "SAMPLE DATA (NVIDIA-like filer, made up)",
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": year_to_date("2024-01-29", ends25, [100, 250, 420, 600], q25),
            "PaymentsToAcquireProductiveAssets": year_to_date("2025-01-27", ends26, [200, 450, 750, 1100], q26),
            "NetCashProvidedByUsedInOperatingActivities": [
                *year_to_date("2024-01-29", ends25, [500, 1100, 1800, 2600], q25),
                fact(("2024-01-29", "2024-04-28"), 480, q26[0]),  # the restatement, as a comparative
                *year_to_date("2025-01-27", ends26, [700, 1500, 2400, 3500], q26),
            ],
            "RevenueFromContractWithCustomerExcludingAssessedTax": [
                fact(("2025-10-27", "2026-02-01"), 3000, earnings_release),
                fact(("2025-01-27", "2026-02-01"), 10000, q26[3]),
            ],
            "LongTermDebtNoncurrent": [fact(d, 8000, f) for d, f in zip(balance_dates, filed_with, strict=True)],
            "LongTermDebtCurrent": [
                fact(d, 500 if i < 4 else 0, f) for i, (d, f) in enumerate(zip(balance_dates, filed_with, strict=True))
            ],
            "StockholdersEquity": [
                fact(d, 40000 + 5000 * i, f) for i, (d, f) in enumerate(zip(balance_dates, filed_with, strict=True))
            ],
            "RevenueRemainingPerformanceObligation": [
                fact(d, 1000 + 100 * i, f) for i, (d, f) in enumerate(zip(balance_dates, filed_with, strict=True))
            ],
        },
    )


# Discrete quarterly capex in US$ billions, from the first quarter of the first fiscal year listed.
HYPERSCALER_CAPEX = {
    # cik: (name, concept, fiscal year end month, first fiscal year, quarters)
    789019: (
        "Microsoft-like",
        "PaymentsToAcquirePropertyPlantAndEquipment",
        6,
        2023,
        [6.3, 6.8, 6.6, 10.7, 11.2, 11.5, 14.0, 19.0, 20.0, 22.6, 21.4, 24.2, 30.0],
    ),
    1652044: (
        "Alphabet-like",
        "PaymentsToAcquirePropertyPlantAndEquipment",
        12,
        2022,
        [9.8, 6.8, 7.3, 7.6, 6.3, 6.9, 8.1, 11.0, 12.0, 13.2, 13.1, 14.3, 17.2, 22.4, 24.0],
    ),
    1018724: (
        "Amazon-like",
        "PaymentsToAcquireProductiveAssets",
        12,
        2022,
        [15.7, 15.7, 16.4, 16.6, 14.2, 11.5, 12.5, 14.6, 14.9, 17.6, 22.6, 27.8, 25.0, 32.2, 35.1],
    ),
    1326801: (
        "Meta-like",
        "PaymentsToAcquirePropertyPlantAndEquipment",
        12,
        2022,
        [5.5, 7.7, 9.4, 9.2, 6.8, 6.1, 6.5, 7.7, 6.4, 8.5, 8.3, 14.4, 13.7, 17.0, 19.4],
    ),
}
ORACLE_EARLIER_CAPEX = [1.0, 1.2, 1.4, 1.5, 1.3, 1.5, 1.7, 1.8]  # FY2023 and FY2024, US$ billions


def month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def quarterly_capex(cik: int, year_end_month: int, first_fiscal_year: int, quarters: list[float]) -> list[dict]:
    """Year-to-date capex facts, as 10-Qs (Q1-Q3) and 10-Ks (the year) report them."""
    rows = []
    for fiscal_year in range(first_fiscal_year, first_fiscal_year + (len(quarters) + 3) // 4):
        offset = 4 * (fiscal_year - first_fiscal_year)
        discrete = quarters[offset : offset + 4]
        start = month_end(fiscal_year - 1, year_end_month) + dt.timedelta(days=1)
        for q, total in enumerate(accumulate(discrete), start=1):
            end = month_end(start.year + (start.month + 3 * q - 2) // 12, (start.month + 3 * q - 2) % 12 + 1)
            form, fp, days = ("10-K", "FY", 60) if q == 4 else ("10-Q", f"Q{q}", 35)
            filed = end + dt.timedelta(days=days)
            accn = f"{cik:010d}-{filed.year % 100:02d}-{900 + offset + q:06d}"
            rows.append(
                fact(
                    (start.isoformat(), end.isoformat()),
                    total * 1000,
                    filing(accn, fiscal_year, fp, form, filed.isoformat()),
                )
            )
    return rows


def hyperscaler_like(cik: int) -> dict:
    name, concept, year_end_month, first_fiscal_year, quarters = HYPERSCALER_CAPEX[cik]
    return companyfacts(
        cik,
        f"SAMPLE DATA ({name} filer, made up)",
        {concept: quarterly_capex(cik, year_end_month, first_fiscal_year, quarters)},
    )


def oracle_like() -> dict:
    fy25 = [
        filing("0001341439-24-000101", 2025, "Q1", "10-Q", "2024-09-10"),
        filing("0001341439-24-000102", 2025, "Q2", "10-Q", "2024-12-10"),
        filing("0001341439-25-000101", 2025, "Q3", "10-Q", "2025-03-11"),
        filing("0001341439-25-000102", 2025, "FY", "10-K", "2025-06-20"),
    ]
    q1_26 = filing("0001341439-25-000103", 2026, "Q1", "10-Q", "2025-09-10")
    ends25 = ["2024-08-31", "2024-11-30", "2025-02-28", "2025-05-31"]
    return companyfacts(
        1341439,
        "SAMPLE DATA (Oracle-like filer, made up)",
        {
            "PaymentsToAcquirePropertyPlantAndEquipment": [
                *quarterly_capex(1341439, 5, 2023, ORACLE_EARLIER_CAPEX),
                *year_to_date("2024-06-01", ends25, [2000, 5000, 9000, 14000], fy25),
                fact(("2025-06-01", "2025-08-31"), 8000, q1_26),
            ],
            "NetCashProvidedByUsedInOperatingActivities": [
                *year_to_date("2024-06-01", ends25, [7000, 8500, 14000, 20000], fy25),
                fact(("2025-06-01", "2025-08-31"), 8100, q1_26),
            ],
            "DebtCurrent": [fact(d, 5000 + 500 * i, f) for i, (d, f) in enumerate(zip(ends25, fy25, strict=True))],
            "LongTermNotesPayable": [
                fact(d, 80000 + 1000 * i, f) for i, (d, f) in enumerate(zip(ends25, fy25, strict=True))
            ],
            # The re-tagging: the FY2026 10-Q reports both balance sheets under the new concepts.
            "NotesPayableCurrent": [fact("2025-05-31", 6500, q1_26), fact("2025-08-31", 7000, q1_26)],
            "LongTermNotesAndLoans": [fact("2025-05-31", 83000, q1_26), fact("2025-08-31", 88000, q1_26)],
            "StockholdersEquity": [
                *[fact(d, 15000 + 1000 * i, f) for i, (d, f) in enumerate(zip(ends25, fy25, strict=True))],
                fact("2025-08-31", 20000, q1_26),
            ],
            "RevenueRemainingPerformanceObligation": [
                *[fact(d, 100000 + 20000 * i, f) for i, (d, f) in enumerate(zip(ends25, fy25, strict=True))],
                fact("2025-08-31", 250000, q1_26),
            ],
        },
    )


def submissions(cik: int, name: str, fiscal_year_end: str, facts: dict) -> dict:
    """The filings the companyfacts rows name, in SEC's columnar `filings.recent` layout."""
    seen = {}
    for concept in facts["facts"]["us-gaap"].values():
        for row in concept["units"]["USD"]:
            seen[row["accn"]] = row
    rows = sorted(seen.values(), key=lambda r: r["filed"], reverse=True)
    return {
        "cik": f"{cik:010d}",
        "name": name,
        "fiscalYearEnd": fiscal_year_end,
        "tickers": [],
        "filings": {
            "recent": {
                "accessionNumber": [r["accn"] for r in rows],
                "filingDate": [r["filed"] for r in rows],
                "reportDate": ["" if r["form"] == "8-K" else r["end"] for r in rows],
                "acceptanceDateTime": [f"{r['filed']}T16:05:00.000Z" for r in rows],
                "act": ["34"] * len(rows),
                "form": [r["form"] for r in rows],
                "fileNumber": [""] * len(rows),
                "filmNumber": [""] * len(rows),
                "items": ["2.02,9.01" if r["form"] == "8-K" else "" for r in rows],
                "core_type": [r["form"] for r in rows],
                "size": [100_000] * len(rows),
                "isXBRL": [1] * len(rows),
                "isInlineXBRL": [1] * len(rows),
                "primaryDocument": [f"sample-{r['accn']}.htm" for r in rows],
                "primaryDocDescription": [r["form"] for r in rows],
            },
            "files": [],
        },
    }


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(path.relative_to(HERE.parent))


def after_as_of(facts: dict) -> list[str]:
    """Every fact's `filed` or `end` later than AS_OF, as `concept accn field date`."""
    return [
        f"{concept} {row['accn']} {field} {row[field]}"
        for concept, body in facts["facts"]["us-gaap"].items()
        for row in body["units"]["USD"]
        for field in ("filed", "end")
        if dt.date.fromisoformat(row[field]) > AS_OF
    ]


def main() -> None:
    filers = [
        (1045810, "0131", nvidia_like()),
        (1341439, "0531", oracle_like()),
        *[(cik, f"{month_end(2025, spec[2]):%m%d}", hyperscaler_like(cik)) for cik, spec in HYPERSCALER_CAPEX.items()],
    ]
    late = [line for _, _, facts in filers for line in after_as_of(facts)]
    if late:
        raise SystemExit(f"dated after the sample's as-of date {AS_OF}: " + "; ".join(late))
    for cik, fiscal_year_end, facts in filers:
        write(HERE / "companyfacts" / f"CIK{cik:010d}.json", facts)
        write(
            HERE / "submissions" / f"CIK{cik:010d}.json", submissions(cik, facts["entityName"], fiscal_year_end, facts)
        )


if __name__ == "__main__":
    main()
