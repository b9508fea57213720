"""What raw_xbrl_facts refuses and what it loads flagged, on hand-made companyfacts: each critical
fault refused in one line, each odd fact loaded with its flag, by the per-company path and by bulk
mode alike; a `cik` written as a zero-padded string; and a foreign filer reporting under IFRS in
New Taiwan dollars, whose leverage fills in TWD and stays out of the hyperscalers' dollar sum.

Expected values are worked out by hand from the facts written here, never read from the pipeline.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipeline.build.summary import warning_lines
from pipeline.ingest.bulk import ingest_sec_bulk
from pipeline.ingest.filings import ingest_filings
from pipeline.runtime.errors import PayloadError, ValidationFailed
from pipeline.runtime.settings import Settings
from pipeline.sources.bulk import ReplaySecBulk
from pipeline.sources.filings import ReplaySecFilings
from tests.test_filings import build

B = 1_000_000_000
CIK = 9_990_001
NAME = f"CIK{CIK:010d}.json"
TEN_Q = {"accn": "0009990001-24-000010", "fy": 2024, "fp": "Q1", "form": "10-Q", "filed": "2024-05-10"}
TEN_K = {"accn": "0009990001-25-000002", "fy": 2024, "fp": "FY", "form": "10-K", "filed": "2025-02-20"}
REVENUE = {"start": "2024-01-01", "end": "2024-03-31", "val": 100_000_000, **TEN_Q}
REVENUE_ROW = f"{CIK} us-gaap Revenues USD 2024-01-01/2024-03-31"


def companyfacts(facts: dict, cik: int | str = CIK) -> dict:
    """A companyfacts body: `facts` is taxonomy -> concept -> unit -> rows; labels are null, as a
    foreign filer's often are."""
    return {
        "cik": cik,
        "entityName": "HANDMADE FILER (test fixture)",
        "facts": {
            taxonomy: {
                concept: {"label": None, "description": None, "units": units} for concept, units in concepts.items()
            }
            for taxonomy, concepts in facts.items()
        },
    }


def ordinary() -> dict:
    """Facts nothing is odd about, in five taxonomies, with an 8-K's fy 0 and fp "" and a fact of a
    filing whose fy and fp are null."""
    return {
        "us-gaap": {"Revenues": {"USD": [dict(REVENUE)]}},
        "dei": {
            "EntityCommonStockSharesOutstanding": {"shares": [{"end": "2024-04-30", "val": 5_000_000, **TEN_Q}]},
        },
        "srt": {"ProvedDevelopedReservesBOE1": {"USD": [{"end": "2024-12-31", "val": 7, **TEN_K}]}},
        "invest": {"DerivativeNotionalAmount": {"EUR": [{"end": "2024-03-31", "val": 2_000_000, **TEN_Q}]}},
        "ifrs-full": {
            "Revenue": {
                "USD": [
                    {
                        "start": "2024-04-01",
                        "end": "2024-06-30",
                        "val": 5,
                        "accn": "0009990001-24-000020",
                        "fy": 0,
                        "fp": "",
                        "form": "8-K",
                        "filed": "2024-07-01",
                    },
                    {
                        "end": "2024-06-30",
                        "start": "2024-06-01",
                        "val": 6,
                        "accn": "0009990001-24-000021",
                        "fy": None,
                        "fp": None,
                        "form": "8-K",
                        "filed": "2024-07-02",
                    },
                ]
            }
        },
    }


# Odd facts, each with the flags worked out by hand: (taxonomy, concept, unit, period, accn) -> flags.
ODD = {
    "us-gaap": {
        "NumberOfReportableSegments": {
            "reporting_unit": [{"start": "2024-01-01", "end": "2024-12-31", "val": 3, **TEN_K}]
        },
        "ShareBasedCompensationArrangementByShareBasedPaymentAwardOptionsForfeitedInPeriod": {
            "shares": [{"start": "2024-01-01", "end": "2024-03-31", "val": -5_000, **TEN_Q}]
        },
        "CommonStockDividendsPerShareDeclared": {
            "USD/shares": [{"start": "2024-04-01", "end": "2024-06-30", "val": 0.25, **TEN_Q}]
        },
        "OperatingLeaseCost": {"USD": [{"start": "2024-03-31", "end": "2024-01-01", "val": 1_000, **TEN_Q}]},
        "StockRepurchasedDuringPeriodShares": {
            "shares": [{"start": "2024-04-01", "end": "2024-06-30", "val": -10, **TEN_Q}]
        },
    },
    "dei": {"EntityPublicFloat": {"USD": [{"end": "2024-06-30", "val": 27_600_000_000_000_000, **TEN_K}]}},
}
FLAGS = {
    ("us-gaap", "NumberOfReportableSegments", "reporting_unit", "2024-01-01/2024-12-31", TEN_K["accn"]): "new unit",
    ("dei", "EntityPublicFloat", "USD", "2024-06-30", TEN_K["accn"]): "abs(val) > 2^53",  # 2.76e16 > 2^53 = 9.007e15
    (
        "us-gaap",
        "ShareBasedCompensationArrangementByShareBasedPaymentAwardOptionsForfeitedInPeriod",
        "shares",
        "2024-01-01/2024-03-31",
        TEN_Q["accn"],
    ): "negative share count",
    # Ends 2024-06-30, in the 10-Q filed 2024-05-10.
    ("us-gaap", "CommonStockDividendsPerShareDeclared", "USD/shares", "2024-04-01/2024-06-30", TEN_Q["accn"]): (
        "10-K or 10-Q fact filed before its period ends"
    ),
    ("us-gaap", "OperatingLeaseCost", "USD", "2024-03-31/2024-01-01", TEN_Q["accn"]): "end before start",
    ("us-gaap", "StockRepurchasedDuringPeriodShares", "shares", "2024-04-01/2024-06-30", TEN_Q["accn"]): (
        "negative share count; 10-K or 10-Q fact filed before its period ends"
    ),
}


def merged(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        for taxonomy, concepts in part.items():
            out.setdefault(taxonomy, {}).update(concepts)
    return out


def replay(folder: Path, bodies: dict[str, dict | bytes]) -> Path:
    """A replay folder with sec/companyfacts/<name> for each body."""
    target = folder / "sec" / "companyfacts"
    target.mkdir(parents=True)
    for name, data in bodies.items():
        (target / name).write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return folder


def bulk_replay(folder: Path, bodies: dict[str, dict | bytes]) -> Path:
    """A replay folder with sec/bulk/companyfacts.zip holding each body as a member."""
    archive = folder / "sec" / "bulk" / "companyfacts.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bulk:
        for name, data in bodies.items():
            bulk.writestr(name, data if isinstance(data, bytes) else json.dumps(data).encode())
    return folder


def load(settings: Settings, folder: Path, bodies: dict[str, dict | bytes], path: str):
    """Load `bodies` by the per-company path (`filings`) or by bulk mode (`bulk`)."""
    if path == "filings":
        return ingest_filings(settings, ReplaySecFilings(replay(folder, bodies)))
    return ingest_sec_bulk(settings, ReplaySecBulk(bulk_replay(folder, bodies)))


def stored_flags(settings: Settings) -> dict[tuple, str | None]:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        rows = con.execute("select taxonomy, concept, unit, period, accn, flags from raw.xbrl_facts").fetchall()
    return {row[:5]: row[5] for row in rows}


def count_facts(settings: Settings) -> int:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]


@pytest.mark.parametrize("path", ["filings", "bulk"])
def test_odd_facts_load_each_with_its_flag(settings, tmp_path, caplog, path):
    caplog.set_level(logging.WARNING)
    result = load(settings, tmp_path / "replay", {NAME: companyfacts(merged(ordinary(), ODD))}, path)

    flags = stored_flags(settings)
    assert {key: flag for key, flag in flags.items() if flag} == FLAGS
    # Every ordinary fact loaded, unflagged: 1 + 1 + 1 + 1 + 2 (the 8-Ks) of them.
    assert len(flags) == len(FLAGS) + 6
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute(
            "select fy, fp, form from raw.xbrl_facts where taxonomy = 'ifrs-full' order by accn"
        ).fetchall() == [(0, "", "8-K"), (None, None, "8-K")]
        lines = warning_lines(con, result.run_id)
    segments = f"{CIK} us-gaap NumberOfReportableSegments reporting_unit 2024-01-01/2024-12-31 {TEN_K['accn']}"
    if path == "filings":
        assert f"  raw_xbrl_facts: new unit flagged on 1 row: {segments}" in lines
        assert f"new unit flagged on 1 row: {segments} (loaded, flagged; report: " in caplog.text
    else:
        assert f"  raw_xbrl_facts: new unit flagged on 1 row of 1 member(s): {NAME} (1)" in lines
        assert f"{NAME}: new unit flagged on 1 row: {segments} (loaded, flagged)" in caplog.text
    assert "  raw_xbrl_facts: negative share count flagged on 2 rows" in " ".join(lines)


def test_a_unit_the_warehouse_holds_is_not_flagged_again(settings, tmp_path):
    """The first filer to use `reporting_unit` is flagged; the next, loaded by bulk mode whose
    workers are told the warehouse's units, is not."""
    segments = {"us-gaap": {"NumberOfReportableSegments": ODD["us-gaap"]["NumberOfReportableSegments"]}}
    load(settings, tmp_path / "first", {NAME: companyfacts(segments)}, "filings")
    other = 9_990_009
    load(settings, tmp_path / "second", {f"CIK{other:010d}.json": companyfacts(segments, other)}, "bulk")
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select cik, flags from raw.xbrl_facts order by cik").fetchall() == [
            (CIK, "new unit"),
            (other, None),
        ]


def without_accession(data: dict) -> dict:
    del data["facts"]["us-gaap"]["Revenues"]["units"]["USD"][0]["accn"]
    return data


def revenue_with(field: str, value):
    def edit(data: dict) -> dict:
        data["facts"]["us-gaap"]["Revenues"]["units"]["USD"][0][field] = value
        return data

    return edit


def revenue_twice(data: dict) -> dict:
    rows = data["facts"]["us-gaap"]["Revenues"]["units"]["USD"]
    rows.append({**rows[0], "val": 101_000_000})
    return data


def tomorrow() -> str:
    return (Settings().clock.today() + dt.timedelta(days=1)).isoformat()


FIRST = f"(us-gaap:Revenues USD accn {TEN_Q['accn']})"
CRITICAL = [
    ("no-accession", without_accession, ValidationFailed, f"accn is not null failed on 1 row: {REVENUE_ROW} nan"),
    (
        "malformed-accession",
        revenue_with("accn", "9990001-24-10"),
        ValidationFailed,
        f"accession number is ##########-##-###### failed on 1 row: {REVENUE_ROW} 9990001-24-10",
    ),
    (
        "unparseable-date",
        revenue_with("end", "2024-02-30"),
        PayloadError,
        f"{NAME}: a fact's `end` is '2024-02-30', not a YYYY-MM-DD date {FIRST}",
    ),
    (
        "infinite-value",
        revenue_with("val", float("inf")),
        PayloadError,
        f"{NAME}: a fact's `val` is inf, not a finite number {FIRST}",
    ),
    (
        "nan-value",
        revenue_with("val", float("nan")),
        PayloadError,
        f"{NAME}: a fact's `val` is nan, not a finite number {FIRST}",
    ),
    (
        "value-beyond-any-double",
        revenue_with("val", 10**400),
        PayloadError,
        f"{NAME}: a fact's `val` is {10**400}, not a finite number {FIRST}",
    ),
    (
        "key-repeated-with-another-value",
        revenue_twice,
        ValidationFailed,
        "one value per (cik, taxonomy, concept, unit, period, accn) failed on 2 rows: "
        f"{REVENUE_ROW} {TEN_Q['accn']}, {REVENUE_ROW} {TEN_Q['accn']}",
    ),
    (
        "filed-after-the-run-date",
        revenue_with("filed", tomorrow()),
        ValidationFailed,
        f"filed on or before the run date (today in New York) failed on 1 row: {REVENUE_ROW} {TEN_Q['accn']}",
    ),
]


@pytest.mark.parametrize(("fault", "edit", "error", "line"), CRITICAL, ids=[c[0] for c in CRITICAL])
def test_an_unusable_fact_refuses_its_payload_in_one_line(settings, tmp_path, fault, edit, error, line):
    body = edit(companyfacts(merged(ordinary(), ODD)))
    with pytest.raises(error) as refused:
        load(settings, tmp_path / "replay", {NAME: body}, "filings")
    message = str(refused.value)
    assert "\n" not in message
    assert line in message
    assert count_facts(settings) == 0


@pytest.mark.parametrize(("fault", "edit", "error", "line"), CRITICAL, ids=[c[0] for c in CRITICAL])
def test_an_unusable_fact_refuses_its_member_alone_in_bulk_mode(settings, tmp_path, fault, edit, error, line):
    good = 9_990_009
    bodies = {
        NAME: edit(companyfacts(merged(ordinary(), ODD))),
        f"CIK{good:010d}.json": companyfacts(ordinary(), good),
    }
    result = load(settings, tmp_path / "replay", bodies, "bulk")
    [(member, error)] = result.failed.items()
    assert member == f"companyfacts.zip/{NAME}"
    assert error.startswith(f"{NAME}: ") and line in error and "\n" not in error
    assert "warning" not in error  # the reason names what refused the member, nothing else
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select distinct cik from raw.xbrl_facts").fetchall() == [(good,)]


@pytest.mark.parametrize("path", ["filings", "bulk"])
def test_a_cik_written_as_a_zero_padded_string_loads(settings, tmp_path, path):
    result = load(settings, tmp_path / "replay", {NAME: companyfacts(ordinary(), f"{CIK:010d}")}, path)
    assert result.facts == 6
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select distinct cik from raw.xbrl_facts").fetchall() == [(CIK,)]


# A foreign private issuer: ifrs-full facts in New Taiwan dollars, a 20-F a year and a 6-K a
# quarter, null labels, and a few US dollar convenience translations; beside it a US filer.
TWD_CIK, USD_CIK = 9_990_002, 9_990_003


def twd_filer() -> dict:
    def six_k(n: int, filed: str) -> dict:
        return {"accn": f"0009990002-24-00000{n}", "fy": 2024, "fp": f"Q{n}", "form": "6-K", "filed": filed}

    q1, q2, q3 = six_k(1, "2024-05-15"), six_k(2, "2024-08-14"), six_k(3, "2024-11-13")
    twenty_f = {"accn": "0009990002-25-000001", "fy": 2024, "fp": "FY", "form": "20-F", "filed": "2025-04-17"}

    def year_to_date(q1_val: float, h1_val: float, m9_val: float, fy_val: float) -> list[dict]:
        return [
            {"start": "2024-01-01", "end": "2024-03-31", "val": q1_val, **q1},
            {"start": "2024-01-01", "end": "2024-06-30", "val": h1_val, **q2},
            {"start": "2024-01-01", "end": "2024-09-30", "val": m9_val, **q3},
            {"start": "2024-01-01", "end": "2024-12-31", "val": fy_val, **twenty_f},
        ]

    return companyfacts(
        {
            "ifrs-full": {
                "PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities": {
                    "TWD": year_to_date(200 * B, 420 * B, 640 * B, 900 * B),
                    "USD": [{"start": "2024-01-01", "end": "2024-12-31", "val": 28 * B, **twenty_f}],
                },
                "CashFlowsFromUsedInOperatingActivities": {"TWD": year_to_date(400 * B, 850 * B, 1300 * B, 1800 * B)},
                "CurrentBorrowingsAndCurrentPortionOfNoncurrentBorrowings": {
                    "TWD": [
                        {"end": "2024-09-30", "val": 60 * B, **q3},
                        {"end": "2024-12-31", "val": 50 * B, **twenty_f},
                    ]
                },
                "NoncurrentPortionOfNoncurrentBorrowings": {
                    "TWD": [
                        {"end": "2024-09-30", "val": 900 * B, **q3},
                        {"end": "2024-12-31", "val": 950 * B, **twenty_f},
                    ]
                },
                # The total of the two: never added to them.
                "Borrowings": {"TWD": [{"end": "2024-12-31", "val": 1000 * B, **twenty_f}]},
                # The owners' equity in TWD at the quarter, in US dollars alone at the year end (a
                # translation for the reader; a concept ahead of Equity in the map).
                "EquityAttributableToOwnersOfParent": {
                    "TWD": [{"end": "2024-09-30", "val": 3800 * B, **q3}],
                    "USD": [{"end": "2024-12-31", "val": 125 * B, **twenty_f}],
                },
                "Equity": {"TWD": [{"end": "2024-12-31", "val": 4000 * B, **twenty_f}]},
                "TransactionPriceAllocatedToRemainingPerformanceObligations": {
                    "TWD": [{"end": "2024-12-31", "val": 300 * B, **twenty_f}]
                },
            },
            "dei": {
                "EntityCommonStockSharesOutstanding": {"shares": [{"end": "2025-03-31", "val": 25 * B, **twenty_f}]}
            },
        },
        TWD_CIK,
    )


def usd_filer() -> dict:
    def filing(n: int, form: str, fp: str, filed: str) -> dict:
        return {"accn": f"0009990003-2{filed[3]}-00000{n}", "fy": 2024, "fp": fp, "form": form, "filed": filed}

    return companyfacts(
        {
            "us-gaap": {
                "PaymentsToAcquirePropertyPlantAndEquipment": {
                    "USD": [
                        {
                            "start": "2024-01-01",
                            "end": "2024-03-31",
                            "val": 10 * B,
                            **filing(1, "10-Q", "Q1", "2024-04-30"),
                        },
                        {
                            "start": "2024-01-01",
                            "end": "2024-06-30",
                            "val": 25 * B,
                            **filing(2, "10-Q", "Q2", "2024-07-30"),
                        },
                        {
                            "start": "2024-01-01",
                            "end": "2024-09-30",
                            "val": 45 * B,
                            **filing(3, "10-Q", "Q3", "2024-10-30"),
                        },
                        {
                            "start": "2024-01-01",
                            "end": "2024-12-31",
                            "val": 70 * B,
                            **filing(4, "10-K", "FY", "2025-01-30"),
                        },
                    ]
                }
            }
        },
        USD_CIK,
    )


@pytest.fixture
def ifrs_build(settings, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(Settings().seeds_dir, seeds)
    with open(seeds / "companies.csv", "a") as companies:
        companies.write(f"TWDX,{TWD_CIK},Formosa Handmade (test fixture),1231\nUSDX,{USD_CIK},Dollar Handmade,1231\n")
    settings = settings.replace(seeds_dir=seeds, hyperscalers=("USDX", "TWDX"))
    bodies = {f"CIK{TWD_CIK:010d}.json": twd_filer(), f"CIK{USD_CIK:010d}.json": usd_filer()}
    load(settings, tmp_path / "replay", bodies, "filings")
    with build(settings) as con:
        yield con


def test_an_ifrs_filer_fills_leverage_in_its_own_currency(ifrs_build):
    cursor = ifrs_build.execute(
        "select period_end::varchar, fiscal_year, fiscal_quarter, currency, capex, operating_cash_flow, "
        "free_cash_flow, free_cash_flow_ttm, total_debt, stockholders_equity, debt_to_equity, rpo "
        "from marts.leverage where ticker = 'TWDX' order by period_end"
    )
    rows = cursor.fetchall()
    # Quarters from the year to date: capex 200, 420 - 200, 640 - 420, 900 - 640; cash from
    # operations 400, 850 - 400, 1300 - 850, 1800 - 1300 (TWD billions).
    assert [r[:7] for r in rows] == [
        ("2024-03-31", 2024, 1, "TWD", 200 * B, 400 * B, 200 * B),
        ("2024-06-30", 2024, 2, "TWD", 220 * B, 450 * B, 230 * B),
        ("2024-09-30", 2024, 3, "TWD", 220 * B, 450 * B, 230 * B),
        ("2024-12-31", 2024, 4, "TWD", 260 * B, 500 * B, 240 * B),
    ]
    q3, q4 = rows[2], rows[3]
    # Debt is current + non-current (60 + 900, 50 + 950), not Borrowings added to them. Equity is
    # the owners' at the quarter and Equity at the year end, both in TWD: never the US dollar 125.
    assert q3[8:11] == (960 * B, 3800 * B, pytest.approx(960 / 3800))
    assert q4[8:12] == (1000 * B, 4000 * B, pytest.approx(0.25), 300 * B)
    assert q4[7] == (200 + 230 + 230 + 240) * B


def test_the_hyperscalers_sum_leaves_the_twd_filer_out(ifrs_build):
    rows = ifrs_build.execute(
        "select ticker, calendar_quarter, currency, is_complete, capex from marts.capex_slope "
        "where calendar_quarter like '2024%' order by ticker, calendar_quarter"
    ).fetchall()
    usd = [10 * B, 15 * B, 20 * B, 25 * B]  # 10, 25 - 10, 45 - 25, 70 - 45
    twd = [200 * B, 220 * B, 220 * B, 260 * B]
    quarters = [f"2024Q{q}" for q in (1, 2, 3, 4)]
    assert rows == [
        *[("HYPERSCALERS", q, "USD", True, v) for q, v in zip(quarters, usd, strict=True)],
        *[("TWDX", q, "TWD", True, v) for q, v in zip(quarters, twd, strict=True)],
        *[("USDX", q, "USD", True, v) for q, v in zip(quarters, usd, strict=True)],
    ]
