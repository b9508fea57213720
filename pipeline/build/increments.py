"""What changed since the last build, so a build derives only the rows new data reach.

A build records when it read the raw tables and a fingerprint of what it was built from (the
settings the SQL reads, the SQL models, the seeds) in meta.builds. The next build with the same
fingerprint derives again only:
- for each ticker with a bar loaded since then, its rows (and those of every ticker measured
  against it) from that bar's date on;
- for each company with a fact or filing loaded since then, its quarters.

Anything else (the first build, `--full`, other settings, a changed model or seed, an as-of
build) rebuilds every mart; both give the same tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb

from pipeline.runtime.settings import Settings
from transforms.runner import ROOT as MODELS


@dataclass(frozen=True)
class ChangeSet:
    """None where the build rebuilds everything."""

    since: dt.datetime | None
    tickers: int
    ciks: int

    @property
    def full(self) -> bool:
        return self.since is None

    def describe(self) -> str:
        if self.full:
            return f"full build: every mart derived from scratch ({self.tickers} tickers, {self.ciks} companies)"
        return (
            f"incremental build: rows derived again for {self.tickers} ticker(s) and {self.ciks} company(ies) "
            f"with data loaded since {self.since:%Y-%m-%d %H:%M:%S} UTC"
        )


def fingerprint(settings: Settings) -> str:
    """sha256 of what every mart (and the scorecard) is derived from, besides the raw tables."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings.variables(), default=str, sort_keys=True).encode())
    files = [*sorted(MODELS.rglob("*.sql")), *sorted(MODELS.rglob("*.yml"))]
    # The claims too: what is scored from the marts, so a changed claim is not "nothing new".
    files += [settings.companies_csv, settings.concept_map_csv, settings.guidance_ledger, settings.claims]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def change_set(con: duckdb.DuckDBPyConnection, settings: Settings, print_: str) -> ChangeSet:
    """The rows loaded since the last build with the same fingerprint `print_`, set as the
    variables `changed` (ticker -> first changed date) and `changed_ciks` that the incremental
    models read; a full change set (both NULL) where a full build is due."""
    last = con.execute("select built_at, fingerprint from meta.builds order by built_at desc limit 1").fetchall()
    if settings.full_build or settings.as_of is not None or not last or last[0][1] != print_:
        con.execute("set variable changed = null")
        con.execute("set variable changed_ciks = null")
        [[companies]] = con.execute("select count(*) from raw.companies").fetchall()
        return ChangeSet(None, len(settings.universe), companies)
    since = last[0][0]
    con.execute(
        "set variable changed = (select map(coalesce(list(ticker), []), coalesce(list(since), [])) from "
        "(select ticker, min(date) as since from raw.prices where loaded_at > $since group by ticker))",
        {"since": since},
    )
    con.execute(
        "set variable changed_ciks = (select coalesce(list(distinct cik), []) from (select cik from raw.xbrl_facts "
        "where loaded_at > $since union all select cik from raw.filings where loaded_at > $since))",
        {"since": since},
    )
    [[tickers, ciks]] = con.execute(
        "select cardinality(getvariable('changed')), len(getvariable('changed_ciks'))"
    ).fetchall()
    return ChangeSet(since, tickers or 0, ciks or 0)


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    built_at: dt.datetime,
    print_: str,
    changes: ChangeSet,
    stands_until: dt.datetime | None,
) -> None:
    con.execute(
        "insert or replace into meta.builds (run_id, built_at, fingerprint, full_build, changed_tickers, "
        "changed_ciks, stands_until) values (?, ?, ?, ?, ?, ?, ?)",
        [run_id, built_at, print_, changes.full, changes.tickers, changes.ciks, stands_until],
    )
