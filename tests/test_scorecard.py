"""The thesis scorecard: claims as data, scored on real prices, the sample, and hand-set marts."""

import dataclasses
import datetime as dt
import importlib.util

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.build import freshness, query_limits, scorecard
from pipeline.runtime.settings import CLAIMS, SAMPLE_DIR, Settings
from tests.marts_by_hand import CAPEX_SLOPE, REPORTED, leverage, slope_rows, table
from transforms import runner
from warehouse.connection import create_schema

CLAIM_IDS = [
    "nvda_vs_sox",
    "nvda_range_20d",
    "orcl_debt_to_equity",
    "orcl_fcf_ttm_negative",
    "orcl_rpo_above_500b",
    "hyperscaler_capex_slowing",
    "guidance_implies_slower_growth",
    "orcl_below_pre_jump_close",
]


def scores_of(settings, run_id):
    frame = pd.read_parquet(settings.paths.parquet / "thesis_scorecard.parquet")
    return frame[frame["run_id"] == run_id].set_index("claim_id")


def scored_as_of(settings, as_of):
    """The claims evaluated on the working database as of a date, without a run."""
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        runner.set_variables(con, settings.variables())
        return {s.claim_id: s for s in scorecard.evaluate(con, scorecard.load_claims(CLAIMS), as_of)}


def test_the_committed_claims_load_in_order():
    assert [c.id for c in scorecard.load_claims(CLAIMS)] == CLAIM_IDS


def test_real_prices(real_run):
    settings, result = real_run
    latest = scores_of(settings, result.run_id)
    assert sorted(latest.index) == sorted(CLAIM_IDS)
    # ^SOX ends 2026-03-06: NVDA 173.4889 -> 177.6034 (+2.4%), ^SOX 5527.61 -> 7514.74 (+35.9%).
    # The suite's clock, 2026-12-01, is 186 sessions past that and 91 past the last bar of NVDA and
    # ORCL (2026-07-23): every claim on prices is stale, its value kept (tests/test_freshness.py
    # scores them with the clock at 2026-07-23). Scored as of a date below, each is current.
    assert latest.loc["nvda_vs_sox", "status"] == "stale"
    assert latest.loc["nvda_vs_sox", "value"] == pytest.approx(
        100 * (177.6034 / 173.4889 - 7514.74 / 5527.61), abs=0.01
    )
    assert latest.loc["nvda_vs_sox", "as_of"] == dt.date(2026, 3, 6)
    # NVDA's prices run to 2026-07-23; its last 20 closes reach 212.50 on 2026-07-15.
    assert latest.loc["nvda_range_20d", ["status", "value", "as_of"]].tolist() == [
        "stale",
        pytest.approx(212.5),
        dt.date(2026, 7, 23),
    ]
    assert latest.loc["orcl_below_pre_jump_close", ["status", "value"]].tolist() == [
        "stale",
        pytest.approx(100 * (120.04 / 238.7884 - 1), abs=0.01),
    ]

    scores = scored_as_of(settings, dt.date(2026, 2, 27))
    # NVDA 173.4889 -> 176.9742 (+2.0%), ^SOX 5527.61 -> 8098.37 (+46.5%).
    assert scores["nvda_vs_sox"].status == "supported"
    assert scores["nvda_vs_sox"].value == pytest.approx(-44.5, abs=0.05)
    assert scores["nvda_vs_sox"].as_of == dt.date(2026, 2, 27)
    assert scores["orcl_below_pre_jump_close"].status == "supported"
    assert scores["orcl_below_pre_jump_close"].value == pytest.approx(100 * (144.3916 / 238.7884 - 1), abs=0.01)
    assert (
        "ORCL adj_close 144.39 on 2026-02-27 against 238.79 on 2025-09-09"
        in scores["orcl_below_pre_jump_close"].evidence
    )
    # The 20 closes to 2026-02-27 include 171.67 on 2026-02-05, below $180.
    assert (scores["nvda_range_20d"].status, scores["nvda_range_20d"].value) == (
        "not_supported",
        pytest.approx(171.6706),
    )
    assert "lowest 171.67 on 2026-02-05" in scores["nvda_range_20d"].evidence


def aggregate_ttm_growth_change() -> dict[str, float]:
    """ttm_growth_change of the sample's five hyperscalers summed, from the generator's inputs."""
    spec = importlib.util.spec_from_file_location("generate_sec", SAMPLE_DIR / "generate_sec.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    first_quarter = {6: "2022Q3", 12: "2022Q1"}  # the first fiscal quarter of FY2023 / FY2022
    by_quarter: dict[str, list[float]] = {}
    series = [(first_quarter[month], quarters) for _, _, month, _, quarters in generator.HYPERSCALER_CAPEX.values()]
    series.append(("2022Q3", [*generator.ORACLE_EARLIER_CAPEX, 2.0, 3.0, 4.0, 5.0, 8.0]))  # FY2025 YTD 2,5,9,14; Q1 8
    for start, quarters in series:
        for i, value in enumerate(quarters):
            by_quarter.setdefault(str(pd.Period(start, freq="Q") + i), []).append(value)
    complete = {q: sum(v) for q, v in sorted(by_quarter.items()) if len(v) == 5}
    names = list(complete)
    ttm = {q: sum(complete[n] for n in names[i - 3 : i + 1]) for i, q in enumerate(names) if i >= 3}
    growth = {q: ttm[q] / ttm[names[i - 4]] - 1 for i, q in enumerate(names) if i >= 4 and names[i - 4] in ttm}
    return {q: growth[q] - growth[names[i - 1]] for i, q in enumerate(names) if q in growth and names[i - 1] in growth}


def test_sample(sample_run):
    settings, result = sample_run
    scores = scores_of(settings, result.run_id)
    # The suite's clock, 2026-12-01, is 186 sessions past the sample's last bar (2026-03-06) and over
    # a year past its latest quarters: every claim is stale, with its value, which says what it
    # would score were it current (tests/test_freshness.py scores claims that are).
    assert set(scores["status"]) == {"stale"}
    # Claim 1, from the waypoints: NVDA 173.5 -> 190 is +9.5%, ^SOX 5530 -> 8100 is +46.5%; -37 pp <= -20.
    # (NVDA's two later dividends of $0.01 move the adjusted anchor by two cents only.)
    assert scores.loc["nvda_vs_sox", "value"] == pytest.approx(100 * (190 / 173.5 - 8100 / 5530), abs=0.05)
    # Claim 8: ORCL 238 on 2025-09-09 and 150 on 2026-03-06 (no dividends): -37.0%, below.
    assert scores.loc["orcl_below_pre_jump_close", "value"] == pytest.approx(100 * (150 / 238 - 1), abs=1e-6)
    # Claim 2: the last 20 sessions run from 188 (2026-01-02) towards 190 (2026-03-06), with noise.
    closes = pd.read_parquet(next((SAMPLE_DIR / "prices").glob("NVDA.*.parquet")))["Close"].iloc[-20:]
    assert closes.min() >= 180 and closes.max() <= 210
    assert scores.loc["nvda_range_20d", "as_of"] == dt.date(2026, 3, 6)
    # Claims 3-5, from sample/generate_sec.py's Oracle-like filer at 2025-08-31 (FY2026 Q1):
    # debt 7,000 + 88,000 = 95,000M against equity 20,000M is 4.75; FCF over the four quarters to
    # then is (1,500 - 3,000) + (5,500 - 4,000) + (6,000 - 5,000) + (8,100 - 8,000) = 1,100M;
    # RPO 250,000M.
    assert scores.loc["orcl_debt_to_equity", "value"] == pytest.approx(95_000 / 20_000)
    assert scores.loc["orcl_fcf_ttm_negative", "value"] == pytest.approx(1.1)
    assert scores.loc["orcl_rpo_above_500b", "value"] == pytest.approx(250.0)
    # Claim 6: the aggregate's TTM growth, worked out from the generator's quarterly inputs.
    slope = aggregate_ttm_growth_change()
    assert slope["2025Q2"] > 0 and slope["2025Q3"] > 0
    assert scores.loc["hyperscaler_capex_slowing", "value"] == pytest.approx(
        100 * max(slope["2025Q2"], slope["2025Q3"])
    )
    # Claim 7, latest guidance midpoint against the prior year's reported capex (US$ billions):
    # AMZN 105 / 82.9 - 1 = +26.7% < 2024's 82.9 / 52.8 - 1 = +57.0%: slower.
    # GOOGL 85 / 52.6 - 1 = +61.6% < 52.6 / 32.3 - 1 = +62.8%: slower.
    # META 69 / 37.6 - 1 = +83.5% > 37.6 / 27.1 - 1 = +38.7%: not slower.
    # MSFT FY2025 80 / 55.7 - 1 = +43.6% < FY2024 55.7 / 30.4 - 1 = +83.2%: slower.
    # ORCL's guidance in force at 2025-08-31 is "at least $25B": no midpoint. 3 of 5 is a majority.
    assert scores.loc["guidance_implies_slower_growth", "value"] == pytest.approx(3 / 5)
    assert "ORCL: no guidance with an implied growth" in scores.loc["guidance_implies_slower_growth", "evidence"]

    # In April 2025 NVDA was near 97, far below the range: not supported.
    assert scored_as_of(settings, dt.date(2025, 4, 7))["nvda_range_20d"].status == "not_supported"
    # Before 2025-09-09 there is no pre-jump close to compare with: insufficient, not a verdict.
    early = scored_as_of(settings, dt.date(2025, 9, 1))["orcl_below_pre_jump_close"]
    assert (early.status, early.evidence) == ("insufficient_data", "staging.prices has no ORCL adj_close on 2025-09-09")


@pytest.fixture
def con():
    with duckdb.connect() as con:
        create_schema(con)
        runner.set_variables(con, Settings().variables())  # the default hyperscalers, as a build sets them
        yield con


def by_id(con, as_of=None):
    return {s.claim_id: s for s in scorecard.evaluate(con, scorecard.load_claims(CLAIMS), as_of)}


def test_oracle_claims_on_a_leverage_mart(con):
    leverage(con)
    scores = by_id(con)
    assert (scores["orcl_debt_to_equity"].status, scores["orcl_debt_to_equity"].value) == (
        "supported",
        pytest.approx(108 / 26),
    )
    assert scores["orcl_debt_to_equity"].as_of == dt.date(2025, 11, 30)
    assert "total_debt $108.0B / stockholders_equity $26.0B" in scores["orcl_debt_to_equity"].evidence
    assert (scores["orcl_fcf_ttm_negative"].status, scores["orcl_fcf_ttm_negative"].value) == ("supported", -13)
    assert (scores["orcl_rpo_above_500b"].status, scores["orcl_rpo_above_500b"].value) == ("supported", 523)
    # As of October the August quarter is the latest: RPO 455 is not above 500; D/E 3.83 is below 4.
    earlier = by_id(con, dt.date(2025, 10, 15))
    assert earlier["orcl_rpo_above_500b"].status == "not_supported"
    assert earlier["orcl_debt_to_equity"].status == "not_supported"
    # Before the first quarter there is no row at all.
    none = by_id(con, dt.date(2025, 1, 1))["orcl_rpo_above_500b"]
    assert (none.status, none.evidence) == ("insufficient_data", "no rows in marts.leverage for this claim")


def test_a_null_figure_is_insufficient_and_named(con):
    leverage(con, rpo=None, debt_to_equity=None)
    scores = by_id(con)
    assert (scores["orcl_rpo_above_500b"].status, scores["orcl_rpo_above_500b"].evidence) == (
        "insufficient_data",
        "marts.leverage ORCL quarter ending 2025-11-30: rpo is NULL",
    )
    assert scores["orcl_debt_to_equity"].status == "insufficient_data"
    assert scores["orcl_fcf_ttm_negative"].status == "supported"


def test_capex_slope_claims(con):
    # Slower: MSFT (30% < 50%), AMZN (20% < 40%); faster: GOOGL, META, ORCL. 2 of 5 is no majority.
    table(
        con,
        "marts.capex_slope",
        CAPEX_SLOPE,
        slope_rows(REPORTED, {"MSFT": 0.30, "GOOGL": 0.70, "AMZN": 0.20, "META": 0.60, "ORCL": 1.0}),
    )
    scores = by_id(con)
    assert (scores["hyperscaler_capex_slowing"].status, scores["hyperscaler_capex_slowing"].value) == (
        "supported",
        pytest.approx(-1),
    )
    assert scores["hyperscaler_capex_slowing"].evidence == (
        "marts.capex_slope HYPERSCALERS ttm_growth_change 2025Q3 -2.0 pp, 2025Q4 -1.0 pp"
    )
    assert (scores["guidance_implies_slower_growth"].status, scores["guidance_implies_slower_growth"].value) == (
        "not_supported",
        pytest.approx(2 / 5),
    )
    assert "MSFT FY2026 guided +30.0% vs FY2025 reported +50.0%" in scores["guidance_implies_slower_growth"].evidence
    # As of October, the last two complete quarters are 2025Q2 (+1 pp) and 2025Q3 (-2 pp).
    assert by_id(con, dt.date(2025, 10, 15))["hyperscaler_capex_slowing"].status == "not_supported"


def test_the_hyperscalers_are_the_settings_not_a_list_in_the_claim(con):
    # Of MSFT, GOOGL and AMZN alone: MSFT (30% < 50%) and AMZN (20% < 40%) slower, GOOGL (70% > 60%)
    # faster: 2 of 3, a majority; of all five it would be 2 of 5, none.
    table(
        con,
        "marts.capex_slope",
        CAPEX_SLOPE,
        slope_rows(REPORTED, {"MSFT": 0.30, "GOOGL": 0.70, "AMZN": 0.20, "META": 0.60, "ORCL": 1.0}),
    )
    runner.set_variables(con, Settings(hyperscalers=("MSFT", "GOOGL", "AMZN")).variables())
    score = by_id(con)["guidance_implies_slower_growth"]
    assert (score.status, score.value) == ("supported", pytest.approx(2 / 3))
    assert "META" not in score.evidence and "ORCL" not in score.evidence


def test_a_majority_that_the_missing_companies_could_still_make_is_insufficient(con):
    # MSFT and AMZN slower, GOOGL faster, META and ORCL without guidance: 2 of 5, and 2 unknown.
    table(con, "marts.capex_slope", CAPEX_SLOPE, slope_rows(REPORTED, {"MSFT": 0.30, "GOOGL": 0.70, "AMZN": 0.20}))
    score = by_id(con)["guidance_implies_slower_growth"]
    assert (score.status, score.value) == ("insufficient_data", None)
    assert "META: no guidance with an implied growth in marts.capex_slope" in score.evidence


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            "  - id: x\n    statement: s\n    window: w\n    comparator: '<'\n    threshold: 1\n",
            "claim x: missing metric",
        ),
        (
            "  - id: x\n    statement: s\n    window: w\n    comparator: '=<'\n    threshold: 1\n"
            "    metric: select 1\n",
            "claim x: unknown comparator '=<' (expected one of <, <=, >, >=, ==, between)",
        ),
        (
            "  - id: x\n    statement: s\n    window: w\n    comparator: between\n    threshold: 1\n"
            "    metric: select 1\n",
            "claim x: threshold 1: between needs [low, high] with low <= high",
        ),
        (
            "  - id: x\n    statement: s\n    window: w\n    comparator: '<'\n    threshold: 1\n    metric: selec 1\n",
            'claim x: metric is not valid SQL: Parser Error: syntax error at or near "selec"',
        ),
        *[
            ("  - id: x\n    statement: s\n    window: w\n    comparator: '<'\n    threshold: 1\n    metric: " + m, e)
            for m, e in [
                ("select 1 as value; select 2", "claim x: metric must be one query, found 2"),
                (
                    "delete from raw.prices returning 1 as value, date as as_of, '' as evidence\n",
                    "claim x: metric must be a SELECT query, not DELETE",
                ),
                ("copy raw.prices to 'out.csv'\n", "claim x: metric must be a SELECT query, not COPY"),
                ("attach 'other.duckdb' as other\n", "claim x: metric must be a SELECT query, not ATTACH"),
                # DuckDB types these as SELECT statements: the statement inside the CTE is what writes.
                (
                    "|\n      with gone as (delete from raw.prices returning close)\n"
                    "      select max(close) as value, current_date as as_of, '' as evidence from gone\n",
                    "claim x: metric must only read, but holds DELETE",
                ),
                (
                    "|\n      with out as (copy raw.prices to 'prices.csv')\n"
                    "      select 1 as value, current_date as as_of, '' as evidence\n",
                    "claim x: metric must only read, but holds COPY",
                ),
                (
                    "|\n      select (with y as (update raw.prices set close = 0 returning close) select max(close)\n"
                    "              from y) as value, current_date as as_of, '' as evidence\n",
                    "claim x: metric must only read, but holds UPDATE",
                ),
            ]
        ],
    ],
)
def test_a_bad_entry_is_named_with_its_reason(tmp_path, entry, message):
    path = tmp_path / "claims.yml"
    path.write_text("claims:\n" + entry)
    with pytest.raises(scorecard.ClaimError) as failure:
        scorecard.load_claims(path)
    assert str(failure.value) == message


def test_a_bad_claims_file_stops_the_build_with_one_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "claims.yml"
    bad.write_text("claims:\n  - id: x\n    statement: s\n")
    monkeypatch.setenv("THESIS_CLAIMS", str(bad))
    assert main(["build", "--data-dir", str(tmp_path / "var")]) == 1
    assert capsys.readouterr().err == "thesis: error: claim x: missing window, metric, comparator, threshold\n"


def test_a_failing_metric_is_named_in_one_line(tmp_path, con):
    path = tmp_path / "claims.yml"
    path.write_text(
        "claims:\n  - id: typo\n    statement: s\n    window: w\n    comparator: '<'\n    threshold: 0\n"
        "    metric: select valu as value, null as as_of, '' as evidence from meta.runs\n"
    )
    with pytest.raises(scorecard.ClaimError, match=r"^claim typo: metric failed: Binder Error: .*valu.*$"):
        scorecard.evaluate(con, scorecard.load_claims(path), None)


def test_adding_a_claim_is_one_entry(tmp_path, con):
    path = tmp_path / "claims.yml"
    path.write_text(
        CLAIMS.read_text()
        + (
            "  - id: no_failed_runs\n    statement: No run failed.\n    window: all runs\n    comparator: '=='\n"
            "    threshold: 0\n    metric: |\n      select count(*) filter (where status = 'failed') as value,\n"
            "             current_date as as_of, 'meta.runs' as evidence from meta.runs\n"
        )
    )
    scores = scorecard.evaluate(con, scorecard.load_claims(path), None)
    assert [s.claim_id for s in scores] == [*CLAIM_IDS, "no_failed_runs"]
    assert scores[-1].status == "supported"
    assert {s.status for s in scores[:-1]} == {"insufficient_data"}


def test_a_runaway_model_is_stopped_and_named(tmp_path):
    """A model whose query never ends (a recursive CTE with no end) is stopped at its bound, in one
    PipelineError naming it and the setting; the model after it is not built."""
    for name, sql in {
        "runaway": "with recursive n(i) as (select 1 union all select i + 1 from n) select max(i) as i from n",
        "after": "select i from marts.runaway",
    }.items():
        (tmp_path / "marts").mkdir(exist_ok=True)
        (tmp_path / "marts" / f"{name}.sql").write_text(sql)
        contract = "description: a model\nunique_key: [i]\ncolumns:\n  i: a number\n"
        (tmp_path / "marts" / f"{name}.yml").write_text(contract)
    settings = Settings(model_timeout_seconds=0.5)
    with duckdb.connect() as con:
        con.execute("create schema marts")
        with pytest.raises(query_limits.QueryStopped) as stopped:
            query_limits.build_models(con, settings, {}, root=tmp_path)
        assert str(stopped.value) == (
            "the SQL model marts.runaway ran over 0.5 s and was stopped (THESIS_MODEL_TIMEOUT_SECONDS)"
        )
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] == 0


def test_the_model_limits_come_from_their_own_settings():
    settings = Settings(model_timeout_seconds=7, model_memory_limit="512MB", query_memory_limit="1GB")
    assert query_limits.Limits.of_models(settings) == query_limits.Limits(
        7.0, "512MB", "THESIS_MODEL_TIMEOUT_SECONDS", "THESIS_MODEL_MEMORY_LIMIT"
    )
    assert query_limits.Limits.of(settings) == query_limits.Limits(60.0, "1GB")


def test_weeks_scored_in_one_query_score_as_each_week_alone(con):
    """The timeline's path: the metric runs once, joined to the weeks, each week's last session in
    place of getvariable('as_of'). From the hand-set mart: before the August quarter there is no
    row; by mid-October the August quarter (RPO 455) is the latest; by December the November one
    (523). A week is stale by its own bound, not another week's."""
    leverage(con)
    [claim] = [c for c in scorecard.load_claims(CLAIMS) if c.id == "orcl_rpo_above_500b"]
    claim = dataclasses.replace(claim, metric=claim.metric + "\n-- a metric may end with a comment")
    weeks = [
        (dt.date(2024, 12, 30), dt.date(2025, 1, 3)),
        (dt.date(2025, 10, 13), dt.date(2025, 10, 17)),
        (dt.date(2025, 12, 8), dt.date(2025, 12, 12)),
    ]
    stale_after_november = freshness.Bound(dt.date(2025, 12, 1), "a bound of the test")
    bounds = {week: {} for week, _ in weeks} | {dt.date(2025, 12, 8): {"raw.xbrl_facts": stale_after_november}}
    # The bound applies through the lineage of marts.leverage, the model, down to raw.xbrl_facts.
    scores = scorecard.score_weeks(con, claim, weeks, scorecard.present_relations(con), bounds, None)
    assert [(s.status, s.value, s.as_of) for s in scores.values()] == [
        ("insufficient_data", None, None),
        ("not_supported", 455, dt.date(2025, 8, 31)),
        ("stale", 523, dt.date(2025, 11, 30)),
    ]
    assert list(scores) == [week for week, _ in weeks]
    assert scores[dt.date(2024, 12, 30)].evidence == "no rows in marts.leverage for this claim"
    assert scores[dt.date(2025, 12, 8)].evidence.endswith(
        "; stale: the evidence ends 2025-11-30, and a bound of the test"
    )


def test_a_metric_that_never_names_the_as_of_date_is_scored_week_by_week(tmp_path, con):
    """Such a metric leaves the date to the views (staging.known_by()), which read the session's
    as_of: each week is then run alone, so a week sees no bar after its last session."""
    con.execute("create macro staging.known_by() as coalesce(getvariable('as_of'), date '9999-12-31')")
    con.execute(
        "create table raw.bars as "
        "select * from (values (date '2025-01-03', 10.0), (date '2025-01-10', 12.0)) as bars(date, close)"
    )
    con.execute("create view staging.bars as select * from raw.bars where date <= staging.known_by()")
    path = tmp_path / "claims.yml"
    path.write_text(
        "claims:\n  - id: last_close\n    statement: s\n    window: w\n    comparator: '>'\n    threshold: 11\n"
        "    metric: select arg_max(close, date) as value, max(date) as as_of, 'staging.bars' as evidence"
        " from staging.bars\n"
    )
    [claim] = scorecard.load_claims(path)
    weeks = [(dt.date(2024, 12, 30), dt.date(2025, 1, 3)), (dt.date(2025, 1, 6), dt.date(2025, 1, 10))]
    scores = scorecard.score_weeks(
        con, claim, weeks, scorecard.present_relations(con), {week: {} for week, _ in weeks}, None
    )
    assert [(s.status, s.value, s.as_of) for s in scores.values()] == [
        ("not_supported", 10, dt.date(2025, 1, 3)),
        ("supported", 12, dt.date(2025, 1, 10)),
    ]
