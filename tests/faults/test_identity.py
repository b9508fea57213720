"""Identity at every door: data that says it is one thing and holds another is refused in one line,
the published exports unchanged, and the next good run completes.

- a Yahoo chart answer for another symbol than the one asked for;
- a price file holding another ticker's prices under this one's name (ORCL's saved as NVDA.csv);
- a companyfacts body with no `cik`, or a body of the other kind, named for NVIDIA;
- an adjusted-close column under another spelling (read), or one that cannot be read (refused);
- a benchmark that is also a measured ticker.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults.bad_inputs_prices import real_table, replay, sample_table
from tests.faults.harness import in_process, next_run_completes, one_clean_line, refused, snapshot, unchanged
from tests.faults.network_servers import FaultServer, aim, forget_time_zones, sec_answer, yahoo_answer

NVDA_FACTS = "CIK0001045810.json"


def refused_here(request, capsys, data_dir: Path, args: list[str], line: str) -> None:
    """`thesis ARGS` exits 1 with exactly `line` on stderr, the exports as they were; then the
    sample runs again."""
    published = snapshot(data_dir / "published")
    assert published, "the sample published nothing"
    got, err = in_process(capsys, *args, "--data-dir", str(data_dir))
    assert refused(request, got, err) == line
    assert got == 1
    unchanged(request, published, data_dir / "published")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


def test_a_yahoo_answer_for_another_symbol_is_refused(request, capsys, monkeypatch, data_dir, tmp_path):
    """Asked for NVDA, the server answers with Yahoo's recorded chart of MSFT (HTTP 200, whole JSON)."""
    if not (Path(__file__).parents[2].parent / "shared" / "realdata").is_dir():
        pytest.skip("recorded payloads not found beside the project")
    forget_time_zones(tmp_path / "yfinance", "NVDA", "ORCL", "^SOX")
    yahoo, sec = FaultServer(yahoo_answer), FaultServer(sec_answer)
    try:
        aim(monkeypatch.setattr, yahoo.url, sec.url)
        monkeypatch.setenv("THESIS_SEC_USER_AGENT", "Thesis Fault Suite faults@example.com")
        monkeypatch.setenv("THESIS_FETCH_RETRIES", "0")
        monkeypatch.setenv("THESIS_FETCH_TIMEOUT_SECONDS", "5")
        monkeypatch.setenv("THESIS_TICKERS", "NVDA")
        monkeypatch.setenv("THESIS_BENCHMARK", "ORCL")
        yahoo.plan("wrong-symbol", "/v8/finance/chart/NVDA")
        published = snapshot(data_dir / "published")
        code, err = in_process(capsys, "run", "--data-dir", str(data_dir))
        line = one_clean_line(
            request, err, "Yahoo Finance answered the request for NVDA with MSFT's prices: nothing of it loads"
        )
        assert code == 1, line
        unchanged(request, published, data_dir / "published")
    finally:
        yahoo.close()
        sec.close()
        forget_time_zones(tmp_path / "yfinance", "NVDA", "ORCL", "^SOX")
    monkeypatch.delenv("THESIS_TICKERS")
    monkeypatch.delenv("THESIS_BENCHMARK")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))


def test_another_tickers_prices_named_for_nvda_are_refused(request, capsys, realdata, data_dir, tmp_path):
    """ORCL's real closes saved as NVDA.csv, over the sample's NVDA bars. On the 156 dates both hold,
    |ORCL close - sample NVDA Adj Close| / sample NVDA Adj Close has a median of 25.46% (worked out
    from the two files with pandas), above the 10% default tolerance."""
    args = replay(tmp_path, {"NVDA.csv": real_table(realdata, "ORCL.download_autoadjust.csv")})
    line = (
        "thesis: error: NVDA.csv: its adjusted closes differ from the NVDA prices stored by a median 25.5% on "
        "156 shared dates (THESIS_IDENTITY_TOLERANCE is 10%): not NVDA's prices; nothing was loaded"
    )
    refused_here(request, capsys, data_dir, args, line)


def test_nvidias_real_prices_over_the_samples_load(capsys, realdata, data_dir, tmp_path):
    """The sample's NVDA bars are NVIDIA-like: the real file differs from them by a median 3.7% on
    their shared dates, within the tolerance, so it loads (no false refusal)."""
    args = replay(tmp_path, {"NVDA.csv": real_table(realdata, "NVDA.download_autoadjust.csv")})
    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))
    assert code == 0, err


def sec_replay(tmp_path: Path, kind: str, body: dict) -> list[str]:
    target = tmp_path / "replay" / "sec" / kind / NVDA_FACTS
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(body))
    return ["run", "--from", str(tmp_path / "replay")]


def test_companyfacts_with_no_cik_named_for_nvidia_are_refused(request, capsys, realdata, data_dir, tmp_path):
    """Microsoft's real facts, their `cik` removed, named for NVIDIA."""
    body = json.loads((realdata / "sec" / "companyfacts" / "CIK0000789019.trimmed.json").read_text())
    assert body.pop("cik") == 789019
    line = (
        "thesis: error: CIK0001045810.json: no `cik` in the body; nothing says it is CIK 1045810's companyfacts; "
        "nothing was loaded"
    )
    refused_here(request, capsys, data_dir, sec_replay(tmp_path, "companyfacts", body), line)


def test_a_submissions_body_where_companyfacts_belong_is_refused(request, capsys, realdata, data_dir, tmp_path):
    body = json.loads((realdata / "sec" / "submissions" / NVDA_FACTS).read_text())
    line = (
        "thesis: error: CIK0001045810.json: holds submissions (a `filings` object), not companyfacts; "
        "nothing was loaded"
    )
    refused_here(request, capsys, data_dir, sec_replay(tmp_path, "companyfacts", body), line)


def test_a_companyfacts_body_where_submissions_belong_is_refused(request, capsys, data_dir, tmp_path):
    body = json.loads((SAMPLE_DIR / "sec" / "companyfacts" / NVDA_FACTS).read_text())
    line = (
        "thesis: error: CIK0001045810.json: holds companyfacts (a `facts` object), not submissions; nothing was loaded"
    )
    refused_here(request, capsys, data_dir, sec_replay(tmp_path, "submissions", body), line)


@pytest.mark.parametrize("header", ["Adj_Close", "adj close", "AdjClose", "Adjusted Close"])
def test_an_adjusted_close_under_another_spelling_is_read(capsys, data_dir, tmp_path, header):
    """The sample's NVDA bars with their first adjusted close set 1% under its close: that value
    is what the warehouse holds, not the close."""
    table = sample_table()
    close = float(table.rows[0][table.header.index("Close")])
    table.set(0, "Adj Close", repr(close * 0.99))
    table.header[table.header.index("Adj Close")] = header
    code, err = in_process(capsys, *replay(tmp_path, {"NVDA.csv": table}), "--data-dir", str(data_dir))
    assert code == 0, err
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute(
            "select close, adj_close, close_is_adjusted from raw.prices where ticker = 'NVDA' and date = ?",
            [table.rows[0][0]],
        ).fetchone()
    assert stored == pytest.approx((close, close * 0.99, False))


def test_an_adjusted_close_that_cannot_be_read_is_refused(request, capsys, data_dir, tmp_path):
    table = sample_table()
    table.header[table.header.index("Adj Close")] = "Adj Close (USD)"
    line = (
        "thesis: error: NVDA.csv: column 'Adj Close (USD)' looks like an adjusted close but is not one this reads; "
        "name it 'Adj Close'; nothing was loaded"
    )
    refused_here(request, capsys, data_dir, replay(tmp_path, {"NVDA.csv": table}), line)


def test_a_benchmark_that_is_measured_is_refused(request, capsys, data_dir):
    line = (
        "thesis: error: --benchmark='NVDA' is not valid: NVDA is also a measured ticker; "
        "a ticker cannot be its own benchmark"
    )
    refused_here(request, capsys, data_dir, ["run", "--from", str(SAMPLE_DIR), "--benchmark", "NVDA"], line)


def test_a_tickers_file_benchmark_that_is_measured_is_refused(request, capsys, data_dir, tmp_path):
    tickers = tmp_path / "tickers.csv"
    tickers.write_text("ticker,benchmark\nNVDA,ORCL\nORCL,\n")
    line = (
        f"thesis: error: --tickers-file is not valid: {tickers}: ORCL is the benchmark of NVDA and also a "
        "measured ticker"
    )
    args = ["run", "--from", str(SAMPLE_DIR), "--tickers-file", str(tickers)]
    refused_here(request, capsys, data_dir, args, line)
