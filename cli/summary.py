"""What the CLI prints for `thesis status`, and where `report` and `status` read; a run's summary
is the core's (pipeline/build/summary.py), which the flows keep as an artifact too."""

from __future__ import annotations

import json

import duckdb

from pipeline.build.summary import stale_lines, ticker_lines
from pipeline.runtime.errors import PipelineError
from pipeline.runtime.run_status import FINISHED
from pipeline.runtime.settings import Settings
from warehouse.connection import WarehouseBusy, connect_read_only, damaged, open_waiting
from warehouse.publish import current_version


def filing_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """A line per listed company; filers off the list (bulk mode loads every filer) summed in one."""
    rows = con.execute("""
        select c.ticker, count(*), count(distinct f.accn), max(f.filed)
        from raw.xbrl_facts as f left join raw.companies as c using (cik)
        group by all order by 1 nulls last""").fetchall()
    others = con.execute("""
        select count(distinct cik), count(*) from raw.xbrl_facts
        where cik not in (select cik from raw.companies)""").fetchall()[0]
    return (
        ["SEC facts stored:"]
        + [f"  {t:<6} {n:>7,} facts from {a:>4,} filings, last filed {last}" for t, n, a, last in rows if t]
        + ([f"  {others[1]:,} facts of {others[0]:,} filers off seeds/companies.csv (bulk mode)"] if others[0] else [])
    )


def status(settings: Settings) -> str:
    """Recent runs and stored prices, from the working database, or the analyst copy while a run
    holds it. A damaged working database is WarehouseBroken, saying to rebuild it: the analyst copy
    would show the last published run as if all were well."""
    for path, note in (
        (settings.paths.warehouse, ""),
        (settings.paths.analyst_copy, " (a run holds the working database; showing the analyst copy)"),
    ):
        if not path.exists():
            continue
        try:
            con = open_waiting(path, read_only=True, wait=0)
        except (WarehouseBusy, duckdb.IOException):
            continue
        try:
            runs = con.execute("""select run_id, flow, mode, status, coalesce(message, '')
                                  from meta.runs order by started_at desc limit 10""").fetchall()
            # The tickers and companies the last build was asked for, aged to the clock with all the data.
            built = settings.replace(**{k: v for k, v in built_parameters(con).items() if k != "as_of"})
            current = current_version(settings.paths.published)
            # A run that found nothing new publishes no version: the one readers see is named here.
            shown = f"Published: {current.name} ({settings.paths.current})" if current else "Published: nothing yet"
            lines = [f"Warehouse: {path}{note}", shown, *stale_lines(con, built), "Last runs:"]
            lines += [f"  {r[0]}  {r[1]:<13} {r[2]:<8} {r[3]:<9} {r[4]}" for r in runs] or ["  none yet"]
            return "\n".join(lines + ticker_lines(con) + filing_lines(con))
        except duckdb.IOException as exc:
            broken = damaged(path, exc)
            if broken is None:
                raise
            raise broken from None
        finally:
            con.close()
    raise PipelineError(
        f"the warehouse {settings.paths.warehouse} cannot be opened: a run holds it and no "
        "analyst copy is published yet; try again when the run ends"
    )


def locate(settings: Settings, sample: bool, explicit: bool) -> Settings:
    """The data to read: DATA_DIR/sample with --sample; DATA_DIR where it was chosen (flag or
    THESIS_DATA_DIR); otherwise whichever of DATA_DIR and DATA_DIR/sample a run wrote last."""
    sample_dir = settings.data_dir / "sample"
    candidates = [sample_dir] if sample else [settings.data_dir] if explicit else [settings.data_dir, sample_dir]
    found = [d for d in candidates if (d / "warehouse.duckdb").exists()]
    if not found and (sample_dir / "warehouse.duckdb").exists():
        raise PipelineError(f"no warehouse in {settings.data_dir}; the sample's is in {sample_dir}: pass --sample")
    if not found:
        raise PipelineError(
            f"no warehouse in {' or '.join(map(str, candidates))} yet: run `thesis run` "
            "(or `thesis run --sample`), or pass the --data-dir that a run used"
        )
    return settings.replace(data_dir=max(found, key=lambda d: (d / "warehouse.duckdb").stat().st_mtime))


def as_built(settings: Settings) -> Settings:
    """The settings with what the last finished build was asked for, so a report drawn later shows
    the marts as they were built."""
    with connect_read_only(settings.paths.warehouse) as con:
        return settings.replace(**built_parameters(con))


def built_parameters(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What the last finished build (succeeded or partial: both published) was asked for (tickers,
    benchmark, anchor, as-of); none before one."""
    row = con.execute(
        """select parameters from meta.runs
           where list_contains(?, status) and flow in ('daily', 'build') and parameters is not null
           order by started_at desc limit 1""",
        [list(FINISHED)],
    ).fetchone()
    return json.loads(row[0]) if row else {}
