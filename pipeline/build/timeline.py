"""The thesis over time: every claim scored point in time at each week's last session.

Each week from the anchor date to the latest data is scored as a build as of that week's last
session would score it: the marts that read filings or guidance are rebuilt as of that date
(inside a transaction that is rolled back, so the build's own marts stay as they were), and the
claims see no price, filing or statement dated later. A claim whose prices end before the week
starts, or whose filed figures are older than the filings' error bound at its last session, is
`stale` that week (pipeline/build/freshness.py). A week is rebuilt only when something became known
since the week before. Rows are kept across builds: a build scores the weeks it has not scored,
the week in progress again, and every week of a claim whose definition changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import duckdb
import pandas as pd

from pipeline.build import freshness, scorecard
from pipeline.build.query_limits import Limits, build_models
from pipeline.runtime.settings import ALL_DATA, Settings
from transforms import runner
from warehouse.load import upsert

# Sources whose rows become known on a date other than their own: SEC facts when filed, guidance
# when stated. Marts built from them differ from one as-of date to the next.
VERSIONED = {"raw.xbrl_facts", "raw.capex_guidance", "raw.companies", "raw.concept_map"}


def claim_hash(claim: scorecard.Claim, settings: Settings) -> str:
    """The claim as scored: its definition, and the bound that makes its filed figures stale."""
    bound = settings.filing_error_after_days
    definition = [claim.statement, claim.metric, claim.comparator, list(claim.threshold), bound]
    return hashlib.sha256(json.dumps(definition).encode()).hexdigest()[:16]


def weeks(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[tuple[dt.date, dt.date]]:
    """(week's Monday, its last session so far) from the anchor date to the latest price."""
    return con.execute(
        """select cast(date_trunc('week', date) as date) as week, max(date) as last_session
           from raw.prices where date >= ? and date <= ?
           group by week order by week""",
        [settings.anchor_date, settings.as_of or ALL_DATA],
    ).fetchall()


def knowledge_dates(con: duckdb.DuckDBPyConnection) -> list[tuple[dt.date, str]]:
    """(date, source) for every date on which something the marts read became known: a filing
    with a fact of a concept in the concept map, or a guidance statement."""
    return con.execute("""
        select distinct facts.filed, 'raw.xbrl_facts'
        from raw.xbrl_facts as facts
        semi join raw.concept_map as map on map.taxonomy = facts.taxonomy and map.concept = facts.concept
        union
        select distinct statement_date, 'raw.capex_guidance' from raw.capex_guidance
        order by 1""").fetchall()


def update(con: duckdb.DuckDBPyConnection, settings: Settings, claims: Sequence[scorecard.Claim], run_id: str) -> int:
    """Score what marts.thesis_timeline lacks; returns the rows written."""
    hashes = {claim.id: claim_hash(claim, settings) for claim in claims}
    scored = {
        (claim_id, week): (as_of_date, digest)
        for claim_id, week, as_of_date, digest in con.execute(
            "select claim_id, week, as_of_date, claim_hash from marts.thesis_timeline"
        ).fetchall()
    }
    todo = [
        (week, last)
        for week, last in weeks(con, settings)
        if any(scored.get((c.id, week)) != (last, hashes[c.id]) for c in claims)
    ]
    if not todo:
        return 0
    known = knowledge_dates(con)
    rows = []
    con.execute("begin transaction")
    try:
        built_as_of: dt.date | None = None
        for week, last in todo:
            # Only the tables reading what became known since the last rebuild are rebuilt.
            changed = VERSIONED if built_as_of is None else {s for day, s in known if built_as_of < day <= last}
            if changed:
                variables = settings.replace(as_of=last).variables()
                build_models(con, settings, variables, only=runner.tables_depending_on(changed))
                built_as_of = last
            for score in scorecard.evaluate(
                con, claims, last, freshness.week_bounds(settings, week, last), Limits.of(settings)
            ):
                if scored.get((score.claim_id, week)) != (last, hashes[score.claim_id]):
                    rows.append(
                        {
                            "claim_id": score.claim_id,
                            "week": week,
                            "as_of_date": last,
                            "status": score.status,
                            "value": score.value,
                            "threshold": score.threshold,
                            "evidence": score.evidence,
                            "claim_hash": hashes[score.claim_id],
                            "run_id": run_id,
                        }
                    )
    finally:
        con.execute("rollback")  # the marts go back to the build's own as-of date
    upsert(con, "marts.thesis_timeline", pd.DataFrame(rows))
    return len(rows)
