"""The bad-input corpus: every bad file or folder fed to `thesis` in-process is refused with one
line naming the file and the fault, leaves the published exports as they were, and the next good
run completes. Cases: tests/faults/bad_inputs_prices.py and bad_inputs_sec.py.

Then what happens around a refusal: a failed payload of the raw zone is quarantined and later runs
go on without it; a replay folder replays what it holds; a real vendor file with one out-of-line
bar loads whole, that bar flagged.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults import harness
from tests.faults.bad_inputs_prices import CASES as PRICE_CASES
from tests.faults.bad_inputs_prices import Case, real_table, sample_payload, sample_table
from tests.faults.bad_inputs_sec import CASES as SEC_CASES
from tests.faults.harness import in_process, next_run_completes, refused, snapshot, unchanged

CASES = PRICE_CASES + SEC_CASES
assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES), "40 cases or more, each named once"


def counts(data_dir: Path) -> tuple[int, ...]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return tuple(
            con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("raw.prices", "raw.xbrl_facts", "raw.filings", "meta.payloads")
        )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_bad_input_is_refused_in_one_line_and_changes_nothing(case: Case, request, capsys, data_dir, tmp_path):
    real = request.getfixturevalue("realdata") if case.real else None
    inputs = tmp_path / "input"
    inputs.mkdir()
    args = case.make(inputs, real)
    published, stored = snapshot(data_dir / "published"), counts(data_dir)

    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))

    refused(request, code, err, *case.expected)
    assert code == 1
    unchanged(request, published, data_dir / "published")
    assert counts(data_dir) == stored  # nothing from the failing batch was loaded
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


# Inputs that used to end in library noise after the error (nanobind's leak report, a pandas
# warning), run as the real command in a fresh interpreter: one line, and nothing after it.
NOISY = (
    "non-numeric-cik",
    "fy-FY2024",
    "submissions-filings-is-a-list",
    "json-nested-100000-deep",
    "filing-date-as-03-04-2026",
    "mixed-date-formats",
)


@pytest.mark.parametrize("case", [c for c in CASES if c.id in NOISY], ids=lambda c: c.id)
def test_the_real_command_says_one_line_and_nothing_after_it(case: Case, request, tmp_path):
    real = request.getfixturevalue("realdata") if case.real else None
    inputs = tmp_path / "input"
    inputs.mkdir()
    done = harness.thesis(*case.make(inputs, real), "--data-dir", str(tmp_path / "var"), request=request)
    refused(request, done.returncode, done.stderr, *case.expected)
    assert done.returncode == 1
    unchanged(request, {}, tmp_path / "var" / "published")


# What happens around a refusal.


def import_sample(capsys, data_dir: Path) -> None:
    """The sample's three payloads imported: the raw zone then holds a copy of each."""
    files = [str(sample_payload(t)) for t in ("NVDA", "ORCL", "^SOX")]
    assert in_process(capsys, "import-prices", *files, "--data-dir", str(data_dir)) == (0, "")


def test_a_failed_raw_payload_is_quarantined_and_replays_of_the_raw_zone_go_on(request, capsys, data_dir, tmp_path):
    import_sample(capsys, data_dir)
    bad = sample_table().append(293, "2031-03-07").write(tmp_path / "NVDA.csv")
    published = snapshot(data_dir / "published")

    code, err = in_process(capsys, "import-prices", str(bad), "--data-dir", str(data_dir))

    quarantine = data_dir / "raw" / "_quarantine" / "prices"
    [moved] = [p.name for p in quarantine.glob("NVDA.*.csv")]
    refused(request, code, err, f"; moved to {quarantine}: {moved} (report: ")
    assert code == 1
    unchanged(request, published, data_dir / "published")
    assert sorted(p.name for p in quarantine.iterdir()) == [moved, f"{moved}.meta.json", f"{moved}.why.txt"]
    assert (
        (quarantine / f"{moved}.why.txt")
        .read_text()
        .endswith(
            "validation of raw_prices failed: no bar dated after the run date (today in New York) failed on 1 row: "
            "NVDA 2031-03-07\n"
        )
    )
    assert not list((data_dir / "raw" / "prices").glob("NVDA.*.csv*"))

    # Replaying the raw zone skips it, and says so in one line of the run's log.
    next_run_completes(
        request, *in_process(capsys, "run", "--from", str(data_dir / "raw"), "--data-dir", str(data_dir))
    )
    log = (data_dir / "logs" / "thesis.log").read_text()
    assert log.count(f"skipped 1 quarantined payload(s) in {quarantine} (see each .why.txt): {moved}") == 1

    # A later good payload for the same ticker loads as usual.
    good = sample_table().write(tmp_path / "good" / "NVDA.csv")
    assert in_process(capsys, "import-prices", str(good), "--data-dir", str(data_dir)) == (0, "")


def test_a_replay_folder_with_only_sec_replays_the_filings(request, capsys, data_dir, tmp_path):
    shutil.copytree(SAMPLE_DIR / "sec", tmp_path / "sec-only" / "sec")
    code, err = in_process(capsys, "run", "--from", str(tmp_path / "sec-only"), "--data-dir", str(data_dir))
    assert (code, err) == (0, "")
    log = (data_dir / "logs" / "thesis.log").read_text()
    assert f"{tmp_path / 'sec-only'} has no prices/ folder: prices skipped, SEC filings only" in log


def test_an_archive_file_with_an_empty_table_loads_nothing_and_the_run_goes_on(request, capsys, data_dir, tmp_path):
    """SEC can serve an older-filings file whose every column is an empty list (valid JSON, no
    filing): it adds nothing, and the company's other payloads load."""
    request.node.user_properties.append(("fault", "tried"))
    folder = tmp_path / "replay" / "sec" / "submissions"
    folder.mkdir(parents=True)
    recent = json.loads((SAMPLE_DIR / "sec" / "submissions" / "CIK0001045810.json").read_text())["filings"]["recent"]
    (folder / "CIK0001045810-submissions-001.json").write_text(json.dumps({field: [] for field in recent}))
    shutil.copy(SAMPLE_DIR / "sec" / "submissions" / "CIK0001045810.json", folder)
    before = counts(data_dir)

    assert in_process(capsys, "run", "--from", str(tmp_path / "replay"), "--data-dir", str(data_dir)) == (0, "")
    assert counts(data_dir)[2] == before[2]  # the sample's filings were loaded before: none added


def test_one_refused_company_among_good_ones_is_named_and_the_others_publish(capsys, tmp_path):
    """NVIDIA's and Oracle's filings, Oracle's companyfacts cut short, into a fresh data directory:
    NVIDIA loads and publishes, Oracle is named in one line and in meta.runs.failed, exit status 3."""
    folder = tmp_path / "two" / "sec"
    for kind in ("companyfacts", "submissions"):
        (folder / kind).mkdir(parents=True)
        for name in ("CIK0001045810.json", "CIK0001341439.json"):
            shutil.copy(SAMPLE_DIR / "sec" / kind / name, folder / kind)
    whole = (folder / "companyfacts" / "CIK0001341439.json").read_bytes()
    (folder / "companyfacts" / "CIK0001341439.json").write_bytes(whole[: len(whole) // 2])
    data_dir = tmp_path / "var"

    code, err = in_process(capsys, "run", "--from", str(folder.parent), "--data-dir", str(data_dir))

    assert code == 3
    [line] = err.splitlines()
    assert line.startswith("failed: CIK0001341439 ORCL (CIK0001341439.json: not valid JSON, perhaps truncated (")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [(status, failed)] = con.execute("select status, failed from meta.runs").fetchall()
        loaded = con.execute("select distinct cik from raw.xbrl_facts union select distinct cik from raw.filings")
        ciks = sorted(row[0] for row in loaded.fetchall())
    assert (status, list(json.loads(failed))) == ("partial", ["CIK0001341439 ORCL"])
    assert line == f"failed: CIK0001341439 ORCL ({json.loads(failed)['CIK0001341439 ORCL']})"
    assert ciks == [1045810]
    leverage = pd.read_parquet(data_dir / "published" / "current" / "parquet" / "leverage.parquet")
    assert set(leverage["ticker"]) == {"NVDA"}
    assert main(["status", "--data-dir", str(data_dir)]) == 0
    [run] = [line.split() for line in capsys.readouterr().out.splitlines() if " daily " in line]
    assert run[1:4] == ["daily", "replay", "partial"]


def test_a_real_sox_file_with_an_open_below_its_low_loads_every_session_flagged(realdata, capsys, tmp_path):
    # ^SOX 2023-04-26 (row 581, line 583 of the file): low 2908.409912109375, open moved 2.1 points below it.
    sox = real_table(realdata, "SOX_index.long_with_bom.csv")
    assert sox.rows[581][:2] == ["2023-04-26", "^SOX"]
    sox.set(581, "Open", repr(2908.409912109375 - 2.1))
    folder = tmp_path / "vendor"
    sox.write(folder / "prices" / "SOX_index.long_with_bom.csv")
    for name in ("NVDA.download_autoadjust.csv", "ORCL.download_autoadjust.csv"):
        shutil.copy(realdata / "prices" / name, folder / "prices")
    shutil.copytree(SAMPLE_DIR / "sec", folder / "sec")
    data_dir = tmp_path / "var"

    capsys.readouterr()
    assert main(["run", "--from", str(folder), "--data-dir", str(data_dir)]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "  raw_prices: low <= open flagged on 1 row: ^SOX 2023-04-26" in printed.out.splitlines()

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        sessions = con.execute("select count(*), min(date), max(date) from raw.prices where ticker = '^SOX'").fetchone()
        flagged = con.execute("select ticker, date, open, flags from raw.prices where flags is not null").fetchall()
        run_id, summary, report = con.execute(
            "select run_id, summary, report_path from meta.validations where suite = 'raw_prices'"
        ).fetchone()
    assert sessions == (1299, dt.date(2021, 1, 4), dt.date(2026, 3, 6))  # every session of the file
    assert flagged == [("^SOX", dt.date(2023, 4, 26), pytest.approx(2906.309912109375), "low <= open")]
    assert summary == "all critical expectations passed; warning: low <= open flagged on 1 row: ^SOX 2023-04-26"
    findings = json.loads(Path(report).read_text())["findings"]
    assert [(f["expectation"], f["severity"], f["rows"]) for f in findings] == [
        ("low <= open", "warning", [{"ticker": "^SOX", "date": "2023-04-26"}])
    ]
    assert run_id in report
