"""Flows `ingest_prices` and `ingest_filings`: one source each, loaded into raw.*, without a build."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.parameters import Runner
from flows.tasks import steps_for
from pipeline.daily import filing_source, ingest_sec, price_source
from pipeline.ingest_bulk import BulkResult
from pipeline.ingest_filings import FilingsResult
from pipeline.ingest_prices import IngestResult
from pipeline.ingest_prices import ingest_prices as ingest_prices_core
from pipeline.settings import load_settings
from pipeline.sources.prices import ImportedPrices, PriceSource


@flow(name="ingest_prices")
def ingest_prices(
    data_dir: str | None = None,
    replay_from: str | None = None,
    tickers: list[str] | None = None,
    tickers_file: str | None = None,
    benchmark: str | None = None,
    import_files: list[str] | None = None,
    ticker: str | None = None,
    task_runner: Runner | None = None,
    dask_address: str | None = None,
) -> IngestResult:
    """Prices from Yahoo (or `replay_from`'s prices/, or the CSV exports in `import_files`, whose
    ticker `ticker` names where the files do not) into raw.prices."""
    settings = load_settings(
        data_dir=data_dir,
        tickers=tickers,
        tickers_file=tickers_file,
        benchmark=benchmark,
        task_runner=task_runner,
        dask_address=dask_address,
    )
    source: PriceSource
    if import_files:
        source = ImportedPrices([Path(f) for f in import_files], ticker)
    else:
        source = price_source(settings, Path(replay_from) if replay_from else None)
    with steps_for(settings) as steps:
        return ingest_prices_core(settings, source, steps=steps)


@flow(name="ingest_filings")
def ingest_filings(
    data_dir: str | None = None,
    replay_from: str | None = None,
    sec_bulk: bool | None = None,
    task_runner: Runner | None = None,
    dask_address: str | None = None,
) -> FilingsResult | BulkResult:
    """SEC submissions and companyfacts (or `replay_from`'s sec/) into raw.filings and raw.xbrl_facts;
    with `sec_bulk`, every filer's from SEC's bulk archives (or `replay_from`'s sec/bulk/)."""
    settings = load_settings(data_dir=data_dir, sec_bulk=sec_bulk, task_runner=task_runner, dask_address=dask_address)
    source = filing_source(settings, Path(replay_from) if replay_from else None)
    with steps_for(settings) as steps:
        return ingest_sec(settings, source, steps=steps)
