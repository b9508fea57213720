"""The raw-prices suite on small batches, without the rest of the pipeline."""

import datetime as dt
import json

import pandas as pd

from expectations import raw_prices
from expectations.validate import run_suite


def batch(closes, splits=None, ticker="AAA"):
    days = pd.bdate_range("2025-03-03", periods=len(closes)).date
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": days,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "adj_close": closes,
            "volume": 10.0,
            "dividend": 0.0,
            "split_ratio": splits or [0.0] * len(closes),
        }
    )


def validate(frame, previous=None):
    previous = previous if previous is not None else pd.DataFrame({"ticker": [], "close": []})
    return run_suite(raw_prices.suite, raw_prices.prepare(frame, previous), raw_prices.ID_COLUMNS)


def test_a_clean_batch_passes():
    outcome = validate(batch([100, 101, 99, 120]))  # +21% at most
    assert outcome.success and outcome.failed == 0


def test_a_move_beyond_40_percent_without_a_split_fails():
    outcome = validate(batch([100, 101, 50.0, 52]))  # -50.5% on 2025-03-05
    assert not outcome.success
    assert outcome.summary == "close-to-close move within ±40% unless a split failed on 1 row: AAA 2025-03-05"


def test_the_same_move_on_a_split_day_passes():
    assert validate(batch([100, 101, 50.5, 52], splits=[0, 0, 2.0, 0])).success


def test_the_first_bar_is_compared_with_the_last_stored_close():
    stored = pd.DataFrame({"ticker": ["AAA"], "close": [300.0]})
    outcome = validate(batch([100, 101]), previous=stored)  # -66.7% against what is loaded
    assert outcome.summary.endswith("failed on 1 row: AAA 2025-03-03")


def test_nulls_and_non_positive_prices_are_named():
    frame = batch([100, 101, 102])
    frame.loc[1, "volume"] = None
    frame.loc[2, "adj_close"] = 0
    outcome = validate(frame)
    assert "volume is not null failed on 1 row: AAA 2025-03-04" in outcome.summary
    assert "adj_close > 0 failed on 1 row: AAA 2025-03-05" in outcome.summary
    assert dt.date(2025, 3, 5).isoformat() in json.dumps(outcome.report, default=str)
