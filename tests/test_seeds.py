"""Seeds load at every build: an edit to the concept map or the company list takes effect at the
next `thesis build`, and a bad line is named and loads nothing."""

import shutil

import duckdb
import pytest

from cli.main import main
from pipeline.runtime.settings import SEEDS


@pytest.fixture
def sample(good_run, tmp_path, monkeypatch):
    """A copy of the sample's data (tests/conftest.py), and a copy of the committed seeds that the
    next commands read."""
    data, seeds = tmp_path / "sample", tmp_path / "seeds"
    shutil.copytree(good_run, data)
    shutil.copytree(SEEDS, seeds)
    monkeypatch.setenv("THESIS_SEEDS_DIR", str(seeds))
    return data, seeds


def query(data_dir, sql):
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


NVDA_FY2026_CAPEX = "select capex from marts.leverage where ticker = 'NVDA' and fiscal_year = 2026 order by period_end"


@pytest.mark.slow
def test_an_edited_concept_map_takes_effect_at_the_next_build(sample):
    data, seeds = sample
    # sample/generate_sec.py: FY2026 capex is PaymentsToAcquireProductiveAssets, year to date 200,
    # 450, 750, 1,100 (millions): quarters 200, 450 - 200 = 250, 750 - 450 = 300, 1,100 - 750 = 350.
    assert query(data, NVDA_FY2026_CAPEX) == [(200e6,), (250e6,), (300e6,), (350e6,)]
    edit(seeds / "concept_map.csv", "capex,duration,1,us-gaap,PaymentsToAcquireProductiveAssets\n", "")
    assert main(["build", "--data-dir", str(data)]) == 0
    assert query(data, NVDA_FY2026_CAPEX) == [(None,)] * 4
    # The other three: us-gaap PaymentsToAcquirePropertyPlantAndEquipment and the two ifrs-full concepts.
    assert query(data, "select count(*) from raw.concept_map where metric = 'capex'") == [(3,)]


@pytest.mark.slow
def test_an_edited_company_list_takes_effect_at_the_next_build(sample):
    data, seeds = sample
    assert query(data, "select count(*) > 0 from marts.leverage where ticker = 'AMZN'") == [(True,)]
    edit(seeds / "companies.csv", 'AMZN,1018724,"Amazon.com, Inc.",1231\n', "")
    assert main(["build", "--data-dir", str(data)]) == 0
    assert query(data, "select count(*) from marts.leverage where ticker = 'AMZN'") == [(0,)]


@pytest.mark.parametrize(
    "seed, old, new, reason",
    [
        (
            "companies.csv",
            "NVDA,1045810,",
            "NVDA,10458x0,",
            "companies.csv line 2: cik '10458x0' is not a whole number",
        ),
        (
            "companies.csv",
            "ORCL,1341439,Oracle Corporation,0531",
            "ORCL,1341439,Oracle Corporation,0532",
            "companies.csv: fiscal_year_end is MMDD, like 0131 failed on 1 row: line 3 ORCL",
        ),
        (
            "companies.csv",
            "MSFT,789019,",
            "NVDA,789019,",
            "companies.csv: one line per ticker failed on 2 rows: line 2 NVDA, line 4 NVDA",
        ),
        (
            "concept_map.csv",
            "rpo,instant,1,",
            "rpo,flow,1,",
            "concept_map.csv: period is duration or instant failed on 1 row",
        ),
        (
            "concept_map.csv",
            "capex,duration,2,",
            "capex,duration,1,",
            "concept_map.csv: one concept per (metric, priority) failed on 2 rows: line 2 capex 1, line 3 capex 1",
        ),
    ],
)
def test_a_bad_seed_line_is_named_and_the_build_changes_nothing(sample, capsys, seed, old, new, reason):
    data, seeds = sample
    before = query(data, "select * from raw.companies order by all") + query(
        data, "select * from raw.concept_map order by all"
    )
    edit(seeds / seed, old, new)
    capsys.readouterr()
    assert main(["build", "--data-dir", str(data)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("thesis: error: ") and reason in line
    after = query(data, "select * from raw.companies order by all") + query(
        data, "select * from raw.concept_map order by all"
    )
    assert after == before
