"""SEC filings end to end: real NVIDIA payloads, the bundled sample, and hand-built fixtures.

Expected figures come from the payloads or from ../shared/reference, worked out by hand (or in
the test from the raw JSON), never from the pipeline's own output.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.filings import ingest_filings
from pipeline.payloads.seeds import load_seeds
from pipeline.runtime.errors import MissingUserAgent, PayloadError, ValidationFailed
from pipeline.runtime.settings import SAMPLE_DIR, Settings
from pipeline.sources.filings import ReplaySecFilings, SecFilings
from pipeline.sources.sec import RecordedSecClient
from tests.conftest import copied
from transforms import runner
from warehouse.connection import connect, transaction

NVDA_CIK = 1045810
NVDA_FACTS = "sec/companyfacts/CIK0001045810.json"
NVDA_SUBMISSIONS = "sec/submissions/CIK0001045810.json"
M = 1_000_000
AS_OF = (
    "select value from staging.xbrl_facts where cik = ? and concept = ? and period = ? "
    "and filed <= ? and (superseded_on is null or superseded_on > ?)"
)


def build(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The seeds loaded and the models built on what is ingested, without validating or publishing."""
    con = duckdb.connect(str(settings.paths.warehouse))
    with transaction(con):
        load_seeds(con, settings, "test", [])
    runner.build(con, settings.variables())
    return con


def seeds_for(tmp: Path, *tickers: str) -> Path:
    """A seeds folder listing only `tickers`, with the committed concept map."""
    committed = Settings().seeds_dir
    folder = tmp / "seeds"
    folder.mkdir()
    lines = (committed / "companies.csv").read_text().splitlines()
    (folder / "companies.csv").write_text(
        "\n".join([lines[0], *[line for line in lines[1:] if line.split(",")[0] in tickers]]) + "\n"
    )
    shutil.copy(committed / "concept_map.csv", folder / "concept_map.csv")
    return folder


@pytest.fixture(scope="module")
def nvidia(nvidia_filings, tmp_path_factory):
    """A warehouse loaded by replaying ../shared/realdata/sec (tests/conftest.py), copied and built."""
    ingested, result = nvidia_filings
    settings = ingested.replace(data_dir=copied(ingested.data_dir, tmp_path_factory.mktemp("nvidia") / "var"))
    con = build(settings)
    yield result, con
    con.close()


def quarters(con, concept_or_metric: str, fiscal_year: int, column: str = "concept") -> list[tuple]:
    view = "intermediate.xbrl_quarters" if column == "concept" else "intermediate.metric_quarters"
    return con.execute(
        f"select fiscal_quarter, period_end, calendar_quarter, value, is_derived, concept from {view} "
        f"where cik = ? and {column} = ? and fiscal_year = ? order by period_end",
        [NVDA_CIK, concept_or_metric, fiscal_year],
    ).fetchall()


def test_nvidia_fy2026_capex(nvidia):
    _, con = nvidia
    annual = con.execute(
        "select value from staging.xbrl_facts_latest where cik = ? and concept = ? and period = ?",
        [NVDA_CIK, "PaymentsToAcquireProductiveAssets", "2025-01-27/2026-01-25"],
    ).fetchone()
    assert annual == (6042 * M,)
    rows = quarters(con, "capex", 2026, column="metric")
    # 1,227; 3,122 - 1,227; 4,758 - 3,122; 6,042 - 4,758 (the year-to-date facts in the README)
    assert [r[3] for r in rows] == [1227 * M, 1895 * M, 1636 * M, 1284 * M]
    assert [r[4] for r in rows] == [False, True, True, True]
    assert rows[-1][:3] == (4, dt.date(2026, 1, 25), "2025Q4")


def test_nvidia_capex_comes_from_productive_assets_from_fy2022(nvidia):
    _, con = nvidia
    concepts = dict(
        con.execute(
            "select fiscal_year, list_distinct(list(concept)) from intermediate.metric_quarters "
            "where cik = ? and metric = 'capex' group by fiscal_year",
            [NVDA_CIK],
        ).fetchall()
    )
    assert {y: c for y, c in concepts.items() if y >= 2022} == {
        y: ["PaymentsToAcquireProductiveAssets"] for y in range(2022, 2028) if y in concepts
    }
    assert set(range(2022, 2028)) <= set(concepts)
    assert concepts[2019] == ["PaymentsToAcquirePropertyPlantAndEquipment"]


def latest_duration_facts(path: Path, shortest: int, longest: int) -> dict[tuple, float]:
    """(taxonomy, concept, unit, start, end) -> the last-filed value of each fact in a currency unit
    lasting `shortest` to `longest` days, read straight from the JSON."""
    data = json.loads(path.read_bytes())
    found: dict[tuple, tuple] = {}
    for taxonomy, concepts in data["facts"].items():
        for concept, body in concepts.items():
            for unit, rows in body["units"].items():
                if len(unit) != 3 or not unit.isupper():
                    continue
                for row in rows:
                    if "start" not in row:
                        continue
                    days = (dt.date.fromisoformat(row["end"]) - dt.date.fromisoformat(row["start"])).days
                    key = (taxonomy, concept, unit, row["start"], row["end"])
                    version = (row["filed"], row["accn"])
                    if shortest <= days <= longest and (key not in found or version > found[key][0]):
                        found[key] = (version, row["val"])
    return {key: value for key, (_, value) in found.items()}


def latest_year_facts(path: Path) -> dict[tuple, float]:
    """Every 12-month fact (52 or 53 weeks, or a calendar year) at its last-filed value."""
    return latest_duration_facts(path, 357, 378)


def latest_quarter_facts(path: Path) -> dict[tuple, float]:
    """Every 3-month fact at its last-filed value: the figures NVIDIA reported for its quarters."""
    return latest_duration_facts(path, 84, 98)


def test_quarters_sum_to_the_year_less_their_gaps_for_every_concept(nvidia, realdata):
    """The reported quarters add up to the year once the tagged-derived gaps are taken out: no
    difference is hidden."""
    _, con = nvidia
    years = latest_year_facts(realdata / NVDA_FACTS)
    found = defaultdict(list)
    for taxonomy, concept, unit, start, end, value, gap in con.execute(
        "select taxonomy, concept, unit, period_start, period_end, value, coalesce(tagged_derived_gap, 0) "
        "from intermediate.xbrl_quarters where cik = ?",
        [NVDA_CIK],
    ).fetchall():
        found[(taxonomy, concept, unit)].append((start, end, value, gap))
    checked, wrong, with_gaps = 0, [], 0
    for (taxonomy, concept, unit, start, end), annual in years.items():
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        inside = [(v, g) for s, e, v, g in found[(taxonomy, concept, unit)] if s >= first and e <= last]
        if len(inside) == 4:
            checked += 1
            with_gaps += any(g for _, g in inside)
            if abs(sum(v - g for v, g in inside) - annual) > 0.5:
                wrong.append((concept, start, end, sum(v for v, _ in inside), annual))
    assert wrong == []
    assert checked > 800  # every concept with a year and its four quarters, not one example
    assert len({key[1] for key in years}) > 100
    assert with_gaps > 100  # tagged quarters that differ from the year-to-date difference by rounding


def test_a_quarter_with_a_tagged_three_month_value_shows_exactly_that_value(nvidia, realdata):
    _, con = nvidia
    rows = {
        (t, c, u, str(s), str(e)): (v, derived)
        for t, c, u, s, e, v, derived in con.execute(
            "select taxonomy, concept, unit, period_start, period_end, value, is_derived "
            "from intermediate.xbrl_quarters where cik = ?",
            [NVDA_CIK],
        ).fetchall()
    }
    reported = latest_quarter_facts(realdata / NVDA_FACTS)
    shown = {key: rows[key] for key in reported if key in rows}
    assert len(shown) > 2000  # every duration concept's reported quarters, not one example
    assert {key: v for key, (v, _) in shown.items()} == {key: float(reported[key]) for key in shown}
    assert not any(derived for _, derived in shown.values())
    # Operating income for the quarter ended 2024-10-27, from the JSON: tagged 21,869M; the 10-Qs'
    # year to date 57,419M - 35,551M = 21,868M. The reported figure wins; the gap is kept.
    row = con.execute(
        "select value, derived_value, tagged_derived_gap, is_derived from intermediate.xbrl_quarters "
        "where cik = ? and concept = 'OperatingIncomeLoss' and period_end = '2024-10-27'",
        [NVDA_CIK],
    ).fetchone()
    assert row == (21_869 * M, 21_868 * M, 1 * M, False)


def test_as_of_a_date_shows_what_was_filed_by_then(nvidia):
    _, con = nvidia
    args = [NVDA_CIK, "PaymentsToAcquireProductiveAssets", "2025-01-27/2026-01-25"]
    assert con.execute(AS_OF, [*args, dt.date(2026, 2, 1), dt.date(2026, 2, 1)]).fetchall() == []
    assert con.execute(AS_OF, [*args, dt.date(2026, 3, 1), dt.date(2026, 3, 1)]).fetchall() == [(6042 * M,)]


def first_restatement(path: Path) -> tuple[str, str, list[tuple[str, float]]]:
    """A us-gaap USD fact whose value changed between filings, and its (filed, value) history."""
    data = json.loads(path.read_bytes())
    for concept, body in sorted(data["facts"]["us-gaap"].items()):
        history = defaultdict(list)
        for row in body["units"].get("USD", []):
            history[f"{row['start']}/{row['end']}" if "start" in row else row["end"]].append((row["filed"], row["val"]))
        for period, versions in sorted(history.items()):
            versions.sort()
            if len({v for _, v in versions}) > 1 and len({f for f, _ in versions}) == len(versions):
                return concept, period, versions
    raise AssertionError("no restated fact in the file")


def test_a_restated_value_shows_its_first_figure_before_the_restatement(nvidia, realdata):
    _, con = nvidia
    concept, period, versions = first_restatement(realdata / NVDA_FACTS)
    _, first_value = versions[0]
    changed_filed, changed_value = next((f, v) for f, v in versions if v != first_value)
    on = dt.date.fromisoformat(changed_filed)
    before = on - dt.timedelta(days=1)
    assert con.execute(AS_OF, [NVDA_CIK, concept, period, before, before]).fetchall() == [(float(first_value),)]
    assert con.execute(AS_OF, [NVDA_CIK, concept, period, on, on]).fetchall() == [(float(changed_value),)]


def test_nvidia_submissions_load_1007_recent_filings_and_report_the_missing_archive(nvidia):
    result, con = nvidia
    assert con.execute("select count(*) from raw.filings where cik = ?", [NVDA_CIK]).fetchone() == (1007,)
    assert con.execute(
        "select form, filing_date, primary_document from raw.filings where accession_number = ?",
        ["0001347842-26-000007"],
    ).fetchone() == ("4", dt.date(2026, 3, 4), "xslF345X05/wk-form4_1772663608.xml")
    assert any("CIK0001045810-submissions-001.json" in note and "not loaded" in note for note in result.notes)


def test_every_version_of_every_fact_is_kept(nvidia, realdata):
    _, con = nvidia
    expected = sum(
        len(rows)
        for concepts in json.loads((realdata / NVDA_FACTS).read_bytes())["facts"].values()
        for body in concepts.values()
        for rows in body["units"].values()
    )
    assert con.execute("select count(*) from raw.xbrl_facts where cik = ?", [NVDA_CIK]).fetchone() == (expected,)
    assert con.execute("select count(*) from raw.xbrl_facts where cik = ? and fy is null", [NVDA_CIK]).fetchone()[0] > 0


def recorded_edgar(tmp: Path, realdata: Path) -> Path:
    """Recorded SEC answers: the real NVIDIA payloads plus a small archive file for filings.files."""
    folder = tmp / "edgar"
    (folder / "submissions").mkdir(parents=True)
    (folder / "companyfacts").mkdir()
    shutil.copy(realdata / NVDA_SUBMISSIONS, folder / "submissions")
    shutil.copy(realdata / NVDA_FACTS, folder / "companyfacts")
    archive = {
        "accessionNumber": ["0001045810-19-000001", "0001045810-19-000002"],
        "form": ["10-Q", "8-K"],
        "filingDate": ["2019-11-15", "2019-11-18"],
        "reportDate": ["2019-10-27", ""],
        "primaryDocument": ["q3.htm", "8k.htm"],
    }
    (folder / "submissions" / "CIK0001045810-submissions-001.json").write_text(json.dumps(archive))
    return folder


def test_a_live_run_fetches_the_archive_file_and_skips_unchanged_payloads(realdata, settings, tmp_path):
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "NVDA"))
    client = RecordedSecClient(recorded_edgar(tmp_path, realdata))

    first = ingest_filings(settings, SecFilings(client))

    assert "https://data.sec.gov/submissions/CIK0001045810-submissions-001.json" in client.calls
    assert (first.payloads, first.filings) == (3, 1007 + 2)
    with connect(settings.paths.warehouse) as con:
        assert con.execute(
            "select form from raw.filings where accession_number = '0001045810-19-000001'"
        ).fetchone() == ("10-Q",)
        assert con.execute("select count(*) from meta.sec_http").fetchone() == (3,)
    assert len(list((settings.paths.raw / "sec" / "submissions").glob("*.json.meta.json"))) == 2

    second = ingest_filings(settings, SecFilings(client))
    assert (second.payloads, second.facts, second.filings) == (0, 0, 0)
    assert sum("unchanged" in note for note in second.notes) == 2  # submissions and companyfacts
    assert len(list((settings.paths.raw / "sec" / "companyfacts").glob("*.json.meta.json"))) == 1


def sample_counts() -> tuple[dict[int, int], dict[int, int]]:
    """CIK -> facts (a row repeated word for word counted once) and CIK -> filings of the sample's
    payloads, read with json."""
    facts, filings = {}, {}
    for path in sorted((SAMPLE_DIR / "sec" / "companyfacts").glob("CIK*.json")):
        data = json.loads(path.read_bytes())
        facts[int(data["cik"])] = len(
            {
                (taxonomy, concept, unit, json.dumps(row, sort_keys=True))
                for taxonomy, concepts in data["facts"].items()
                for concept, body in concepts.items()
                for unit, rows in body["units"].items()
                for row in rows
            }
        )
    for path in sorted((SAMPLE_DIR / "sec" / "submissions").glob("CIK*.json")):
        data = json.loads(path.read_bytes())
        filings[int(data["cik"])] = len(set(data["filings"]["recent"]["accessionNumber"]))
    return facts, filings


def per_company(settings: Settings, table: str) -> dict[int, int]:
    with connect(settings.paths.warehouse) as con:
        return dict(con.execute(f"select cik, count(*) from {table} group by cik").fetchall())


def run_row(settings: Settings, run_id: str) -> tuple[str, dict | None]:
    with connect(settings.paths.warehouse) as con:
        status, failed = con.execute("select status, failed from meta.runs where run_id = ?", [run_id]).fetchone()
    return status, json.loads(failed) if failed else None


ORCL_CIK = 1341439


def test_a_truncated_payload_costs_only_its_company(settings, tmp_path):
    """Oracle's companyfacts cut in half: Oracle loads nothing (its good submissions neither: a
    company loads whole), the five other companies load every fact and filing, and the run is
    partial, naming Oracle with why."""
    replay = tmp_path / "replay"
    shutil.copytree(SAMPLE_DIR / "sec", replay / "sec")
    truncated = replay / "sec" / "companyfacts" / "CIK0001341439.json"
    whole = truncated.read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])

    result = ingest_filings(settings, ReplaySecFilings(replay))

    [(item, why)] = result.failed.items()
    assert item == "CIK0001341439 ORCL"
    assert why.startswith("CIK0001341439.json: not valid JSON, perhaps truncated (")
    assert "moved to" not in why and truncated.exists()  # a replayed folder's file stays where it is
    facts, filings = sample_counts()
    del facts[ORCL_CIK], filings[ORCL_CIK]
    assert per_company(settings, "raw.xbrl_facts") == facts
    assert per_company(settings, "raw.filings") == filings
    assert (result.facts, result.filings, result.payloads) == (sum(facts.values()), sum(filings.values()), 10)
    assert run_row(settings, result.run_id) == ("partial", {item: why})


def test_a_company_failing_validation_costs_only_that_company(settings, tmp_path):
    replay = tmp_path / "replay"
    shutil.copytree(SAMPLE_DIR / "sec", replay / "sec")
    path = replay / "sec" / "companyfacts" / "CIK0001045810.json"
    bad = sum(
        row["accn"] == "0001045810-25-000101"
        for concepts in json.loads(path.read_bytes())["facts"].values()
        for body in concepts.values()
        for rows in body["units"].values()
        for row in rows
    )
    path.write_text(path.read_text().replace('"0001045810-25-000101"', '"45810-25-101"'))

    result = ingest_filings(settings, ReplaySecFilings(replay))

    [(item, why)] = result.failed.items()
    assert item == "CIK0001045810 NVDA"
    assert why.startswith(
        f"validation of raw_xbrl_facts failed: accession number is ##########-##-###### failed on {bad} rows: 1045810 "
    )
    facts, filings = sample_counts()
    del facts[NVDA_CIK], filings[NVDA_CIK]
    assert per_company(settings, "raw.xbrl_facts") == facts
    assert per_company(settings, "raw.filings") == filings
    with connect(settings.paths.warehouse) as con:
        assert con.execute("select success from meta.validations where suite = 'raw_xbrl_facts'").fetchall() == [
            (False,)
        ]


def test_a_folder_without_sec_replays_nothing_and_does_not_fail(settings, tmp_path):
    (tmp_path / "prices-only" / "prices").mkdir(parents=True)
    result = ingest_filings(settings, ReplaySecFilings(tmp_path / "prices-only"))
    assert result.facts == 0 and "no sec/ folder" in result.notes[0]


def test_a_live_run_without_a_user_agent_fails_before_any_request(settings):
    from pipeline.daily import sources

    with pytest.raises(MissingUserAgent, match="THESIS_SEC_USER_AGENT"):
        sources(settings, None)
    assert not (settings.paths.raw / "sec").exists()


def oracle_reference_facts() -> dict:
    """Oracle's 2025-05-31 balance sheet and FY2025 capex from ../shared/reference/README.md, as its
    FY2025 10-K would file them; then a FY2026 Q1 10-Q under the new debt concepts, repeating the
    year-end balances as comparatives. The 2025-08-31 figures are illustrative."""
    ten_k = {"accn": "0001341439-25-000090", "fy": 2025, "fp": "FY", "form": "10-K", "filed": "2025-06-18"}
    ten_q = {"accn": "0001341439-25-000120", "fy": 2026, "fp": "Q1", "form": "10-Q", "filed": "2025-09-10"}

    def usd(*rows):
        return {"units": {"USD": [dict(row) for row in rows]}}

    return {
        "cik": 1341439,
        "entityName": "ORACLE CORP (test fixture)",
        "facts": {
            "us-gaap": {
                "PaymentsToAcquirePropertyPlantAndEquipment": usd(
                    {"start": "2024-06-01", "end": "2025-05-31", "val": 21_215_000_000, **ten_k},
                    {"start": "2025-06-01", "end": "2025-08-31", "val": 8_500_000_000, **ten_q},
                ),
                "DebtCurrent": usd({"end": "2025-05-31", "val": 7_271_000_000, **ten_k}),
                "LongTermNotesPayable": usd({"end": "2025-05-31", "val": 85_297_000_000, **ten_k}),
                "NotesPayableCurrent": usd(
                    {"end": "2025-05-31", "val": 7_271_000_000, **ten_q},
                    {"end": "2025-08-31", "val": 7_000_000_000, **ten_q},
                ),
                "LongTermNotesAndLoans": usd(
                    {"end": "2025-05-31", "val": 85_297_000_000, **ten_q},
                    {"end": "2025-08-31", "val": 90_000_000_000, **ten_q},
                ),
                "StockholdersEquity": usd(
                    {"end": "2025-05-31", "val": 20_969_000_000, **ten_k},
                    {"end": "2025-08-31", "val": 22_000_000_000, **ten_q},
                ),
            }
        },
    }


def test_oracle_leverage_at_fiscal_2025_year_end_and_across_the_retagging(settings, tmp_path):
    replay = tmp_path / "replay" / "sec" / "companyfacts"
    replay.mkdir(parents=True)
    (replay / "CIK0001341439.json").write_text(json.dumps(oracle_reference_facts()))
    ingest_filings(settings, ReplaySecFilings(tmp_path / "replay"))
    with build(settings) as con:
        rows = con.execute(
            "select period_end, fiscal_year, fiscal_quarter, calendar_quarter, total_debt, "
            "stockholders_equity, debt_to_equity from marts.leverage where ticker = 'ORCL' "
            "order by period_end"
        ).fetchall()
    year_end, first_quarter = rows
    assert year_end[:4] == (dt.date(2025, 5, 31), 2025, 4, "2025Q2")
    assert year_end[4] == pytest.approx(92.568e9) and year_end[5] == pytest.approx(20.969e9)
    assert round(year_end[6], 2) == 4.41
    # After the re-tagging the series continues from the new concepts, and the year end is not counted twice.
    assert first_quarter[:4] == (dt.date(2025, 8, 31), 2026, 1, "2025Q3")
    assert first_quarter[4] == pytest.approx(97e9)


@pytest.mark.slow  # a whole run
def test_the_sample_builds_leverage_with_its_restatement_and_53_week_year(settings):
    from pipeline.build.run import build as build_flow
    from pipeline.ingest.prices import ingest_prices
    from pipeline.sources.prices import ReplayPrices

    ingest_prices(settings, ReplayPrices(SAMPLE_DIR, mode="sample"))
    ingest_filings(settings, ReplaySecFilings(SAMPLE_DIR, mode="sample"))
    build_flow(settings)
    con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
    try:
        mart = {
            (t, e): (q, cq, ocf, capex)
            for t, e, q, cq, ocf, capex in con.execute(
                "select ticker, period_end, fiscal_quarter, calendar_quarter, operating_cash_flow, capex "
                "from marts.leverage"
            ).fetchall()
        }
        period = "2024-01-29/2024-04-28"  # FY2025 Q1
        restated = [
            con.execute(AS_OF, [NVDA_CIK, "NetCashProvidedByUsedInOperatingActivities", period, d, d]).fetchone()[0]
            for d in (dt.date(2025, 5, 27), dt.date(2025, 5, 28))  # the FY2026 Q1 10-Q is filed 2025-05-28
        ]
        eight_k = con.execute("select fy, fp from raw.xbrl_facts where form = '8-K'").fetchall()
    finally:
        con.close()
    # Made-up sample figures (sample/generate_sec.py): FY2025 Q1 OCF 500M, restated to 480M by the
    # FY2026 Q1 10-Q; FY2025 Q2 (to 2024-07-28) OCF = 1,100 - 480 = 620, capex = 250 - 100 = 150.
    assert restated == [500 * M, 480 * M]
    assert mart[("NVDA", dt.date(2024, 7, 28))][2:] == (620 * M, 150 * M)
    # FY2026 is 53 weeks: its fourth quarter runs 14 weeks, 2025-10-27 .. 2026-02-01, in calendar
    # 2025Q4 (2026-02-01 - 45 days = 2025-12-18); OCF 3,500 - 2,400 = 1,100, capex 1,100 - 750 = 350.
    assert mart[("NVDA", dt.date(2026, 2, 1))] == (4, "2025Q4", 1100 * M, 350 * M)
    # The capex concept switches between FY2025 (last quarter to 2025-01-26) and FY2026 (first
    # quarter to 2025-04-27) without a gap: 600 - 420 = 180 and 200.
    assert [mart[("NVDA", e)][3] for e in (dt.date(2025, 1, 26), dt.date(2025, 4, 27))] == [180 * M, 200 * M]
    assert mart[("ORCL", dt.date(2025, 8, 31))][:2] == (1, "2025Q3")
    assert eight_k == [(None, None)]


# Bad payloads: each refused with one line naming the file and the fault; a payload in this run's
# raw zone is quarantined, a replayed folder's is left where it is.

MSFT_FACTS = "sec/companyfacts/CIK0000789019.trimmed.json"


def replay_one(tmp: Path, relative: str, edit) -> Path:
    """A replay folder holding one sample payload, edited by `edit(data) -> data` (or bytes)."""
    folder = tmp / "replay"
    target = folder / relative
    target.parent.mkdir(parents=True)
    data = edit(json.loads((SAMPLE_DIR / relative).read_text()))
    target.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return folder


def first_fact(data: dict) -> dict:
    return data["facts"]["us-gaap"][next(iter(data["facts"]["us-gaap"]))]["units"]["USD"][0]


def with_fact(field: str, value):
    def edit(data):
        first_fact(data)[field] = value
        return data

    return edit


def with_filing(field: str, value, index: int = 0):
    def edit(data):
        data["filings"]["recent"][field][index] = value
        return data

    return edit


NVDA_SAMPLE_FACTS = "sec/companyfacts/CIK0001045810.json"
NVDA_SAMPLE_SUBMISSIONS = "sec/submissions/CIK0001045810.json"


@pytest.mark.parametrize(
    "relative, edit, fault",
    [
        (NVDA_SAMPLE_FACTS, lambda d: {**d, "cik": "NVDA"}, "its `cik` is 'NVDA', not a CIK number"),
        (NVDA_SAMPLE_FACTS, lambda d: {**d, "cik": 1341439}, "its name says CIK 1045810 but its `cik` says 1341439"),
        (NVDA_SAMPLE_FACTS, with_fact("val", "1e3"), "a fact's `val` is '1e3', not a finite number (us-gaap:"),
        (NVDA_SAMPLE_FACTS, with_fact("fy", "FY2024"), "a fact's `fy` is 'FY2024', not a whole year (us-gaap:"),
        (NVDA_SAMPLE_FACTS, with_fact("end", "2025-07-2499"), "a fact's `end` is '2025-07-2499', not a YYYY-MM-DD"),
        (NVDA_SAMPLE_FACTS, with_fact("filed", 20250724), "a fact's `filed` is 20250724, not a YYYY-MM-DD date"),
        (NVDA_SAMPLE_FACTS, lambda d: b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (NVDA_SAMPLE_SUBMISSIONS, lambda d: {**d, "cik": "0001341439"}, "its name says CIK 1045810 but its `cik`"),
        (
            NVDA_SAMPLE_SUBMISSIONS,
            lambda d: {**d, "filings": [d["filings"]["recent"]]},
            "`filings` is not an object with `recent` filings (list)",
        ),
        (
            NVDA_SAMPLE_SUBMISSIONS,
            with_filing("filingDate", "03/04/2026"),
            "a filing's `filingDate` is '03/04/2026', not a YYYY-MM-DD date (accn ",
        ),
        (
            NVDA_SAMPLE_SUBMISSIONS,
            with_filing("acceptanceDateTime", "03/04/2026 16:05:00", index=1),
            "a filing's `acceptanceDateTime` is '03/04/2026 16:05:00', not ISO 8601 (accn ",
        ),
    ],
)
def test_a_bad_sec_payload_is_refused_naming_the_file_and_the_fault(settings, tmp_path, relative, edit, fault):
    folder = replay_one(tmp_path, relative, edit)
    with pytest.raises(PayloadError) as refused:
        ingest_filings(settings, ReplaySecFilings(folder))
    name = Path(relative).name
    assert str(refused.value).startswith(f"{name}: {fault}")
    assert str(refused.value).endswith("; nothing was loaded")  # a replayed folder's file is not moved
    assert (folder / relative).exists()


@pytest.mark.parametrize("named, holding", [("CIK0001045810", MSFT_FACTS), ("CIK0000789019", NVDA_FACTS)])
def test_a_companyfacts_file_named_for_another_company_is_refused_either_way_round(
    realdata, settings, tmp_path, named, holding
):
    folder = tmp_path / "replay" / "sec" / "companyfacts"
    folder.mkdir(parents=True)
    shutil.copy(realdata / holding, folder / f"{named}.json")
    held = json.loads((realdata / holding).read_text())["cik"]
    with pytest.raises(PayloadError) as refused:
        ingest_filings(settings, ReplaySecFilings(tmp_path / "replay"))
    assert str(refused.value) == (
        f"{named}.json: its name says CIK {int(named[3:])} but its `cik` says {held}; nothing was loaded"
    )
    assert facts_count(settings) == 0


def facts_count(settings) -> int:
    with connect(settings.paths.warehouse) as con:
        return con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]


def recorded_sample(tmp: Path, edit=lambda d: d) -> Path:
    """Recorded SEC answers for the sample's NVIDIA-like filer, its companyfacts edited by `edit`."""
    folder = tmp / "edgar"
    (folder / "submissions").mkdir(parents=True, exist_ok=True)
    (folder / "companyfacts").mkdir(exist_ok=True)
    shutil.copy(SAMPLE_DIR / NVDA_SAMPLE_SUBMISSIONS, folder / "submissions")
    data = edit(json.loads((SAMPLE_DIR / NVDA_SAMPLE_FACTS).read_text()))
    (folder / "companyfacts" / "CIK0001045810.json").write_text(json.dumps(data))
    return folder


def test_a_fetched_payload_that_fails_is_quarantined_and_a_later_good_one_loads(settings, tmp_path):
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "NVDA"))
    bad = recorded_sample(tmp_path, lambda d: {**d, "cik": 1341439})  # SEC answered with Oracle's facts

    with pytest.raises(PayloadError) as refused:
        ingest_filings(settings, SecFilings(RecordedSecClient(bad)))

    raw = settings.paths.raw / "sec" / "companyfacts"
    quarantined = settings.paths.raw / "_quarantine" / "sec" / "companyfacts"
    [moved] = [p for p in quarantined.glob("CIK0001045810.*.json") if not p.name.endswith(".meta.json")]
    assert str(refused.value) == (
        f"{moved.name}: its name says CIK 1045810 but its `cik` says 1341439; moved to {quarantined}: "
        f"{moved.name}; nothing was loaded"
    )
    assert list(raw.glob("*.json")) == []  # neither the payload nor its metadata stays behind
    assert json.loads((quarantined / f"{moved.name}.meta.json").read_text())["cik"] == NVDA_CIK
    note = (quarantined / f"{moved.name}.why.txt").read_text()
    assert note.endswith(f": {moved.name}: its name says CIK 1045810 but its `cik` says 1341439\n")
    assert facts_count(settings) == 0

    # A replay of the raw zone skips the quarantined payload and says so in one line.
    replayed = ingest_filings(settings, ReplaySecFilings(settings.paths.raw))
    assert [n for n in replayed.notes if "quarantined" in n] == [
        f"skipped 1 quarantined payload(s) in {settings.paths.raw / '_quarantine' / 'sec'} (see each .why.txt): "
        f"{moved.name}"
    ]

    # SEC serves the right file later: it loads as usual, the sample's 1045810 facts.
    good = ingest_filings(settings, SecFilings(RecordedSecClient(recorded_sample(tmp_path))))
    expected = sum(
        len(rows)
        for body in json.loads((SAMPLE_DIR / NVDA_SAMPLE_FACTS).read_text())["facts"]["us-gaap"].values()
        for rows in body["units"].values()
    )
    assert good.facts == expected == facts_count(settings)


def test_a_fetched_fact_failing_a_critical_expectation_quarantines_its_payload(settings, tmp_path):
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "NVDA"))
    bad = recorded_sample(tmp_path, with_fact("accn", "45810-25-101"))
    with pytest.raises(ValidationFailed, match=r"accession number is ##########-##-###### failed on 1 row") as failed:
        ingest_filings(settings, SecFilings(RecordedSecClient(bad)))
    quarantined = settings.paths.raw / "_quarantine" / "sec" / "companyfacts"
    [moved] = [p for p in quarantined.glob("*.json") if not p.name.endswith(".meta.json")]
    assert f"; moved to {quarantined}: {moved.name}; nothing was loaded (report: " in str(failed.value)
    # The submissions payload held no failing row: it stays, to load with the next good batch.
    assert len(list((settings.paths.raw / "sec" / "submissions").glob("*.json.meta.json"))) == 1


def recorded_pair(tmp: Path, oracle_edit) -> Path:
    """Recorded SEC answers for the sample's NVIDIA and Oracle, Oracle's companyfacts edited by `oracle_edit`."""
    folder = recorded_sample(tmp)
    shutil.copy(SAMPLE_DIR / "sec/submissions/CIK0001341439.json", folder / "submissions")
    data = oracle_edit(json.loads((SAMPLE_DIR / "sec/companyfacts/CIK0001341439.json").read_text()))
    (folder / "companyfacts" / "CIK0001341439.json").write_text(json.dumps(data))
    return folder


def test_a_fetched_company_failing_validation_is_quarantined_alone_and_the_other_loads(settings, tmp_path):
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "NVDA", "ORCL"))
    oracle = json.loads((SAMPLE_DIR / "sec/companyfacts/CIK0001341439.json").read_text())
    concept = next(iter(oracle["facts"]["us-gaap"]))
    first = first_fact(oracle)
    period = f"{first['start']}/{first['end']}" if "start" in first else first["end"]

    result = ingest_filings(
        settings, SecFilings(RecordedSecClient(recorded_pair(tmp_path, with_fact("accn", "41439-25-1"))))
    )

    quarantined = settings.paths.raw / "_quarantine" / "sec" / "companyfacts"
    [moved] = [p for p in quarantined.glob("CIK0001341439.*.json") if not p.name.endswith(".meta.json")]
    reason = (
        "validation of raw_xbrl_facts failed: accession number is ##########-##-###### failed on 1 row: "
        f"1341439 us-gaap {concept} USD {period} 41439-25-1"
    )
    assert result.failed == {
        "CIK0001341439 ORCL": f"{reason}; moved to {quarantined}: {moved.name} (report: "
        f"{settings.paths.reports / 'validation' / result.run_id / 'raw_xbrl_facts.json'})"
    }
    assert (quarantined / f"{moved.name}.why.txt").read_text().endswith(f": {reason}\n")
    facts, filings = sample_counts()
    assert per_company(settings, "raw.xbrl_facts") == {NVDA_CIK: facts[NVDA_CIK]}
    assert per_company(settings, "raw.filings") == {NVDA_CIK: filings[NVDA_CIK]}
    # Oracle's submissions held no failing row: they stay in the raw zone, unloaded, for the next good batch.
    assert len(list((settings.paths.raw / "sec" / "submissions").glob("CIK0001341439.*.json.meta.json"))) == 1
    assert run_row(settings, result.run_id) == ("partial", result.failed)


def test_a_company_sec_does_not_know_is_named_and_the_other_loads(settings, tmp_path):
    settings = settings.replace(seeds_dir=seeds_for(tmp_path, "NVDA", "ORCL"))
    result = ingest_filings(settings, SecFilings(RecordedSecClient(recorded_sample(tmp_path))))  # no Oracle files
    assert result.failed == {
        "CIK0001341439 ORCL": "SEC has no submissions for ORCL (CIK 0001341439) at "
        "https://data.sec.gov/submissions/CIK0001341439.json: check the CIK in seeds/companies.csv"
    }
    facts, _ = sample_counts()
    assert per_company(settings, "raw.xbrl_facts") == {NVDA_CIK: facts[NVDA_CIK]}
