"""The `thesis` command line, as a user types it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from pipeline.runtime.settings import SAMPLE_DIR
from tests.conftest import FIXTURES

THESIS = Path(sys.executable).with_name("thesis")


def thesis(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(THESIS), *args], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


# Run as the `thesis` command does, then say whether Prefect was imported: a refusal must come
# before the orchestrator (or anything heavy) starts.
REFUSE = (
    "import sys; from cli.main import main; code = main(sys.argv[1:]); print('prefect' in sys.modules); sys.exit(code)"
)


@pytest.mark.parametrize("command", [[], ["run"], ["import-prices"], ["build"], ["status"], ["report"], ["serve"]])
def test_help_works_on_every_command(command):
    done = thesis(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: thesis" in done.stdout


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["run", "--from", "/nonexistent"], {}, "no such folder to replay: /nonexistent"),
        (
            ["run"],
            {},
            "THESIS_SEC_USER_AGENT must be set to 'Name email' (SEC refuses anonymous clients); it is not set",
        ),
        (
            ["run", "--sample"],
            {"THESIS_ANCHOR_DATE": "soon"},
            "THESIS_ANCHOR_DATE='soon' is not valid: expected a date as YYYY-MM-DD",
        ),
        (["run", "--sample", "--anchor-date", "2025-02-30"], {}, "--anchor-date='2025-02-30' is not valid"),
        (["run", "--sample", "--tickers", "NVDX"], {}, "holds no prices for NVDX (it holds NVDA, ORCL, ^SOX)"),
        (["build", "--as-of", "yesterday"], {}, "--as-of='yesterday' is not valid: expected a date as YYYY-MM-DD"),
        (["import-prices", "nope.csv"], {}, "no such file: nope.csv"),
    ],
)
def test_refused_in_one_line_before_anything_starts(tmp_path, args, env, message):
    data = tmp_path / "var"
    done = subprocess.run(
        [sys.executable, "-c", REFUSE, *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("thesis: error: ") and message in line
    assert done.stdout.strip() == "False"  # Prefect was never imported
    assert not data.exists()  # no warehouse, no raw zone, no log: nothing was written


def test_version():
    done = thesis("--version")
    assert done.returncode == 0 and done.stdout.strip() == "thesis 0.2.0"


HEAVY = ("pydantic", "pandas", "duckdb", "prefect", "great_expectations", "yfinance", "requests")


def test_version_imports_none_of_the_pipeline():
    script = (
        "import sys; from cli.main import main\ntry: main(['--version'])\n"
        f"except SystemExit as exit: print(exit.code, [m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["thesis 0.2.0", "0 []"], done.stderr


def test_a_flag_a_command_does_not_use_is_refused():
    done = thesis("status", "--as-of", "2026-01-01")
    assert done.returncode == 2 and "unrecognized arguments: --as-of 2026-01-01" in done.stderr


@pytest.mark.slow  # whole runs in a fresh interpreter
def test_sample_run_prints_the_summary(tmp_path, capsys):
    # An apostrophe in the data directory: paths reach SQL as values, or quoted, never spliced.
    data_dir = tmp_path / "the analyst's data"
    assert main(["run", "--sample", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "SAMPLE DATA" in out
    # The sample's waypoints pin NVDA at 173.50 and ^SOX at 5530 on 2025-08-01, 190 and 8100 on
    # 2026-03-06: +9.5% and +46.5%.
    assert "NVDA      +9.5%  vs ^SOX   +46.5%  excess   -37.0 pp" in out
    assert "2025-08-01 .. 2026-03-06" in out
    current = data_dir / "sample" / "published" / "current"
    assert f"Analyst copy:  {current / 'thesis.duckdb'}" in out
    assert f"Parquet:       {current / 'parquet'}/ (manifest.json)" in out
    assert (current / "parquet" / "manifest.json").exists()

    assert main(["status", "--data-dir", str(data_dir / "sample")]) == 0
    status = capsys.readouterr().out
    assert "daily" in status and "succeeded" in status
    # NYSE sessions from 2025-01-02 to 2026-03-06: 307 weekdays less 13 closures (2025-01-09, 01-20,
    # 02-17, 04-18, 05-26, 06-19, 07-04, 09-01, 11-27, 12-25, 2026-01-01, 01-19, 02-16).
    assert "NVDA      294 bars  2025-01-02 .. 2026-03-06" in status
    # sample/generate_sec.py: the Oracle-like filer's last filing is its FY2026 Q1 10-Q of 2025-09-10;
    # the NVIDIA-like filer's is its FY2026 10-K of 2026-03-04, with 51 facts (capex 4 + 4, operating
    # cash flow 8 + the restated comparative, revenue 2, four balance-sheet concepts at 8 dates each)
    # from 9 filings (8 10-Qs and 10-Ks, one 8-K). Nothing was filed after the sample's 2026-03-06.
    assert "ORCL" in status and "last filed 2025-09-10" in status
    filers = {words[0]: words for words in (line.split() for line in status.splitlines() if "last filed" in line)}
    assert " ".join(filers["NVDA"]) == "NVDA 51 facts from 9 filings, last filed 2026-03-04"
    assert max(words[-1] for words in filers.values()) == "2026-03-04"


@pytest.mark.slow  # whole runs in a fresh interpreter
def test_a_failed_run_exits_non_zero_with_one_line(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(SAMPLE_DIR, broken, ignore=shutil.ignore_patterns("*.py"))
    target = next((broken / "prices").glob("ORCL.*.parquet"))
    frame = pd.read_parquet(target)
    pd.concat([frame, frame.iloc[[10]]]).to_parquet(target)  # a critical fault: the bar of 2025-01-17 twice
    # As a user runs it: Prefect's log lines share stderr; the reason is one line of its own.
    done = thesis("run", "--from", str(broken), "--data-dir", str(tmp_path / "var"))
    assert done.returncode == 1
    reasons = [line for line in done.stderr.splitlines() if line.startswith("thesis:")]
    assert len(reasons) == 1 and "leaked" not in done.stderr
    assert reasons[0].startswith(
        "thesis: error: validation of raw_prices failed: one bar per (ticker, date) failed on 2 rows: "
        "ORCL 2025-01-17, ORCL 2025-01-17"
    )
    assert "(report: " in reasons[0] and reasons[0].endswith("raw_prices.json)")
    assert not (tmp_path / "var" / "published").exists()


@pytest.mark.slow  # whole runs in a fresh interpreter
def test_import_prices_then_build(tmp_path, capsys, realdata):
    data = ["--data-dir", str(tmp_path), "--tickers", "NVDA", "--benchmark", "^SOX"]
    assert (
        main(
            [
                "import-prices",
                str(realdata / "prices" / "NVDA.download_autoadjust.csv"),
                str(realdata / "prices" / "SOX_index.long_with_bom.csv"),
                *data,
            ]
        )
        == 0
    )
    assert "Loaded 1550 bars for NVDA, ^SOX" in capsys.readouterr().out
    assert main(["build", *data]) == 0
    assert "NVDA" in capsys.readouterr().out
    copied = sorted(p.name for p in (tmp_path / "raw" / "prices").glob("*.csv"))
    assert [name.split(".")[:2] for name in copied] == [["NVDA", "download_autoadjust"], ["SOX_index", "long_with_bom"]]


def test_import_with_an_explicit_ticker(tmp_path, capsys):
    plain = tmp_path / "export.csv"
    shutil.copy(FIXTURES / "AAPL.classic.csv", plain)
    assert main(["import-prices", str(plain), "--ticker", "nvda", "--data-dir", str(tmp_path / "var")]) == 0
    assert "Loaded 3 bars for NVDA" in capsys.readouterr().out


def test_missing_file_is_named(tmp_path):
    done = thesis("import-prices", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert f"thesis: error: no such file: {tmp_path / 'nope.csv'}" in done.stderr.splitlines()
