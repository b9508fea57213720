"""marts.capex_slope: hand-worked slopes on input rows, then fixtures and real payloads end to end."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from pipeline.ingest.filings import ingest_filings
from pipeline.runtime.settings import Settings
from pipeline.sources.filings import ReplaySecFilings
from tests.test_filings import build, seeds_for
from transforms import runner

B = 1_000_000_000
QUARTERS = [f"{year}Q{q}" for year in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


def metric_quarters(rows: list[tuple]) -> pd.DataFrame:
    """intermediate.metric_quarters rows for capex: (ticker, calendar_quarter, value[, currency]), never
    restated; in US dollars unless a currency is given."""
    return pd.DataFrame(
        [
            {
                "ticker": t,
                "metric": "capex",
                "calendar_quarter": q,
                "currency": currency[0] if currency else "USD",
                "value": v,
                "first_reported_value": v,
                "fiscal_year": int(q[:4]),
                "fiscal_quarter": int(q[-1]),
                "period_end": pd.Period(q, freq="Q").end_time.date(),
            }
            for t, q, v, *currency in rows
        ]
    )


def capex_slope(rows: list[tuple], hyperscalers: tuple[str, ...]) -> pd.DataFrame:
    """The capex_slope model alone, on the given input rows and no guidance."""
    models = {m.relation: m for m in runner.discover()}
    with duckdb.connect() as con:
        con.execute("create schema staging; create schema intermediate; create schema marts")
        con.register("inputs", metric_quarters(rows))
        con.execute("create table intermediate.metric_quarters as select * from inputs")
        con.execute(
            "create table marts.capex_guidance (ticker varchar, fiscal_year integer, period_kind varchar, "
            "qualitative boolean, statement_date date, superseded_on date, basis varchar, "
            "low_usd_bn double, high_usd_bn double, mid_usd_bn double)"
        )
        runner.set_variables(con, Settings(hyperscalers=hyperscalers).variables())
        runner.materialize(con, models["marts.capex_slope"])
        return con.sql("select * from marts.capex_slope").df().set_index(["ticker", "calendar_quarter"])


def test_ttm_growth_70_50_30_gives_a_slope_of_minus_20_points_twice():
    # TTM: 400 (2023), then 680 at 2024Q4 (+70%); 2024Q1 TTM 470 -> 705 at 2025Q1 needs 195
    # (+50%); 2024Q2 TTM 540 -> 702 at 2025Q2 needs 167 (+30%).
    capex = [100, 100, 100, 100, 170, 170, 170, 170, 195, 167]
    slope = capex_slope([("AAA", q, v) for q, v in zip(QUARTERS, capex, strict=False)], ("AAA",))
    growth = slope.loc["AAA", "capex_ttm_yoy_growth"]
    assert growth["2024Q4"] == pytest.approx(0.70)
    assert growth["2025Q1"] == pytest.approx(0.50)
    assert growth["2025Q2"] == pytest.approx(0.30)
    change = slope.loc["AAA", "ttm_growth_change"]
    assert pd.isna(change["2024Q4"])  # no TTM growth a quarter earlier
    assert change["2025Q1"] == pytest.approx(-0.20)
    assert change["2025Q2"] == pytest.approx(-0.20)
    assert slope.loc[("AAA", "2025Q1"), "capex_yoy_growth"] == pytest.approx(195 / 170 - 1)  # against 2024Q1
    assert slope.loc[("AAA", "2025Q1"), "capex_ttm"] == 705


def test_a_quarter_missing_a_company_is_incomplete_and_not_summed():
    rows = [("AAA", q, 10.0) for q in QUARTERS[:5]] + [("BBB", q, 1.0) for q in QUARTERS[:4]]
    aggregate = capex_slope(rows, ("AAA", "BBB")).loc["HYPERSCALERS"]
    assert aggregate.loc["2023Q4", "is_complete"] and aggregate.loc["2023Q4", "capex"] == 11
    assert aggregate.loc["2023Q4", "capex_ttm"] == 44
    assert not aggregate.loc["2024Q1", "is_complete"]
    assert pd.isna(aggregate.loc["2024Q1", "capex"]) and pd.isna(aggregate.loc["2024Q1", "capex_ttm"])


def test_a_company_in_another_currency_is_left_out_of_the_sum():
    # AAA and BBB report in US dollars, CCC in New Taiwan dollars: the sum is AAA + BBB alone, and a
    # quarter is complete when those two have reported it, whether CCC has or not.
    rows = (
        [("AAA", q, 10.0) for q in QUARTERS[:5]]
        + [("BBB", q, 1.0) for q in QUARTERS[:5]]
        + [("CCC", q, 300.0, "TWD") for q in QUARTERS[:4]]
    )
    slope = capex_slope(rows, ("AAA", "BBB", "CCC"))
    aggregate = slope.loc["HYPERSCALERS"]
    assert list(aggregate["capex"]) == [11.0] * 5
    assert list(aggregate["is_complete"]) == [True] * 5
    assert set(aggregate["currency"]) == {"USD"}
    assert aggregate.loc["2023Q4", "capex_ttm"] == 44
    assert slope.loc[("CCC", "2023Q1"), "capex"] == 300 and slope.loc[("CCC", "2023Q1"), "currency"] == "TWD"


def companyfacts(directory, cik: int, name: str, rows: list[dict]) -> None:
    """A companyfacts payload with capex (PaymentsToAcquirePropertyPlantAndEquipment) facts only."""
    path = directory / "sec" / "companyfacts" / f"CIK{cik:010d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "cik": cik,
                "entityName": f"{name} (test fixture)",
                "facts": {
                    "us-gaap": {
                        "PaymentsToAcquirePropertyPlantAndEquipment": {"label": "capex", "units": {"USD": rows}}
                    }
                },
            }
        )
    )


def ytd(start: str, end: str, billions: float, accn: str, fy: int, fp: str, form: str, filed: str) -> dict:
    return {
        "start": start,
        "end": end,
        "val": round(billions * B),
        "accn": accn,
        "fy": fy,
        "fp": fp,
        "form": form,
        "filed": filed,
    }


@pytest.fixture(scope="module")
def fixtures_built(tmp_path_factory):
    """Oracle FY2026 and Alphabet FY2025-26 capex shaped like the public figures, with the ledger."""
    tmp = tmp_path_factory.mktemp("slope")
    settings = Settings(data_dir=tmp / "var", seeds_dir=seeds_for(tmp, "ORCL", "GOOGL"))
    # Oracle FY2026 (June 2025 - May 2026): Q1 8.502B, nine months 39.170B, year 55.663B.
    companyfacts(
        tmp,
        1341439,
        "ORACLE",
        [
            ytd("2025-06-01", "2025-08-31", 8.502, "0001341439-25-000120", 2026, "Q1", "10-Q", "2025-09-10"),
            ytd("2025-06-01", "2026-02-28", 39.170, "0001341439-26-000030", 2026, "Q3", "10-Q", "2026-03-10"),
            ytd("2025-06-01", "2026-05-31", 55.663, "0001341439-26-000060", 2026, "FY", "10-K", "2026-06-20"),
        ],
    )
    # Alphabet 2025 quarters 17.20, 22.40, 23.95, 27.90 (year 91.45), then 2026 Q1 24.00.
    companyfacts(
        tmp,
        1652044,
        "ALPHABET",
        [
            ytd("2025-01-01", "2025-03-31", 17.20, "0001652044-25-000040", 2025, "Q1", "10-Q", "2025-04-25"),
            ytd("2025-01-01", "2025-06-30", 39.60, "0001652044-25-000060", 2025, "Q2", "10-Q", "2025-07-24"),
            ytd("2025-01-01", "2025-09-30", 63.55, "0001652044-25-000090", 2025, "Q3", "10-Q", "2025-10-30"),
            ytd("2025-01-01", "2025-12-31", 91.45, "0001652044-26-000010", 2025, "FY", "10-K", "2026-02-05"),
            ytd("2026-01-01", "2026-03-31", 24.00, "0001652044-26-000040", 2026, "Q1", "10-Q", "2026-04-24"),
        ],
    )
    ingest_filings(settings, ReplaySecFilings(tmp))
    with build(settings) as con:
        yield con.sql("select * from marts.capex_slope").df().set_index(["ticker", "calendar_quarter"])


def test_oracle_quarters_align_to_calendar_quarters(fixtures_built):
    oracle = fixtures_built.loc["ORCL"]
    assert str(oracle.loc["2025Q3", "period_end"])[:10] == "2025-08-31"  # 2025-08-31 - 45 days is in Q3
    assert oracle.loc["2025Q3", "capex"] == pytest.approx(8.502 * B)
    # FY2026 Q4 = year - nine months = 55.663 - 39.170; May 31 - 45 days is in Q2.
    assert str(oracle.loc["2026Q2", "period_end"])[:10] == "2026-05-31"
    assert oracle.loc["2026Q2", "capex"] == pytest.approx(16.493 * B)
    assert "2025Q4" not in oracle.index and "2026Q1" not in oracle.index  # no six-month figure


def test_guidance_implied_growth_against_the_prior_year(fixtures_built):
    q1 = fixtures_built.loc[("GOOGL", "2026Q1")]
    # In force at 2026-03-31: the 2026-02-04 statement, 175-185 (the 180-190 update came 2026-04-01).
    assert (q1["guidance_low"], q1["guidance_high"], q1["guidance_mid"]) == (175 * B, 185 * B, 180 * B)
    assert q1["prior_fiscal_year_capex"] == pytest.approx(91.45 * B)
    assert q1["guidance_implied_growth"] == pytest.approx(180 / 91.45 - 1)  # 96.8%
    assert round(q1["guidance_implied_growth"], 3) == 0.968
    assert q1["guidance_basis"] == "cash purchases of property and equipment"
    q4 = fixtures_built.loc[("GOOGL", "2025Q4")]
    assert (q4["guidance_low"], q4["guidance_high"]) == (91 * B, 93 * B)  # the 2025-10-29 range


@pytest.mark.slow  # the real payloads ingested and built
def test_real_nvidia_capex_slope(realdata, tmp_path):
    settings = Settings(data_dir=tmp_path / "var", hyperscalers=("NVDA",))
    ingest_filings(settings, ReplaySecFilings(realdata))
    with build(settings) as con:
        row = con.execute("""select capex, capex_ttm, capex_ttm_yoy_growth from marts.capex_slope
                             where ticker = 'NVDA' and calendar_quarter = '2025Q4'""").fetchone()
    assert row[0] == 1_284 * 1_000_000  # FY2026 Q4: 6,042 - 4,758
    assert row[1] == 6_042 * 1_000_000  # FY2026
    assert row[2] == pytest.approx(6_042 / 3_236 - 1)  # 86.7% against FY2025
