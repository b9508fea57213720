"""Flows `ingest_prices` and `ingest_filings`: one source each, loaded into raw.*, without a build."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows import failure, run_log
from flows.parameters import takes_run_parameters
from flows.tasks import steps_for
from pipeline.daily import filing_source, ingest_sec, price_source
from pipeline.ingest.bulk import BulkResult
from pipeline.ingest.filings import FilingsResult
from pipeline.ingest.prices import IngestResult
from pipeline.ingest.prices import ingest_prices as ingest_prices_core
from pipeline.runtime.run_parameters import RunParameters
from pipeline.runtime.settings import Settings
from pipeline.sources.prices import ImportedPrices, PriceSource


def replay_folder(parameters: RunParameters) -> Path | None:
    return Path(parameters.replay_from) if parameters.replay_from else None


@flow(name="ingest_prices")
@takes_run_parameters("ingest_prices")
@run_log.told
def ingest_prices(parameters: RunParameters, settings: Settings) -> IngestResult:
    """Prices from Yahoo (or `replay_from`'s prices/, or the CSV exports in `import_files`, whose
    ticker `ticker` names where the files do not) into raw.prices."""
    source: PriceSource
    if parameters.import_files:
        source = ImportedPrices([Path(f) for f in parameters.import_files], parameters.ticker)
    else:
        source = price_source(settings, replay_folder(parameters))
    failure.phase("ingest_prices")
    with steps_for(settings) as steps:
        return ingest_prices_core(settings, source, steps=steps)


@flow(name="ingest_filings")
@takes_run_parameters("ingest_filings")
@run_log.told
def ingest_filings(parameters: RunParameters, settings: Settings) -> FilingsResult | BulkResult:
    """SEC submissions and companyfacts (or `replay_from`'s sec/) into raw.filings and raw.xbrl_facts;
    with `sec_bulk`, every filer's from SEC's bulk archives (or `replay_from`'s sec/bulk/)."""
    source = filing_source(settings, replay_folder(parameters))
    failure.phase("ingest_filings")
    with steps_for(settings) as steps:
        return ingest_sec(settings, source, steps=steps)
