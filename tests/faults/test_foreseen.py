"""Faults foreseen, each named in its own line rather than reported as unexpected:

- a companyfacts `val` that is a JSON integer beyond 2^63 (beyond any int64), through the
  per-company and the bulk SEC paths: a share count loads as a double, flagged `abs(val) > 2^53`
  (the raw_xbrl_facts warning for any value a double does not hold exactly); a money fact is
  refused, being beyond THESIS_MAX_MONEY;
- a claim whose metric returns an `as_of` that is not a date;
- a Dask scheduler address where nothing listens;
- a Yahoo chart answer whose arrays differ in length;
- a SQL model (reading the seeds and the settings' variables) that runs past its bound;
- `thesis status` on a damaged working database: it says to rebuild, not that a run holds it.

Each refusal leaves the published exports as they were, and the next good run completes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults.bad_inputs_sec import FIRST_ROW, NVDA, fact, facts
from tests.faults.harness import in_process, next_run_completes, refused, snapshot, thesis, unchanged
from tests.faults.network_servers import REALDATA, FaultServer, aim, forget_time_zones, sec_answer, yahoo_answer

BEYOND_INT64 = 2**64 + 1  # 18446744073709551617: no int64 holds it; a double holds it as 2^64
SAMPLE_FACT = SAMPLE_DIR / "sec" / "companyfacts" / NVDA
# The sample's first NVIDIA fact (tests/faults/bad_inputs_sec.py), as a share count of its end date.
SHARES_ROW = ("dei", "EntityCommonStockSharesOutstanding", "shares", "2024-04-28", float(2**64), "abs(val) > 2^53")


def with_huge_share_count() -> bytes:
    """The sample's NVIDIA companyfacts plus one dei share count of 2^64 + 1, dated as the first fact's end."""
    data = json.loads(SAMPLE_FACT.read_text())
    first = dict(data["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"][0])
    first.pop("start")
    first["val"] = BEYOND_INT64
    data["facts"]["dei"] = {"EntityCommonStockSharesOutstanding": {"units": {"shares": [first]}}}
    return json.dumps(data).encode()


def per_company(folder: Path) -> list[str]:
    target = folder / "sec" / "companyfacts" / NVDA
    target.parent.mkdir(parents=True)
    target.write_bytes(with_huge_share_count())
    return ["run", "--from", str(folder)]


def bulk(folder: Path) -> list[str]:
    target = folder / "sec" / "bulk"
    target.mkdir(parents=True)
    with zipfile.ZipFile(target / "companyfacts.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(NVDA, with_huge_share_count())
    with zipfile.ZipFile(target / "submissions.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(SAMPLE_DIR / "sec" / "submissions" / NVDA, NVDA)
    return ["run", "--sec-bulk", "--from", str(folder)]


@pytest.mark.parametrize("path", [per_company, bulk], ids=["per-company", "bulk"])
def test_a_share_count_beyond_int64_loads_flagged(request, capsys, data_dir, tmp_path, path):
    code, err = in_process(capsys, *path(tmp_path / "input"), "--data-dir", str(data_dir))
    assert (code, err) == (0, "")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select taxonomy, concept, unit, period, val, flags from raw.xbrl_facts where unit = 'shares'"
        ).fetchall()
    assert rows == [SHARES_ROW]
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


def test_money_beyond_int64_is_refused_naming_the_fact(request, capsys, data_dir, tmp_path):
    published = snapshot(data_dir / "published")
    args = facts(fact(0, "val", BEYOND_INT64))(tmp_path / "input", None)
    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))
    refused(
        request,
        code,
        err,
        f"validation of raw_xbrl_facts failed: money within THESIS_MAX_MONEY failed on 1 row: {FIRST_ROW} "
        "0001045810-24-000101; nothing was loaded",
    )
    assert code == 1
    unchanged(request, published, data_dir / "published")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


CLAIM = """claims:
  - id: odd
    statement: a claim
    window: none
    comparator: ">"
    threshold: 0
    metric: |
      select 1.0 as value, 'not a date' as as_of, 'one' as evidence
"""


def test_a_claim_as_of_that_is_not_a_date_is_refused(request, capsys, monkeypatch, data_dir, tmp_path):
    claims = tmp_path / "claims.yml"
    claims.write_text(CLAIM)
    monkeypatch.setenv("THESIS_CLAIMS", str(claims))
    published = snapshot(data_dir / "published")
    code, err = in_process(capsys, "build", "--data-dir", str(data_dir))
    line = refused(request, code, err)
    assert line == (
        "thesis: error: claim odd: metric as_of 'not a date' is not a date; return a DATE such as date '2026-01-30'"
    )
    assert code == 1
    unchanged(request, published, data_dir / "published")
    monkeypatch.delenv("THESIS_CLAIMS")
    next_run_completes(request, *in_process(capsys, "build", "--data-dir", str(data_dir)))


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_dask_scheduler_is_named_quickly(request, data_dir):
    """The real command in its own interpreter; the connect timeout 1 s, the harness's bound 120 s."""
    address = f"tcp://127.0.0.1:{closed_port()}"
    published = snapshot(data_dir / "published")
    args = ("run", "--from", str(SAMPLE_DIR), "--task-runner", "dask", "--dask-address", address)
    started = time.monotonic()
    env = {"THESIS_DASK_CONNECT_TIMEOUT_SECONDS": "1"}
    done = thesis(*args, "--data-dir", str(data_dir), env=env, timeout=120, request=request)
    assert time.monotonic() - started < 60  # not Dask's own 30 s per attempt
    line = refused(request, done.returncode, done.stderr, f"the Dask scheduler at {address} did not answer (")
    assert line.endswith("): start it, or check --dask-address (THESIS_DASK_ADDRESS)"), line
    assert done.returncode == 1
    unchanged(request, published, data_dir / "published")
    done = thesis("run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir), request=request)
    next_run_completes(request, done.returncode, done.stderr)


def test_a_yahoo_chart_with_arrays_of_two_lengths_is_refused(request, capsys, monkeypatch, data_dir, tmp_path):
    """Asked for NVDA, the server answers with Yahoo's recorded MSFT chart under NVDA's name, its
    252 closes one short (252 bars: ../shared/realdata/README.md)."""
    if not REALDATA.is_dir():
        pytest.skip("recorded payloads not found beside the project")
    forget_time_zones(tmp_path / "yfinance", "NVDA", "ORCL")
    yahoo, sec = FaultServer(yahoo_answer), FaultServer(sec_answer)
    try:
        aim(monkeypatch.setattr, yahoo.url, sec.url)
        for name, value in {
            "THESIS_SEC_USER_AGENT": "Thesis Fault Suite faults@example.com",
            "THESIS_FETCH_RETRIES": "0",
            "THESIS_FETCH_TIMEOUT_SECONDS": "5",
            "THESIS_TICKERS": "NVDA",
            "THESIS_BENCHMARK": "ORCL",
        }.items():
            monkeypatch.setenv(name, value)
        yahoo.plan("ragged", "/v8/finance/chart/NVDA")
        published = snapshot(data_dir / "published")
        code, err = in_process(capsys, "run", "--data-dir", str(data_dir))
        line = refused(
            request,
            code,
            err,
            "Yahoo Finance sent a malformed chart for NVDA: its arrays differ in length (252 timestamps, 251 close, ",
            "nothing of it loads, try again later",
        )
        assert "misspelled or delisted" not in line
        assert code == 1, line
        unchanged(request, published, data_dir / "published")
    finally:
        yahoo.close()
        sec.close()
        forget_time_zones(tmp_path / "yfinance", "NVDA", "ORCL")
    monkeypatch.delenv("THESIS_TICKERS")
    monkeypatch.delenv("THESIS_BENCHMARK")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


def test_a_model_past_its_bound_is_stopped_named_and_the_lock_released(request, capsys, monkeypatch, data_dir):
    """Every model takes more than a millisecond: the first one built is stopped (which one is
    the runner's order); the runaway of tests/test_scorecard.py, as the build meets it."""
    monkeypatch.setenv("THESIS_MODEL_TIMEOUT_SECONDS", "0.001")
    published = snapshot(data_dir / "published")
    code, err = in_process(capsys, "build", "--data-dir", str(data_dir))
    line = refused(request, code, err)
    assert re.fullmatch(
        r"thesis: error: the SQL model (staging|marts)\.\w+ ran over 0\.001 s and was stopped "
        r"\(THESIS_MODEL_TIMEOUT_SECONDS\)",
        line,
    ), line
    assert code == 1
    unchanged(request, published, data_dir / "published")
    monkeypatch.delenv("THESIS_MODEL_TIMEOUT_SECONDS")
    next_run_completes(request, *in_process(capsys, "build", "--data-dir", str(data_dir)))


def halved(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def emptied(path: Path) -> None:
    os.truncate(path, 0)


@pytest.mark.parametrize(
    "damage, reason", [(halved, "truncated"), (emptied, "not a DuckDB database file")], ids=["truncated", "emptied"]
)
def test_status_on_a_broken_warehouse_says_rebuild(request, capsys, own_raw, tmp_path, damage, reason):
    """Not "a run holds the working database" over the analyst copy: nothing holds it, it is broken."""
    var = tmp_path / "var"
    shutil.copytree(own_raw, var, symlinks=True)
    warehouse = var / "warehouse.duckdb"
    damage(warehouse)
    published = snapshot(var / "published")
    code, err = in_process(capsys, "status", "--data-dir", str(var))
    line = refused(request, code, err)
    assert line == (
        f"thesis: error: {warehouse} cannot be opened ({reason}): rebuild it from the raw zone with `thesis rebuild`"
    )
    assert code == 1
    unchanged(request, published, var / "published")
    next_run_completes(request, *in_process(capsys, "rebuild", "--data-dir", str(var)))
    code, err = in_process(capsys, "status", "--data-dir", str(var))
    assert (code, err) == (0, "")
