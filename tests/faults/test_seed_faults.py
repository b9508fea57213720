"""Seeds refused at the door, and a claim that never ends.

A copy of the committed seeds (THESIS_SEEDS_DIR, THESIS_GUIDANCE_LEDGER, THESIS_CLAIMS) is broken
one way per case and `thesis build` runs on a good run's data: one line names the file, the line or
entry and the fault, nothing published changes, and the build with the committed seeds succeeds.
The clock is tests/conftest.py's THESIS_TODAY, 2026-12-01.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipeline.runtime.settings import SEEDS
from tests.faults import harness
from tests.faults.harness import in_process, next_run_completes, refused, snapshot, unchanged

# The committed ledger has 35 statements after its header: an appended one is on line 37.
ORCL_LINE = (
    "ORCL,{date},day,FY2027,,,{point},capital expenditures,false,a statement,https://example.com/orcl,secondary\n"
)
CLAIM = """claims:
  - id: {id}
    statement: a claim
    window: none
    comparator: "{comparator}"
    threshold: {threshold}
    metric: |
      {metric}
"""
ONE = "select 1.0 as value, date '2026-11-30' as as_of, 'one' as evidence"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line)


def claims(path: Path, metric: str = ONE, threshold: str = "0", comparator: str = ">") -> None:
    path.write_text(CLAIM.format(id="odd", comparator=comparator, threshold=threshold, metric=metric))


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # the seed file broken, under the seeds copy
    make: Callable[[Path], None]
    expected: tuple[str, ...]


CASES = (
    Case(
        "metric-no-model-reads",
        "concept_map.csv",
        lambda p: edit(p, "capex,duration,1,", "capx,duration,1,"),
        (
            "concept_map.csv: metric is one intermediate.metric_quarters derives "
            "(transforms/intermediate/metric_quarters.yml) failed on 1 row: line 2 capx 1",
        ),
    ),
    Case(
        "instant-for-a-flow",
        "concept_map.csv",
        lambda p: edit(p, "operating_cash_flow,duration,", "operating_cash_flow,instant,"),
        (
            "concept_map.csv: period is the metric's own: duration for a flow, instant for a balance "
            "(transforms/intermediate/metric_quarters.yml) failed on 2 rows: "
            "line 6 operating_cash_flow 1, line 7 operating_cash_flow 2",
        ),
    ),
    Case(
        "duration-for-a-balance",
        "concept_map.csv",
        lambda p: edit(p, "rpo,instant,", "rpo,duration,"),
        ("concept_map.csv: period is the metric's own", "failed on 2 rows: line 28 rpo 1, line 29 rpo 2"),
    ),
    Case(
        "guidance-after-today",
        "capex_guidance.csv",
        lambda p: append(p, ORCL_LINE.format(date="2026-12-02", point=100)),
        (
            "capex_guidance.csv: statement_date is not after the run's date failed on 1 row: "
            "line 37 ORCL FY2027 2026-12-02",
        ),
    ),
    Case(
        "guidance-of-80000-billions",
        "capex_guidance.csv",
        lambda p: append(p, ORCL_LINE.format(date="2026-11-02", point=80000)),
        (
            "capex_guidance.csv: a figure is at most THESIS_GUIDANCE_ERROR_ABOVE_USD_BN (US$ billions) "
            "failed on 1 row: line 37 ORCL FY2027 2026-11-02",
        ),
    ),
    Case(
        "claim-threshold-infinity",
        "claims.yml",
        lambda p: claims(p, threshold=".inf"),
        ("claim odd: threshold inf is not a finite number",),
    ),
    Case(
        "claim-between-up-to-infinity",
        "claims.yml",
        lambda p: claims(p, threshold="[0, .inf]", comparator="between"),
        ("claim odd: threshold [0, inf] is not a finite number",),
    ),
    Case(
        "claim-value-infinity",
        "claims.yml",
        lambda p: claims(p, metric="select 'infinity'::double as value, date '2026-11-30' as as_of, 'inf' as evidence"),
        ("claim odd: metric value inf is not a finite number",),
    ),
)


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the committed seeds, which the commands of the case read."""
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    for name, value in {
        "THESIS_SEEDS_DIR": copy,
        "THESIS_GUIDANCE_LEDGER": copy / "capex_guidance.csv",
        "THESIS_CLAIMS": copy / "claims.yml",
    }.items():
        monkeypatch.setenv(name, str(value))
    return copy


def tables(data_dir: Path) -> tuple[int, ...]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return tuple(
            con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("raw.concept_map", "raw.capex_guidance", "marts.thesis_scorecard")
        )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_bad_seed_is_refused_in_one_line_and_changes_nothing(case: Case, request, capsys, seeds, data_dir):
    case.make(seeds / case.file)
    published, stored = snapshot(data_dir / "published"), tables(data_dir)

    code, err = in_process(capsys, "build", "--data-dir", str(data_dir))

    line = refused(request, code, err, *case.expected)
    assert str(seeds / case.file) in line or line.startswith("thesis: error: claim odd: ")
    assert code == 1
    unchanged(request, published, data_dir / "published")
    assert tables(data_dir) == stored
    shutil.copy(SEEDS / case.file, seeds / case.file)
    next_run_completes(request, *in_process(capsys, "build", "--data-dir", str(data_dir)))


def test_a_guidance_figure_above_500_billions_loads_with_a_warning(capsys, seeds, data_dir):
    append(seeds / "capex_guidance.csv", ORCL_LINE.format(date="2026-11-02", point=800))

    assert in_process(capsys, "build", "--data-dir", str(data_dir))[0] == 0

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [[summary]] = con.execute(
            "select summary from meta.validations where suite = 'raw_capex_guidance' order by validated_at desc limit 1"
        ).fetchall()
        [[loaded]] = con.execute(
            "select count(*) from raw.capex_guidance where ticker = 'ORCL' and point_usd_bn = 800"
        ).fetchall()
    assert summary == (
        "all critical expectations passed; warning: a figure is at most THESIS_GUIDANCE_WARN_ABOVE_USD_BN "
        "(US$ billions) flagged on 1 row: line 37 ORCL FY2027 2026-11-02"
    )
    assert loaded == 1


RUNAWAY = (
    "with recursive counting(n) as (select 1 union all select n + 1 from counting)\n"
    "      select max(n) as value, date '2026-11-30' as as_of, 'never' as evidence from counting"
)


def test_a_runaway_claim_is_stopped_named_and_the_lock_released(request, seeds, data_dir):
    """The real command in its own interpreter, bounded twice: the claim's 2 s, then the harness's 120 s."""
    claims(seeds / "claims.yml", metric=RUNAWAY)
    published = snapshot(data_dir / "published")
    env = {"THESIS_CLAIM_TIMEOUT_SECONDS": "2"}

    started = time.monotonic()
    done = harness.thesis("build", "--data-dir", str(data_dir), env=env, timeout=120, request=request)

    assert time.monotonic() - started < 60  # stopped at 2 s, not left to run for the harness's bound
    refused(request, done.returncode, done.stderr, "claim odd: its metric query ran over 2 s and was stopped")
    assert done.returncode == 1
    unchanged(request, published, data_dir / "published")
    # The lock was released: the next build, with the committed claims, takes it and succeeds.
    shutil.copy(SEEDS / "claims.yml", seeds / "claims.yml")
    done = harness.thesis("build", "--data-dir", str(data_dir), env=env, timeout=300, request=request)
    next_run_completes(request, done.returncode, done.stderr)
