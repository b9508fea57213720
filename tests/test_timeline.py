"""marts.thesis_timeline: every claim scored point in time at each week's last session."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from pipeline.build.run import build


@pytest.fixture
def real(real_run):
    return real_run


def timeline(settings, claim_id):
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(
            "select week, as_of_date, status, value from marts.thesis_timeline where claim_id = ? order by week",
            [claim_id],
        ).fetchall()


def first_week_trailing_by_20_points(realdata) -> dt.date:
    """From the real closes: NVDA (auto-adjusted Close) against ^SOX (Adj Close) since the first
    session on or after 2025-08-01, at each week's last session; the Monday of the first week the
    excess is -20 percentage points or worse."""
    nvda = pd.read_csv(realdata / "prices" / "NVDA.download_autoadjust.csv", parse_dates=["Date"])
    sox = pd.read_csv(realdata / "prices" / "SOX_index.long_with_bom.csv", encoding="utf-8-sig", parse_dates=["Date"])
    both = nvda[["Date", "Close"]].merge(sox[["Date", "Adj Close"]], on="Date")
    both = both[both["Date"] >= "2025-08-01"].reset_index(drop=True)
    excess = 100 * (both["Close"] / both["Close"].iloc[0] - both["Adj Close"] / both["Adj Close"].iloc[0])
    weekly = pd.DataFrame({"week": both["Date"].dt.to_period("W-SUN").dt.start_time, "excess": excess})
    at_week_end = weekly.groupby("week")["excess"].last()
    return at_week_end[at_week_end <= -20].index[0].date()


def test_claim_one_has_a_status_for_every_week_and_turns_when_the_closes_say(real, realdata):
    settings, _ = real
    rows = timeline(settings, "nvda_vs_sox")
    weeks = [week for week, *_ in rows]
    # Every Monday from the week of the anchor (2025-07-28) to the end of February 2026.
    expected = pd.date_range("2025-07-28", "2026-02-23", freq="W-MON").date
    assert set(expected) <= set(weeks)
    assert all(status in ("supported", "not_supported") for week, _, status, _ in rows if week in set(expected))
    first = first_week_trailing_by_20_points(realdata)
    supported = [week for week, _, status, _ in rows if status == "supported"]
    assert supported[0] == first
    # Point in time: each week's value is the excess as of that week's last session.
    week_rows = {week: (as_of, value) for week, as_of, _, value in rows}
    assert week_rows[first][1] <= -20
    before = max(w for w in weeks if w < first)
    assert week_rows[before][1] > -20


def test_a_later_build_scores_only_what_is_new(real, tmp_path):
    import shutil

    settings, first = real
    assert first.build.timeline_rows == len(timeline(settings, "nvda_vs_sox")) * 8
    copy = settings.replace(data_dir=tmp_path / "var")
    shutil.copytree(settings.data_dir, copy.data_dir)
    again = build(copy)
    assert again.timeline_rows == 0  # nothing new: no week scored twice


def test_a_claim_is_never_scored_on_a_filing_made_later(real):
    """Claim 3 reads Oracle's latest quarter; the real payloads hold no Oracle filings, so it has no
    data in any week, and its evidence says so rather than reading a later filing."""
    settings, _ = real
    rows = timeline(settings, "orcl_debt_to_equity")
    assert rows and {status for _, _, status, _ in rows} == {"insufficient_data"}


@pytest.mark.slow  # two builds
def test_scoring_as_of_a_date_reads_only_what_was_filed_by_then(sample_run, tmp_path):
    """The issue's case: as of 2025-09-01, claim 3 must not read the Oracle-like quarter ending
    2025-08-31, whose 10-Q was filed on 2025-09-10; it reads the year ending 2025-05-31, whose 10-K
    was filed on 2025-06-20 (sample/generate_sec.py)."""
    import shutil

    settings, _ = sample_run
    copy = settings.replace(data_dir=tmp_path / "var")
    shutil.copytree(settings.data_dir, copy.data_dir)
    result = build(copy.replace(as_of=dt.date(2025, 9, 1)))
    claim = next(s for s in result.scores if s.claim_id == "orcl_debt_to_equity")
    assert claim.as_of == dt.date(2025, 5, 31)
    assert "2025-08-31" not in claim.evidence
    unfiltered = next(s for s in build(copy).scores if s.claim_id == "orcl_debt_to_equity")
    assert unfiltered.as_of > dt.date(2025, 5, 31)


def sample_week(settings, week):
    """claim_id -> (as_of_date, status, value, evidence) of one week of the timeline."""
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select claim_id, as_of_date, status, value, evidence from marts.thesis_timeline where week = ?", [week]
        ).fetchall()
    return {claim: tuple(rest) for claim, *rest in rows}


def test_each_week_reads_the_filings_known_at_its_last_session(sample_run):
    """From sample/generate_sec.py: the Oracle-like 10-K of 2025-06-20 (year ending 2025-05-31) is
    the latest filing in the week of 2025-09-01 (last session 2025-09-05): debt 6,500 + 83,000
    over equity 18,000, RPO 160,000 (millions). The 10-Q of 2025-09-10 (quarter ending 2025-08-31)
    is known in the next week: debt 7,000 + 88,000 over equity 20,000, RPO 250,000."""
    settings, _ = sample_run
    before, after = sample_week(settings, dt.date(2025, 9, 1)), sample_week(settings, dt.date(2025, 9, 8))
    assert before["orcl_debt_to_equity"][:3] == (dt.date(2025, 9, 5), "supported", pytest.approx(89_500 / 18_000))
    assert "ending 2025-05-31" in before["orcl_debt_to_equity"][3]
    assert before["orcl_rpo_above_500b"][1:3] == ("not_supported", pytest.approx(160))
    assert after["orcl_debt_to_equity"][:3] == (dt.date(2025, 9, 12), "supported", pytest.approx(95_000 / 20_000))
    assert "ending 2025-08-31" in after["orcl_debt_to_equity"][3]
    assert after["orcl_rpo_above_500b"][1:3] == ("not_supported", pytest.approx(250))


@pytest.mark.slow
def test_a_week_scores_as_a_build_as_of_its_last_session_does(sample_run, tmp_path):
    """The old per-week way, through the whole build: the sample built as of a week's last session
    scores every claim with the same value, date and evidence as the timeline's week (the status
    may differ by staleness alone: the timeline ages prices by the week, the build by sessions).
    The weeks: one that learns of a 10-Q (2025-09-10) and the one after."""
    import shutil

    settings, _ = sample_run
    copy = settings.replace(data_dir=tmp_path / "var")
    shutil.copytree(settings.data_dir, copy.data_dir)
    for week, last in [(dt.date(2025, 9, 8), dt.date(2025, 9, 12)), (dt.date(2025, 9, 15), dt.date(2025, 9, 19))]:
        timeline_week = sample_week(settings, week)
        scores = build(copy.replace(as_of=last)).scores
        assert len(scores) == len(timeline_week) == 8
        for score in scores:
            as_of_date, status, value, evidence = timeline_week[score.claim_id]
            assert as_of_date == last
            assert value == score.value
            assert evidence.split("; stale:")[0] == score.evidence.split("; stale:")[0]
            if "stale" not in (status, score.status):
                assert status == score.status
