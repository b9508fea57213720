"""What was known when: builds as of a date see only facts filed by then, each quarter as first
reported and as latest known. Expected figures are worked out by hand from the filings below or
read from ../shared/realdata, never from the pipeline's output."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from pipeline.ingest.filings import ingest_filings
from pipeline.sources.filings import ReplaySecFilings
from tests.conftest import copied
from tests.test_filings import NVDA_CIK, build, oracle_reference_facts, seeds_for

B, M = 1_000_000_000, 1_000_000


def oracle_with_a_restatement() -> dict:
    """An Oracle-like filer: the FY2025 10-K (year end 2025-05-31); FY2026 Q1 in a 10-Q filed
    2025-09-10, restated by a 10-Q/A on 2025-10-15 (equity 20 -> 22, capex 8.0 -> 8.5); and FY2026 Q2
    in a 10-Q filed 2025-12-10. US$ billions."""
    ten_k = {"accn": "0001341439-25-000090", "fy": 2025, "fp": "FY", "form": "10-K", "filed": "2025-06-20"}
    q1 = {"accn": "0001341439-25-000120", "fy": 2026, "fp": "Q1", "form": "10-Q", "filed": "2025-09-10"}
    q1_restated = {"accn": "0001341439-25-000140", "fy": 2026, "fp": "Q1", "form": "10-Q/A", "filed": "2025-10-15"}
    q2 = {"accn": "0001341439-25-000170", "fy": 2026, "fp": "Q2", "form": "10-Q", "filed": "2025-12-10"}

    def usd(*rows):
        return {
            "units": {
                "USD": [
                    {**({"start": r[0]} if r[0] else {}), "end": r[1], "val": round(r[2] * B), **r[3]} for r in rows
                ]
            }
        }

    return {
        "cik": 1341439,
        "entityName": "ORACLE CORP (test fixture)",
        "facts": {
            "us-gaap": {
                "PaymentsToAcquirePropertyPlantAndEquipment": usd(
                    ("2024-06-01", "2025-05-31", 21.0, ten_k),
                    ("2025-06-01", "2025-08-31", 8.0, q1),
                    ("2025-06-01", "2025-08-31", 8.5, q1_restated),
                    ("2025-06-01", "2025-11-30", 18.5, q2),
                ),
                "NetCashProvidedByUsedInOperatingActivities": usd(
                    ("2024-06-01", "2025-05-31", 20.0, ten_k),
                    ("2025-06-01", "2025-08-31", 10.0, q1),
                    ("2025-06-01", "2025-08-31", 10.0, q1_restated),
                    ("2025-06-01", "2025-11-30", 21.0, q2),
                ),
                "NotesPayableCurrent": usd(
                    (None, "2025-05-31", 7.0, ten_k),
                    (None, "2025-08-31", 6.0, q1),
                    (None, "2025-08-31", 6.0, q1_restated),
                    (None, "2025-11-30", 6.0, q2),
                ),
                "LongTermNotesAndLoans": usd(
                    (None, "2025-05-31", 85.0, ten_k),
                    (None, "2025-08-31", 90.0, q1),
                    (None, "2025-08-31", 90.0, q1_restated),
                    (None, "2025-11-30", 96.0, q2),
                ),
                "StockholdersEquity": usd(
                    (None, "2025-05-31", 21.0, ten_k),
                    (None, "2025-08-31", 20.0, q1),
                    (None, "2025-08-31", 22.0, q1_restated),
                    (None, "2025-11-30", 24.0, q2),
                ),
            }
        },
    }


def leverage_as_of(settings, as_of: dt.date) -> dict[dt.date, dict]:
    with build(settings.replace(as_of=as_of)) as con:
        cursor = con.execute("select * from marts.leverage where ticker = 'ORCL' order by period_end")
        names = [d[0] for d in cursor.description]
        return {row[names.index("period_end")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


@pytest.fixture
def oracle(settings, tmp_path):
    replay = tmp_path / "replay" / "sec" / "companyfacts"
    replay.mkdir(parents=True)
    (replay / "CIK0001341439.json").write_text(json.dumps(oracle_with_a_restatement()))
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "ORCL"))
    ingest_filings(settings, ReplaySecFilings(tmp_path / "replay"))
    return settings


@pytest.mark.slow
def test_a_restated_quarter_as_of_three_dates(oracle):
    q1, q2 = dt.date(2025, 8, 31), dt.date(2025, 11, 30)

    # Before either filing of the quarter: the year end is the latest quarter known.
    before = leverage_as_of(oracle, dt.date(2025, 9, 1))
    assert max(before) == dt.date(2025, 5, 31) and q1 not in before

    # Between them: as originally filed. Debt 6 + 90 = 96 against equity 20; FCF 10 - 8 = 2.
    between = leverage_as_of(oracle, dt.date(2025, 9, 30))[q1]
    assert (between["total_debt"], between["stockholders_equity"], between["capex"]) == (96 * B, 20 * B, 8 * B)
    assert between["debt_to_equity"] == pytest.approx(96 / 20)
    assert between["free_cash_flow"] == 2 * B
    assert (between["stockholders_equity_first_reported"], between["capex_first_reported"]) == (20 * B, 8 * B)
    assert between["source_accessions"] == between["first_reported_accessions"] == ["0001341439-25-000120"]
    assert q2 not in leverage_as_of(oracle, dt.date(2025, 9, 30))

    # After the restatement and the next quarter: latest and first reported side by side.
    after = leverage_as_of(oracle, dt.date(2025, 12, 31))
    restated = after[q1]
    assert (restated["stockholders_equity"], restated["capex"], restated["free_cash_flow"]) == (
        22 * B,
        8.5 * B,
        1.5 * B,
    )
    assert restated["debt_to_equity"] == pytest.approx(96 / 22)
    assert (
        restated["stockholders_equity_first_reported"],
        restated["capex_first_reported"],
        restated["free_cash_flow_first_reported"],
    ) == (20 * B, 8 * B, 2 * B)
    assert restated["source_accessions"] == ["0001341439-25-000140"]
    assert restated["first_reported_accessions"] == ["0001341439-25-000120"]
    # Q2 from year to date: capex 18.5 - 8.5 = 10 (the restated Q1 was known when Q2 was filed), OCF 21 - 10 = 11.
    assert (after[q2]["capex"], after[q2]["operating_cash_flow"], after[q2]["free_cash_flow"]) == (
        10 * B,
        11 * B,
        1 * B,
    )
    assert after[q2]["capex_first_reported"] == 10 * B
    assert after[q2]["total_debt"] == 102 * B and after[q2]["stockholders_equity"] == 24 * B


@pytest.mark.slow
def test_oracle_as_of_2025_09_01_sees_nothing_filed_later(settings, tmp_path):
    """The reference fixture's FY2026 Q1 10-Q was filed 2025-09-10: as of 2025-09-01 the latest
    quarter is the year ending 2025-05-31."""
    replay = tmp_path / "replay" / "sec" / "companyfacts"
    replay.mkdir(parents=True)
    (replay / "CIK0001341439.json").write_text(json.dumps(oracle_reference_facts()))
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "ORCL"))
    ingest_filings(settings, ReplaySecFilings(tmp_path / "replay"))
    assert max(leverage_as_of(settings, dt.date(2025, 9, 1))) <= dt.date(2025, 5, 31)
    assert max(leverage_as_of(settings, dt.date(2025, 9, 10))) == dt.date(2025, 8, 31)


@pytest.fixture(scope="module")
def nvidia_ingested(nvidia_filings, tmp_path_factory):
    """The real SEC payloads ingested (tests/conftest.py), copied: each case builds on it."""
    settings, _ = nvidia_filings
    return settings.replace(data_dir=copied(settings.data_dir, tmp_path_factory.mktemp("nvidia-pit") / "var"))


def capex_quarters(settings, as_of: dt.date) -> list[tuple[int, float]]:
    """NVIDIA's FY2026 capex quarters (fiscal_quarter, value) as of a date."""
    with build(settings.replace(as_of=as_of)) as con:
        return con.execute(
            "select fiscal_quarter, value from intermediate.metric_quarters "
            "where cik = ? and metric = 'capex' and fiscal_year = 2026 order by fiscal_quarter",
            [NVDA_CIK],
        ).fetchall()


@pytest.mark.parametrize(
    "as_of, expected",
    [
        # From the JSON: year to date 1,227 (10-Q filed 2025-05-28), 3,122 (2025-08-27), 4,758
        # (2025-11-19) and the year 6,042 (10-K 2026-02-25), all from 2025-01-27.
        (dt.date(2025, 5, 27), []),
        (dt.date(2025, 5, 28), [(1, 1227 * M)]),
        (dt.date(2025, 9, 1), [(1, 1227 * M), (2, 1895 * M)]),
        (dt.date(2026, 2, 1), [(1, 1227 * M), (2, 1895 * M), (3, 1636 * M)]),  # FY2026 Q4 absent
        (dt.date(2026, 3, 1), [(1, 1227 * M), (2, 1895 * M), (3, 1636 * M), (4, 1284 * M)]),
    ],
)
def test_nvidia_fy2026_capex_as_of_a_date(nvidia_ingested, as_of, expected):
    quarters = capex_quarters(nvidia_ingested, as_of)
    assert quarters == expected
    # The quarters add up to the year only when all four were filed by then.
    assert (sum(v for _, v in quarters) == 6042 * M) == (len(quarters) == 4)


def test_the_analysts_as_of_function_on_the_sample(sample_run):
    """docs/data.md's example: NVIDIA's capex facts as known on 2026-02-01, from the bundled sample."""
    settings, _ = sample_run
    with duckdb.connect(str(settings.paths.analyst_copy), read_only=True) as con:
        rows = con.execute(
            "select concept, period_end, value, first_value, versions_known "
            "from staging.xbrl_facts_as_of(date '2026-02-01') where ticker = 'NVDA' and concept in "
            "('PaymentsToAcquireProductiveAssets', 'PaymentsToAcquirePropertyPlantAndEquipment') order by period_end"
        ).fetchall()
    # sample/generate_sec.py: FY2025 capex (PaymentsToAcquirePropertyPlantAndEquipment) year to date
    # 100, 250, 420 and the year 600 (10-Qs filed 2024-05-29, 2024-08-28, 2024-11-20; 10-K
    # 2025-02-26); FY2026 capex (PaymentsToAcquireProductiveAssets) year to date 200, 450, 750
    # (10-Qs filed 2025-05-28, 2025-08-27, 2025-11-19); the FY2026 10-K (1,100 to 2026-02-01) is
    # filed 2026-03-04, after that date. No capex fact is restated: one version each.
    old, new = "PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"
    assert rows == [
        (old, dt.date(2024, 4, 28), 100 * M, 100 * M, 1),
        (old, dt.date(2024, 7, 28), 250 * M, 250 * M, 1),
        (old, dt.date(2024, 10, 27), 420 * M, 420 * M, 1),
        (old, dt.date(2025, 1, 26), 600 * M, 600 * M, 1),
        (new, dt.date(2025, 4, 27), 200 * M, 200 * M, 1),
        (new, dt.date(2025, 7, 27), 450 * M, 450 * M, 1),
        (new, dt.date(2025, 10, 26), 750 * M, 750 * M, 1),
    ]
