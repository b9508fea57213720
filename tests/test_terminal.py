"""What `thesis` shows while it runs: on a terminal (a pseudo-terminal here) the steps as they
happen, before the summary; without one plain lines, no control character; an orchestrated run's
flow run named first; and why each empty mart is empty."""

from __future__ import annotations

import io
import os
import pty
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from pipeline.runtime.settings import SAMPLE_DIR
from tests.conftest import PROJECT

THESIS = Path(sys.executable).with_name("thesis")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline


@pytest.mark.slow  # whole runs in a fresh interpreter
def test_a_terminal_shows_the_steps_as_they_run_before_the_summary(tmp_path):
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen(
        [str(THESIS), "run", "--sample", "--data-dir", str(tmp_path / "var")],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env=env,
        cwd=tmp_path,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the last end of the terminal closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=60) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    summary = screen.index(" succeeded.")
    # A step with its time, drawn (cursor moves, colours) before the summary is printed.
    assert re.search(r"transform and validate.*\d:\d\d:\d\d", screen[:summary])
    assert "\x1b[" in screen[:summary]


@pytest.mark.slow  # whole runs in a fresh interpreter
def test_without_a_terminal_plain_lines_and_each_empty_mart_says_why(tmp_path):
    """The sample's NVIDIA filings alone: no price and no hyperscaler's capex, so
    marts.relative_performance and marts.capex_slope are empty, each with its reason."""
    for kind in ("companyfacts", "submissions"):
        (tmp_path / "nvda" / "sec" / kind).mkdir(parents=True)
        shutil.copy(SAMPLE_DIR / "sec" / kind / "CIK0001045810.json", tmp_path / "nvda" / "sec" / kind)
    done = subprocess.run(
        [str(THESIS), "run", "--from", str(tmp_path / "nvda"), "--data-dir", str(tmp_path / "var")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, out + err
    assert not CONTROL.search(out + err) and err == ""
    lines = out.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.endswith(" succeeded."))
    steps = [line for line in lines[:summary] if line.startswith("[")]
    assert re.fullmatch(r"\[ *\d+\.\d s\] transform and validate: \d+\.\d s", steps[1]), steps
    assert [line.split("] ", 1)[1].split(":")[0] for line in steps] == [
        "read the claims",
        "transform and validate",
        "score the claims",
        "score the weekly timeline",
        "export parquet",
        "write the report",
        "publish",
    ]
    marts = {line.split()[0]: line for line in lines[summary:] if line.startswith("  marts.")}
    assert marts["marts.relative_performance"].endswith(" 0 rows (no prices loaded yet)")
    assert marts["marts.capex_slope"].endswith(
        " 0 rows (no quarter of capex for MSFT, GOOGL, AMZN, META, ORCL in the SEC facts loaded, "
        f"read through {PROJECT / 'seeds' / 'concept_map.csv'})"
    )
    assert not marts["marts.leverage"].endswith(" 0 rows")
    assert all(" 0 rows (" in line for line in marts.values() if " 0 rows" in line)


@dataclass(frozen=True)
class Chunk:
    tickers: list[str]


def fetch_chunk(chunk: Chunk) -> int:
    return len(chunk.tickers)


def test_a_mapped_step_counts_its_tickers():
    from cli.progress import Plain, Shown

    out = io.StringIO()
    assert Shown(Plain(out)).map(fetch_chunk, [Chunk(["NVDA", "ORCL"]), Chunk(["^SOX"])]) == [2, 1]
    assert re.fullmatch(r"\[ *\d+\.\d s\] Yahoo Finance prices \(3 tickers\): \d+\.\d s\n", out.getvalue())


@pytest.mark.xdist_group("prefect")  # the session's Prefect server
def test_an_orchestrated_run_names_its_flow_run_and_address_first(prefect_api, tmp_path, capsys):
    from prefect.client.orchestration import get_client

    from cli.main import main

    data_dir = tmp_path / "var"
    assert main(["build", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The run the first line names (other tests' runs share this server): this build's.
    ui = prefect_api.removesuffix("/api")
    assert lines[0].startswith("Prefect flow run ") and f": {ui}/runs/flow-run/" in lines[0]
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(lines[0].rsplit("/", 1)[1]))
        assert client.read_flow(flow_run.flow_id).name == "build"
    assert flow_run.parameters["data_dir"] == str(data_dir)
    assert lines[0] == f"Prefect flow run {flow_run.name}: {ui}/runs/flow-run/{flow_run.id}"
    # Nothing loaded yet: the marts of prices and of SEC facts say so.
    marts = {line.split()[0]: line for line in lines if line.startswith("  marts.")}
    assert marts["marts.relative_performance"].endswith(" 0 rows (no prices loaded yet)")
    assert marts["marts.leverage"].endswith(" 0 rows (no SEC facts loaded yet)")
    assert marts["marts.capex_slope"].endswith(" 0 rows (no SEC facts loaded yet)")
