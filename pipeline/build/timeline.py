"""The thesis over time: every claim scored point in time at each week's last session.

Each week from the anchor date to the latest data is scored as a build as of that week's last
session would score it: the marts that read filings or guidance, and that a claim reads, are
rebuilt as of that date (inside a transaction that is rolled back, so the build's own marts stay
as they were), and the claims see no price, filing or statement dated later. A claim whose prices
end before the week starts, or whose filed figures are older than the filings' error bound at its
last session, is `stale` that week (pipeline/build/freshness.py).

The weeks are scored in runs that know the same filings and guidance: the marts are rebuilt once
per run, only when something became known since the run before, and each claim's metric runs
once per run, for all its weeks at once (scorecard.score_weeks); a claim that reads no filing or
guidance runs once for all the weeks. Rows are kept across builds: a build scores the weeks it has
not scored, the week in progress again, and every week of a claim whose definition changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import duckdb
import pandas as pd

from pipeline.build import freshness, scorecard
from pipeline.build.query_limits import Limits, build_models, memory_limited
from pipeline.runtime.settings import ALL_DATA, Settings
from transforms import runner
from warehouse.load import upsert

# Sources whose rows become known on a date other than their own: SEC facts when filed, guidance
# when stated. Marts built from them differ from one as-of date to the next.
VERSIONED = frozenset({"raw.xbrl_facts", "raw.capex_guidance", "raw.companies", "raw.concept_map"})
Week = tuple[dt.date, dt.date]  # (its Monday, its last session)
Group = tuple[frozenset[str], dt.date, list[Week]]  # see knowing_alike


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
    bounds = {week: freshness.week_bounds(settings, week, last) for week, last in todo}
    limits = Limits.of(settings)
    # A claim reading nothing versioned scores alike whatever the rebuilt marts hold: all its
    # weeks in one query; the others once per group of weeks that know the same filings.
    steady = [c for c in claims if not scorecard.reads(c.metric) & VERSIONED]
    versioned = [c for c in claims if c not in steady]
    read = set().union(*(scorecard.reads(c.metric) for c in versioned))  # no other table is rebuilt
    depending: dict[frozenset[str], set[str]] = {}
    scores: list[tuple[dt.date, dt.date, scorecard.Score]] = []
    groups = knowing_alike(todo, knowledge_dates(con)) if versioned else []
    con.execute("begin transaction")
    try:
        for changed, as_of, group in groups:
            if changed not in depending:
                depending[changed] = runner.tables_depending_on(set(changed)) & read
            variables = settings.replace(as_of=as_of).variables()
            build_models(con, settings, variables, only=depending[changed], comments=False)
            scores += score_group(con, versioned, group, bounds, limits)
        scores += score_group(con, steady, todo, bounds, limits)
    finally:
        con.execute("rollback")  # the marts go back to the build's own as-of date
    order = {claim.id: position for position, claim in enumerate(claims)}
    rows = [
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
        for week, last, score in sorted(scores, key=lambda r: (r[0], order[r[2].claim_id]))
        if scored.get((score.claim_id, week)) != (last, hashes[score.claim_id])
    ]
    upsert(con, "marts.thesis_timeline", pd.DataFrame(rows))
    return len(rows)


def knowing_alike(todo: list[Week], known: list[tuple[dt.date, str]]) -> list[Group]:
    """The weeks of `todo` in runs that know the same filings and guidance at their last session:
    (the sources that became known since the run before, all of them for the first; the first
    week's last session, as of which the run's marts are built; its weeks)."""
    groups: list[Group] = []
    for week, last in todo:
        changed = VERSIONED if not groups else frozenset(s for day, s in known if groups[-1][1] < day <= last)
        if changed:
            groups.append((changed, last, []))
        groups[-1][2].append((week, last))
    return groups


def score_group(
    con: duckdb.DuckDBPyConnection,
    claims: Sequence[scorecard.Claim],
    group: list[Week],
    bounds: dict[dt.date, dict[str, freshness.Bound]],
    limits: Limits,
) -> list[tuple[dt.date, dt.date, scorecard.Score]]:
    """(week, last session, score) of each claim at each week of `group`. The views see the
    group's last session: what each of its weeks knew of filings and guidance (nothing became
    known in between), and prices the metrics cut at each week's own session."""
    if not claims:
        return []
    con.execute("set variable as_of = ?", [group[-1][1]])
    present = scorecard.present_relations(con)
    with memory_limited(con, limits):
        by_claim = [scorecard.score_weeks(con, claim, group, present, bounds, limits) for claim in claims]
    return [(week, last, scores[week]) for week, last in group for scores in by_claim]
