"""Every real filer of ../shared/realdata/sec through bulk mode, in one run: the corpus's eighteen
companyfacts and NVIDIA's, as the members of one companyfacts.zip. Each loads every fact it
holds, its odd facts flagged; three filers with unusual fiscal calendars, added through
companies.csv, give the marts.leverage figures worked out here by hand from their JSON.

Expected counts and figures come from the JSON, read here with `json`, never from the pipeline.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from functools import cache
from pathlib import Path

import duckdb
import pytest

from expectations.validate import run_suite
from pipeline.build.run import mart_suites
from pipeline.build.summary import warning_lines
from pipeline.ingest.bulk import ingest_sec_bulk
from pipeline.runtime.settings import Settings
from pipeline.sources.bulk import ReplaySecBulk
from tests.test_filings import build

pytestmark = pytest.mark.slow  # every filer of the real corpus, loaded and built

M = 1_000_000
APPLE, HOME_DEPOT, FREEPORT, FORD = 320193, 354950, 831259, 37996
# Added to the committed company list; the fiscal year end as SEC's submissions spell it (Apple's
# corpus submissions say 0926), or the date the 52/53-week year ends nearest to.
ADDED = [
    "AAPL,320193,Apple Inc.,0926",
    "COST,909832,Costco Wholesale Corporation,0831",
    "HD,354950,Home Depot Inc.,0131",
]
# The units every filer uses, which the warehouse knows before it holds any fact.
STANDARD_UNIT = re.compile(r"[A-Z]{3}(/shares)?|shares|pure")


def filer_files(realdata: Path) -> list[Path]:
    corpus = sorted((realdata / "sec" / "corpus" / "companyfacts").glob("CIK*.json"))
    return [*corpus, realdata / "sec" / "companyfacts" / "CIK0001045810.json"]


@cache
def payload(path: Path) -> dict:
    return json.loads(path.read_bytes())


def facts_in(path: Path) -> list[tuple[tuple, dict]]:
    """Every fact of a companyfacts file: ((cik, taxonomy, concept, unit, period, accn), the row)."""
    cik = int(path.name[3:13])
    return [
        (
            (
                cik,
                taxonomy,
                concept,
                unit,
                f"{row['start']}/{row['end']}" if "start" in row else row["end"],
                row["accn"],
            ),
            row,
        )
        for taxonomy, concepts in payload(path)["facts"].items()
        for concept, body in concepts.items()
        for unit, rows in body["units"].items()
        for row in rows
    ]


def distinct_facts(path: Path) -> int:
    """Distinct (taxonomy, concept, unit, start, end, accn) in a companyfacts file."""
    data = payload(path)
    return len(
        {
            (taxonomy, concept, unit, row.get("start"), row["end"], row["accn"])
            for taxonomy, concepts in data["facts"].items()
            for concept, body in concepts.items()
            for unit, rows in body["units"].items()
            for row in rows
        }
    )


@pytest.fixture(scope="module")
def corpus(realdata, tmp_path_factory):
    """One bulk run over a companyfacts.zip of every filer, then a build with AAPL, COST and HD
    added to the company list: (the settings, the run's result, a connection to the warehouse)."""
    tmp = tmp_path_factory.mktemp("corpus")
    archive = tmp / "replay" / "sec" / "bulk" / "companyfacts.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bulk:
        for path in filer_files(realdata):
            bulk.write(path, path.name)
    seeds = tmp / "seeds"
    shutil.copytree(Settings().seeds_dir, seeds)
    with open(seeds / "companies.csv", "a") as companies:
        companies.write("\n".join(ADDED) + "\n")
    settings = Settings(data_dir=tmp / "var", seeds_dir=seeds)
    result = ingest_sec_bulk(settings, ReplaySecBulk(tmp / "replay"))
    con = build(settings)
    yield settings, result, con
    con.close()


def test_every_filer_loads_every_fact_it_holds(corpus, realdata):
    _, result, con = corpus
    expected = {int(path.name[3:13]): distinct_facts(path) for path in filer_files(realdata)}
    loaded = dict(con.execute("select cik, count(*) from raw.xbrl_facts group by cik").fetchall())
    print(f"\n{len(loaded)} filers, {sum(loaded.values()):,} facts loaded: {loaded}")
    assert result.failed == {}
    assert loaded == expected
    assert result.facts == sum(expected.values())
    # Every taxonomy: NVIDIA's ecd and ffd, Freeport's srt, the invest of four filers.
    taxonomies = {(int(p.name[3:13]), t) for p in filer_files(realdata) for t in payload(p)["facts"]}
    assert set(con.execute("select distinct cik, taxonomy from raw.xbrl_facts").fetchall()) == taxonomies


def test_8k_rows_load_with_fy_and_fp_as_filed(corpus, realdata):
    """Home Depot's 8-K rows carry fy 0 and fp "", Ford's fp "CY", Apple's neither: each as filed."""
    _, _, con = corpus
    files = {int(p.name[3:13]): p for p in filer_files(realdata)}
    for cik, fy, fp in ((HOME_DEPOT, 0, ""), (FORD, 2009, "CY"), (APPLE, None, None)):
        rows = [row for _, row in facts_in(files[cik]) if row.get("fy") == fy and row.get("fp") == fp]
        assert rows, (cik, fy, fp)
        stored = con.execute(
            "select count(*) from raw.xbrl_facts where cik = ? and fy is not distinct from ? "
            "and fp is not distinct from ?",
            [cik, fy, fp],
        ).fetchone()[0]
        assert stored == len(rows), (cik, fy, fp)


def test_odd_facts_load_flagged_and_the_run_lists_the_warnings(corpus, realdata):
    _, result, con = corpus
    expected: dict[tuple, set[str]] = {}
    for path in filer_files(realdata):
        for key, row in facts_in(path):
            unit = key[3]
            odd = {
                "new unit": not STANDARD_UNIT.fullmatch(unit),
                "abs(val) > 2^53": abs(row["val"]) > 2**53,
                "negative share count": unit == "shares" and row["val"] < 0,
                "10-K or 10-Q fact filed before its period ends": row["form"] in ("10-K", "10-Q")
                and row["filed"] < row["end"],
                "end before start": "start" in row and row["end"] < row["start"],
            }
            if any(odd.values()):
                expected[key] = {name for name, found in odd.items() if found}
    flagged = {
        (cik, taxonomy, concept, unit, period, accn): set(flags.split("; "))
        for cik, taxonomy, concept, unit, period, accn, flags in con.execute(
            "select cik, taxonomy, concept, unit, period, accn, flags from raw.xbrl_facts where flags is not null"
        ).fetchall()
    }
    print(f"\n{len(flagged):,} facts flagged")
    assert flagged == expected
    # Freeport's public float of 27,600 trillion dollars, a scale error: the one value beyond 2^53.
    assert [k for k, v in expected.items() if "abs(val) > 2^53" in v] == [
        (FREEPORT, "dei", "EntityPublicFloat", "USD", "2010-06-30", "0000831259-11-000033")
    ]
    summary = con.execute(
        "select summary from meta.validations where run_id = ? and suite = 'raw_xbrl_facts'", [result.run_id]
    ).fetchone()[0]
    assert "; warning: abs(val) > 2^53 flagged on 1 row of 1 member(s): CIK0000831259.json (1)" in summary
    negative = sum("negative share count" in v for v in expected.values())
    assert f"; warning: negative share count flagged on {negative} rows of " in summary
    lines = warning_lines(con, result.run_id)
    assert lines[0] == "Warnings (loaded, flagged; see the validation reports):"
    assert "  raw_xbrl_facts: abs(val) > 2^53 flagged on 1 row of 1 member(s): CIK0000831259.json (1)" in lines


def latest(path: Path, concept: str, period: str) -> tuple[float, str]:
    """A us-gaap USD fact's value and accession as last filed: the version the marts read."""
    versions = [
        (row["filed"], row["accn"], row["val"])
        for (_, taxonomy, name, unit, at, _), row in facts_in(path)
        if (taxonomy, name, unit, at) == ("us-gaap", concept, "USD", period)
    ]
    _, accn, val = max(versions)
    return val, accn


def leverage_row(con: duckdb.DuckDBPyConnection, ticker: str, period_end: str) -> dict:
    cursor = con.execute(
        "select * from marts.leverage where ticker = ? and period_end = cast(? as date)", [ticker, period_end]
    )
    [row] = cursor.fetchall()
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def test_apple_third_quarter_of_fiscal_2021(corpus, realdata):
    """Apple's 52/53-week year ends on the last Saturday of September: FY2021 ran 2020-09-27 to
    2021-09-25, and its third quarter ended 2021-06-26. The 10-Qs' cash flows are year to date:
    Q3 = 9 months - 6 months. The FY2022 10-Qs repeat the FY2021 figures, unchanged."""
    _, _, con = corpus
    path = realdata / "sec" / "corpus" / "companyfacts" / "CIK0000320193.json"
    capex = "PaymentsToAcquirePropertyPlantAndEquipment"
    cash = "NetCashProvidedByUsedInOperatingActivities"
    assert latest(path, capex, "2020-09-27/2021-06-26") == (7_862 * M, "0000320193-22-000070")
    assert latest(path, capex, "2020-09-27/2021-03-27") == (5_769 * M, "0000320193-22-000059")
    assert latest(path, cash, "2020-09-27/2021-06-26") == (83_838 * M, "0000320193-22-000070")
    assert latest(path, cash, "2020-09-27/2021-03-27") == (62_744 * M, "0000320193-22-000059")
    assert latest(path, "LongTermDebtCurrent", "2021-06-26") == (8_039 * M, "0000320193-21-000065")
    assert latest(path, "LongTermDebtNoncurrent", "2021-06-26") == (105_752 * M, "0000320193-21-000065")
    assert latest(path, "StockholdersEquity", "2021-06-26") == (64_280 * M, "0000320193-22-000070")

    row = leverage_row(con, "AAPL", "2021-06-26")
    assert (row["fiscal_year"], row["fiscal_quarter"], row["currency"]) == (2021, 3, "USD")
    assert row["capex"] == (7_862 - 5_769) * M == 2_093 * M
    assert row["operating_cash_flow"] == (83_838 - 62_744) * M == 21_094 * M
    assert row["free_cash_flow"] == (21_094 - 2_093) * M == 19_001 * M
    # Debt is the current and non-current term debt (commercial paper is no concept of the map).
    assert row["total_debt"] == (8_039 + 105_752) * M
    assert row["debt_to_equity"] == pytest.approx(113_791 / 64_280)
    assert set(row["source_accessions"]) >= {"0000320193-22-000070", "0000320193-22-000059", "0000320193-21-000065"}


def test_costco_fourth_quarter_of_fiscal_2020(corpus, realdata):
    """Costco's 52/53-week year ends on the Sunday nearest 31 August, in quarters of 12, 12, 12 and
    16 weeks: FY2020 ran 2019-09-02 to 2020-08-30, its 36 weeks to 2020-05-10 (251 days, not nine
    months). The 16-week fourth quarter is FY - 36 weeks."""
    _, _, con = corpus
    path = realdata / "sec" / "corpus" / "companyfacts" / "CIK0000909832.json"
    capex = "PaymentsToAcquirePropertyPlantAndEquipment"
    cash = "NetCashProvidedByUsedInOperatingActivities"
    assert latest(path, capex, "2019-09-02/2020-08-30") == (2_810 * M, "0000909832-20-000017")
    assert latest(path, capex, "2019-09-02/2020-05-10") == (1_958 * M, "0000909832-21-000008")
    assert latest(path, cash, "2019-09-02/2020-08-30") == (8_861 * M, "0000909832-20-000017")
    assert latest(path, cash, "2019-09-02/2020-05-10") == (4_619 * M, "0000909832-21-000008")
    assert latest(path, "LongTermDebtCurrent", "2020-08-30") == (95 * M, "0000909832-21-000008")
    assert latest(path, "LongTermDebtNoncurrent", "2020-08-30") == (7_514 * M, "0000909832-21-000008")
    assert latest(path, "StockholdersEquity", "2020-08-30") == (18_284 * M, "0000909832-21-000008")

    row = leverage_row(con, "COST", "2020-08-30")
    assert (row["fiscal_year"], row["fiscal_quarter"], row["currency"]) == (2020, 4, "USD")
    assert row["capex"] == (2_810 - 1_958) * M == 852 * M
    assert row["operating_cash_flow"] == (8_861 - 4_619) * M == 4_242 * M
    assert row["free_cash_flow"] == (4_242 - 852) * M == 3_390 * M
    assert row["total_debt"] == (95 + 7_514) * M
    assert row["debt_to_equity"] == pytest.approx(7_609 / 18_284)


def test_home_depot_fourth_quarter_of_fiscal_2020(corpus, realdata):
    """Home Depot's 52/53-week year ends on the Sunday nearest 31 January: its fiscal 2020 ran
    2020-02-03 to 2021-01-31 (named FY2021 here, for the calendar year it ends in). Q4 = FY - 9
    months; capex is PaymentsToAcquireProductiveAssets; debt is LongTermDebt alone, a total that
    holds the current installments, as no current or non-current concept is filed that day."""
    _, _, con = corpus
    path = realdata / "sec" / "corpus" / "companyfacts" / "CIK0000354950.json"
    capex = "PaymentsToAcquireProductiveAssets"
    cash = "NetCashProvidedByUsedInOperatingActivities"
    assert latest(path, capex, "2020-02-03/2021-01-31") == (2_463 * M, "0000354950-21-000089")
    assert latest(path, capex, "2020-02-03/2020-11-01") == (1_503 * M, "0000354950-20-000103")
    assert latest(path, cash, "2020-02-03/2021-01-31") == (18_839 * M, "0000354950-21-000089")
    assert latest(path, cash, "2020-02-03/2020-11-01") == (17_415 * M, "0000354950-20-000103")
    assert latest(path, "LongTermDebt", "2021-01-31") == (34_750 * M, "0000354950-21-000089")
    assert latest(path, "StockholdersEquity", "2021-01-31") == (3_299 * M, "0000354950-21-000147")

    row = leverage_row(con, "HD", "2021-01-31")
    assert (row["fiscal_year"], row["fiscal_quarter"], row["currency"]) == (2021, 4, "USD")
    assert row["capex"] == (2_463 - 1_503) * M == 960 * M
    assert row["operating_cash_flow"] == (18_839 - 17_415) * M == 1_424 * M
    assert row["free_cash_flow"] == (1_424 - 960) * M == 464 * M
    assert row["total_debt"] == 34_750 * M
    assert row["debt_to_equity"] == pytest.approx(34_750 / 3_299)


@pytest.mark.parametrize("mart", ["leverage", "capex_slope"])
def test_the_marts_built_on_every_filer_pass_their_suites(corpus, mart):
    settings, _, con = corpus
    [suite] = [suite for contract, suite in mart_suites() if contract.name == mart]
    rows = suite.rows(con, f"select * from marts.{mart}", settings.variables())
    checked = run_suite(suite.suite, rows, suite.ID_COLUMNS)
    assert checked.success, checked.summary
