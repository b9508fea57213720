"""No fact from the future: an SEC fact filed after the run date fails validation and loads nothing,
and the bundled sample holds no date after its own as-of date."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cli.main import main
from pipeline.ingest.filings import ingest_filings
from pipeline.runtime.errors import ValidationFailed
from pipeline.runtime.settings import SAMPLE_DIR
from pipeline.sources.filings import ReplaySecFilings

ORCL_FACTS = Path("sec") / "companyfacts" / "CIK0001341439.json"
# The Oracle-like filer's RPO at 2025-08-31, from its FY2026 Q1 10-Q (sample/generate_sec.py).
RPO, PERIOD, ACCN = "RevenueRemainingPerformanceObligation", "2025-08-31", "0001341439-25-000103"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def tomorrow() -> dt.date:
    """The day after the pipeline's run date (today in New York by the suite's clock, THESIS_TODAY)."""
    from pipeline.runtime.settings import Settings

    return Settings().clock.today() + dt.timedelta(days=1)


def replay_with_a_future_fact(folder: Path, *, with_prices: bool = False) -> Path:
    """A replay folder: the sample's Oracle-like companyfacts with its 2025-08-31 RPO filed tomorrow."""
    target = folder / ORCL_FACTS
    target.parent.mkdir(parents=True)
    data = json.loads((SAMPLE_DIR / ORCL_FACTS).read_text())
    [row] = [r for r in data["facts"]["us-gaap"][RPO]["units"]["USD"] if r["end"] == PERIOD and r["accn"] == ACCN]
    row["filed"] = tomorrow().isoformat()
    target.write_text(json.dumps(data))
    if with_prices:
        shutil.copytree(SAMPLE_DIR / "prices", folder / "prices")
    return folder


# The rule, then the row by the suite's ID_COLUMNS (cik, taxonomy, concept, unit, period, accn).
EXPECTED_FAILURE = (
    f"filed on or before the run date (today in New York) failed on 1 row: 1341439 us-gaap {RPO} USD {PERIOD} {ACCN}"
)


def facts_loaded(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from raw.xbrl_facts").fetchone()[0]


def test_a_fact_filed_after_the_run_date_fails_the_batch_and_loads_nothing(settings, tmp_path):
    folder = replay_with_a_future_fact(tmp_path / "replay")

    with pytest.raises(ValidationFailed) as failed:
        ingest_filings(settings, ReplaySecFilings(folder))

    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(f"validation of raw_xbrl_facts failed: {EXPECTED_FAILURE}; nothing was loaded (report: ")
    assert facts_loaded(settings.paths.warehouse) == 0
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.filings").fetchone() == (0,)
        assert con.execute("select status from meta.runs").fetchall() == [("failed",)]


def test_the_cli_refuses_a_fact_from_the_future_in_one_line(tmp_path, capsys):
    folder = replay_with_a_future_fact(tmp_path / "replay", with_prices=True)
    data_dir = tmp_path / "var"

    assert main(["run", "--from", str(folder), "--data-dir", str(data_dir)]) == 1

    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("thesis:")]
    assert len(lines) == 1
    assert lines[0].startswith(f"thesis: error: validation of raw_xbrl_facts failed: {EXPECTED_FAILURE}")
    assert facts_loaded(data_dir / "warehouse.duckdb") == 0
    assert not (data_dir / "published").exists()


# The sample: nothing in it is dated after the as-of date that sample/README.md states.


def sample_as_of() -> dt.date:
    found = re.findall(r"^As-of date: (\d{4}-\d{2}-\d{2})$", (SAMPLE_DIR / "README.md").read_text(), re.M)
    assert len(found) == 1, "sample/README.md states its as-of date once, as `As-of date: YYYY-MM-DD`"
    return dt.date.fromisoformat(found[0])


def named_dates() -> Iterator[tuple[str, str]]:
    """(where, date) for every fact's filed, start and end, every filing's filingDate, reportDate and
    acceptanceDateTime, and every price bar's date."""
    for path in sorted((SAMPLE_DIR / "sec" / "companyfacts").glob("*.json")):
        for concept, body in json.loads(path.read_text())["facts"]["us-gaap"].items():
            for unit, rows in body["units"].items():
                for row in rows:
                    for field in ("filed", "start", "end"):
                        if field in row:
                            yield f"{path.name} {concept} {unit} {row['accn']} {field}", row[field]
    for path in sorted((SAMPLE_DIR / "sec" / "submissions").glob("*.json")):
        recent = json.loads(path.read_text())["filings"]["recent"]
        for field in ("filingDate", "reportDate", "acceptanceDateTime"):
            for accn, value in zip(recent["accessionNumber"], recent[field], strict=True):
                if value:  # an 8-K has no reportDate
                    yield f"{path.name} {accn} {field}", value
    for path in sorted((SAMPLE_DIR / "prices").glob("*.parquet")):
        for date in pd.read_parquet(path).index:
            yield f"{path.name} bar", date.date().isoformat()


def any_dates(value, where: str) -> Iterator[tuple[str, str]]:
    """Every string that starts with a YYYY-MM-DD date, anywhere in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from any_dates(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from any_dates(item, f"{where}[{i}]")
    elif isinstance(value, str) and DATE.match(value):
        yield where, value


def test_the_sample_has_nothing_dated_after_its_as_of_date():
    as_of = sample_as_of()
    dates = list(named_dates())
    # Every kind of date was found: facts, filings and bars (the check is not vacuous).
    assert {where.split()[-1] for where, _ in dates} >= {
        "filed",
        "start",
        "end",
        "filingDate",
        "reportDate",
        "acceptanceDateTime",
        "bar",
    }
    # And any other date-like string in the JSON payloads and the prices' .meta.json (received_at).
    for path in sorted(SAMPLE_DIR.glob("**/*.json")):
        dates += list(any_dates(json.loads(path.read_text()), str(path.relative_to(SAMPLE_DIR))))
    late = [f"{where} {value}" for where, value in dates if dt.date.fromisoformat(value[:10]) > as_of]
    assert late == []
    # The as-of date is the last price session, and the one the SEC generator checks against.
    assert max(value for where, value in dates if where.endswith(" bar")) == as_of.isoformat()
    spec = importlib.util.spec_from_file_location("generate_sec", SAMPLE_DIR / "generate_sec.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert as_of == generator.AS_OF


# Future bars must not block the future: a bar from the future stored by an earlier release (the
# raw_prices suite now refuses them) must not push every later fetch past what Yahoo has.


def recent_bars(directory: Path, tickers: tuple[str, ...], today: dt.date) -> Path:
    """`history()` frames, as yfinance returns them, of flat bars on every NYSE session of the last 30 days."""
    from pipeline.runtime import trading_calendar

    days = trading_calendar.sessions(today - dt.timedelta(days=30), today)
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days], name="Date").tz_localize("America/New_York")
    directory.mkdir()
    for ticker in tickers:
        frame = pd.DataFrame(
            {"Open": 100.0, "High": 100.0, "Low": 100.0, "Close": 100.0, "Adj Close": 100.0, "Volume": 1000},
            index=index,
        ).assign(Dividends=0.0, **{"Stock Splits": 0.0})
        frame.to_parquet(directory / f"{ticker}.parquet")
    return directory


@pytest.mark.slow
def test_a_stored_bar_from_the_future_does_not_move_the_next_fetch_past_today(settings, tmp_path):
    from pipeline.ingest.prices import ingest_prices
    from pipeline.sources.prices import YahooPrices
    from pipeline.sources.yahoo import RecordedYahooClient
    from warehouse.connection import connect

    today = settings.clock.today()
    with connect(settings.paths.warehouse) as con:  # as an earlier release stored it
        con.execute(
            "insert into raw.prices (ticker, date, open, high, low, close, adj_close, volume, close_is_adjusted, "
            "payload_sha256, run_id, loaded_at) values ('NVDA', '2031-03-07', 100, 100, 100, 100, 100, 1000, "
            "false, 'ab', 'old', now())"
        )
    client = RecordedYahooClient(recent_bars(tmp_path / "yahoo", settings.universe, today))

    result = ingest_prices(settings, YahooPrices(client))

    # NVDA from today less the 10-day lookback, not from 2031-02-25; the others have no history yet.
    assert sorted(client.calls) == [
        (("NVDA",), today - dt.timedelta(days=10)),
        (("ORCL", "^SOX"), settings.history_start),
    ]
    assert result.tickers == ("NVDA", "ORCL", "^SOX") and result.rows > 0
