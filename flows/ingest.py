"""Flows `ingest_prices` and `ingest_filings`: one source each, loaded into raw.*, without a build."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.tasks import PrefectSteps
from pipeline.daily import filing_source, price_source
from pipeline.ingest_filings import FilingsResult
from pipeline.ingest_filings import ingest_filings as ingest_filings_core
from pipeline.ingest_prices import IngestResult
from pipeline.ingest_prices import ingest_prices as ingest_prices_core
from pipeline.settings import load_settings
from pipeline.sources.prices import ImportedPrices


@flow(name="ingest_prices")
def ingest_prices(
    data_dir: str | None = None,
    replay_from: str | None = None,
    tickers: list[str] | None = None,
    tickers_file: str | None = None,
    benchmark: str | None = None,
    import_files: list[str] | None = None,
    ticker: str | None = None,
) -> IngestResult:
    """Prices from Yahoo (or `replay_from`'s prices/, or the CSV exports in `import_files`, whose
    ticker `ticker` names where the files do not) into raw.prices."""
    settings = load_settings(data_dir=data_dir, tickers=tickers, tickers_file=tickers_file, benchmark=benchmark)
    if import_files:
        source = ImportedPrices([Path(f) for f in import_files], ticker)
    else:
        source = price_source(settings, Path(replay_from) if replay_from else None)
    return ingest_prices_core(settings, source, steps=PrefectSteps())


@flow(name="ingest_filings")
def ingest_filings(data_dir: str | None = None, replay_from: str | None = None) -> FilingsResult:
    """SEC submissions and companyfacts (or `replay_from`'s sec/) into raw.filings and raw.xbrl_facts."""
    settings = load_settings(data_dir=data_dir)
    source = filing_source(settings, Path(replay_from) if replay_from else None)
    return ingest_filings_core(settings, source, steps=PrefectSteps())
