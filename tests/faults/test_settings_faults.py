"""Settings and claims that would make a run publish nonsense, or let data write SQL: each refused
in one line, before anything is written, or by a build that then publishes nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cli.main import main
from tests.faults.harness import one_clean_line, refused, snapshot, thesis, unchanged

SESSIONS = 294  # NYSE sessions from 2025-01-02 to 2026-03-06, the sample's (tests/test_cli.py counts them)


@pytest.mark.parametrize(
    "flags, env, expected",
    [
        # A Cyrillic capital O in front of RCL: it looks like ORCL and matches no price.
        (
            ["--tickers", "NVDA,\u041eRCL"],
            {},
            "--tickers='NVDA,\u041eRCL' is not valid: ticker '\u041eRCL' holds non-ASCII",
        ),
        (
            ["--tickers", "NVDA,ORCL');drop table raw.prices;--"],
            {},
            '"ORCL\');drop table raw.prices;--" is not a Yahoo',
        ),
        (["--benchmark", "^SOX'"], {}, '--benchmark="^SOX\'" is not valid: ticker "^SOX\'" is not a Yahoo symbol'),
        ([], {"THESIS_SEC_REQUESTS_PER_SECOND": "0"}, "THESIS_SEC_REQUESTS_PER_SECOND='0' is not valid"),
        ([], {"THESIS_SEC_TIMEOUT_SECONDS": "-1"}, "THESIS_SEC_TIMEOUT_SECONDS='-1' is not valid"),
        ([], {"THESIS_FETCH_TIMEOUT_SECONDS": "-5"}, "THESIS_FETCH_TIMEOUT_SECONDS='-5' is not valid"),
        ([], {"THESIS_LOOKBACK_DAYS": "-1"}, "THESIS_LOOKBACK_DAYS='-1' is not valid"),
        ([], {"THESIS_LOCK_WAIT_SECONDS": "-1"}, "THESIS_LOCK_WAIT_SECONDS='-1' is not valid"),
        ([], {"THESIS_PRICE_ERROR_AFTER_SESSIONS": "0"}, "THESIS_PRICE_ERROR_AFTER_SESSIONS='0' is not valid"),
        (
            [],
            {"THESIS_FILING_WARN_AFTER_DAYS": "200"},
            "THESIS_FILING_ERROR_AFTER_DAYS=140 is not valid: must be at least THESIS_FILING_WARN_AFTER_DAYS (200)",
        ),
    ],
    ids=[
        "a Cyrillic O in a ticker",
        "SQL in a ticker",
        "a quote in the benchmark",
        "SEC rate 0",
        "SEC timeout -1",
        "fetch timeout -5",
        "lookback -1",
        "lock wait -1",
        "price error bound 0",
        "filing warn bound past the error bound",
    ],
)
def test_a_bad_setting_is_refused_before_anything_is_written(request, tmp_path, flags, env, expected):
    data_dir = tmp_path / "var"
    done = thesis("run", "--sample", *flags, "--data-dir", str(data_dir), env=env, request=request)
    refused(request, done.returncode, done.stderr, expected)
    assert done.returncode == 1
    assert not data_dir.exists()


def test_a_history_start_after_the_last_session_is_refused_before_a_live_run(request, tmp_path):
    """The suite's clock is Tuesday 2026-12-01 after the close: its session is the last closed one.
    A history starting on Thursday 12-03 has no bar yet, and would read as a misspelled ticker."""
    data_dir = tmp_path / "var"
    env = {"THESIS_SEC_USER_AGENT": "Fault Tests faults@example.com", "THESIS_HISTORY_START": "2026-12-03"}
    done = thesis("run", "--data-dir", str(data_dir), env=env, request=request)
    refused(
        request,
        done.returncode,
        done.stderr,
        "THESIS_HISTORY_START=2026-12-03 is after the last closed NYSE session (2026-12-01): "
        "a ticker never seen would be fetched from a day with no bar yet",
    )
    assert done.returncode == 1
    assert not data_dir.exists()


def last_run(data_dir: Path) -> tuple[str, str]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select status, message from meta.runs order by started_at desc limit 1").fetchone()


def test_a_benchmark_no_price_matches_fails_the_build_instead_of_publishing_an_empty_mart(request, data_dir):
    before = snapshot(data_dir / "published")
    done = thesis("build", "--benchmark", "NOPE", "--data-dir", str(data_dir), request=request)
    line = refused(
        request,
        done.returncode,
        done.stderr,
        "marts.relative_performance would have no rows for NVDA, ORCL: "
        f"bars stored for NVDA {SESSIONS} against NOPE 0, ORCL {SESSIONS} against NOPE 0",
        "check --tickers and --benchmark",
    )
    assert done.returncode == 1
    unchanged(request, before, data_dir / "published")
    assert last_run(data_dir) == ("failed", line.removeprefix("thesis: error: "))


@pytest.mark.parametrize(
    "flags, env, expected",
    [
        (
            ["--tickers", "NVDA,AMD"],
            {},
            f"marts.relative_performance would have no rows for AMD: bars stored for AMD 0 against ^SOX {SESSIONS}",
        ),
        (
            ["--tickers", "^sox"],
            {},
            "THESIS_BENCHMARK='^SOX' is not valid: ^SOX is also a measured ticker; "
            "a ticker cannot be its own benchmark",
        ),
    ],
    ids=["a ticker without prices", "only the benchmark"],
)
def test_a_setting_that_leaves_a_mart_without_its_rows_fails_the_build(
    request, data_dir, capsys, monkeypatch, flags, env, expected
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(data_dir / "published")
    assert main(["build", *flags, "--data-dir", str(data_dir)]) == 1
    one_clean_line(request, capsys.readouterr().err, expected)
    unchanged(request, before, data_dir / "published")


def claims_file(tmp_path: Path, metric: str) -> Path:
    path = tmp_path / "claims.yml"
    path.write_text(
        "claims:\n  - id: sly\n    statement: s\n    window: w\n    comparator: '<'\n    threshold: 1\n"
        "    metric: |\n" + "".join(f"      {line}\n" for line in metric.splitlines())
    )
    return path


def prices_stored(data_dir: Path) -> int:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select count(*) from raw.prices").fetchone()[0]


def test_a_metric_that_deletes_rows_is_refused_and_deletes_nothing(request, data_dir, tmp_path):
    before = snapshot(data_dir / "published")
    claims = claims_file(
        tmp_path,
        "with gone as (delete from raw.prices where ticker = 'NVDA' returning close, date)\n"
        "select max(close) as value, max(date) as as_of, 'gone' as evidence from gone",
    )
    done = thesis("build", "--data-dir", str(data_dir), env={"THESIS_CLAIMS": str(claims)}, request=request)
    refused(request, done.returncode, done.stderr, "claim sly: metric must only read, but holds DELETE")
    assert done.returncode == 1
    assert prices_stored(data_dir) == 3 * SESSIONS
    unchanged(request, before, data_dir / "published")


def test_a_metric_that_writes_a_file_is_refused_and_writes_none(request, data_dir, tmp_path, capsys, monkeypatch):
    written = tmp_path / "prices.csv"
    claims = claims_file(
        tmp_path,
        f"with out as (copy raw.prices to '{written}')\nselect 1 as value, current_date as as_of, 'copied' as evidence",
    )
    monkeypatch.setenv("THESIS_CLAIMS", str(claims))
    assert main(["build", "--data-dir", str(data_dir)]) == 1
    one_clean_line(request, capsys.readouterr().err, "claim sly: metric must only read, but holds COPY")
    assert not written.exists()
