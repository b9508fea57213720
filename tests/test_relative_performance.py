"""marts.relative_performance on small fixtures whose values are worked out by hand."""

import datetime as dt
import math

import pandas as pd
import pytest

from pipeline.runtime.settings import Settings
from transforms import runner
from warehouse.connection import connect
from warehouse.load import upsert

# 25 sessions from Monday 2025-07-28. The anchor setting is a Saturday, so the anchor session is
# the Monday after, 2025-08-04, index 5.
SESSIONS = pd.bdate_range("2025-07-28", periods=25).date
AAA = [
    100,
    102,
    101,
    105,
    110,
    120,
    118,
    115,
    125,
    130,
    126,
    124,
    122,
    128,
    132,
    135,
    131,
    129,
    133,
    136,
    140,
    138,
    137,
    139,
    142,
]
IDX = [1000 + 10 * i for i in range(25)]


def bars(ticker, closes, sessions):
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": list(sessions),
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "adj_close": closes,
            "volume": 0,
            "close_is_adjusted": False,
            "payload_sha256": "fixture",
            "run_id": "fixture",
            "loaded_at": pd.Timestamp("2026-01-01", tz="UTC"),
        }
    )


def build_mart(tmp_path, frames, settings):
    with connect(tmp_path / "w.duckdb") as con:
        for frame in frames:
            upsert(con, "raw.prices", frame)
        runner.build(con, settings.variables())
        mart = con.sql("select * from marts.relative_performance order by ticker, date").df()
    return mart.assign(date=mart["date"].dt.date).set_index("date")


@pytest.fixture
def mart(tmp_path):
    settings = Settings(tickers=("AAA",), benchmark="IDX", anchor_date=dt.date(2025, 8, 2))
    return build_mart(tmp_path, [bars("AAA", AAA, SESSIONS), bars("IDX", IDX, SESSIONS)], settings)


def row(mart, index):
    return mart.loc[SESSIONS[index]]


def test_rebased_to_100_at_the_first_session_on_or_after_the_anchor(mart):
    assert row(mart, 5)["rebased"] == 100 and row(mart, 5)["benchmark_rebased"] == 100
    assert row(mart, 0)["rebased"] == pytest.approx(100 / 120 * 100)  # 83.33
    assert row(mart, 24)["rebased"] == pytest.approx(142 / 120 * 100)  # 118.33
    assert row(mart, 24)["benchmark_rebased"] == pytest.approx(1240 / 1050 * 100)  # 118.10


def test_relative_strength_and_excess_return(mart):
    # (142 / 120) / (1240 / 1050) x 100 = 149100 / 148800 x 100
    assert row(mart, 24)["relative_strength"] == pytest.approx(100.2016129, abs=1e-7)
    # 1.183333 - 1.180952
    assert row(mart, 24)["excess_return_since_anchor"] == pytest.approx(0.0023810, abs=1e-7)


def test_21_session_return_is_null_until_21_sessions_back_exist(mart):
    assert pd.isna(row(mart, 20)["return_21d"])
    assert row(mart, 21)["return_21d"] == pytest.approx(138 / 100 - 1)  # 0.38
    assert row(mart, 24)["return_21d"] == pytest.approx(142 / 105 - 1)  # 0.352381
    assert mart["return_63d"].isna().all()


def test_drawdown_from_the_running_peak(mart):
    assert row(mart, 5)["drawdown"] == 0  # a new high, 120
    assert row(mart, 7)["drawdown"] == pytest.approx(115 / 120 - 1)  # -0.041667
    assert row(mart, 12)["drawdown"] == pytest.approx(122 / 130 - 1)  # -0.061538, peak at index 9
    assert (mart["drawdown"] <= 0).all()


def test_beta_and_correlation_over_60_sessions(tmp_path):
    # Benchmark daily returns alternate +1%, -1%; the ticker's are 1.5 x those plus +0.5%, +0.5%,
    # -0.5%, -0.5% repeating, which is uncorrelated with the benchmark over any 60 sessions. So
    # beta = 1.5 and corr = 1.5e-4 / sqrt(2.5e-4 x 1e-4) = 1.5 / sqrt(2.5).
    sessions = pd.bdate_range("2025-01-02", periods=62).date
    bench_returns = [0.01 if t % 2 else -0.01 for t in range(1, 62)]
    noise = [0.005 if t % 4 in (1, 2) else -0.005 for t in range(1, 62)]
    idx, aaa = [1000.0], [50.0]
    for b, e in zip(bench_returns, noise, strict=True):
        idx.append(idx[-1] * (1 + b))
        aaa.append(aaa[-1] * (1 + 1.5 * b + e))
    settings = Settings(tickers=("AAA",), benchmark="IDX", anchor_date=dt.date(2025, 1, 2))
    mart = build_mart(tmp_path, [bars("AAA", aaa, sessions), bars("IDX", idx, sessions)], settings)
    assert pd.isna(mart.loc[sessions[59], "beta_60d"])  # 59 returns so far
    assert mart.loc[sessions[60], "beta_60d"] == pytest.approx(1.5)
    assert mart.loc[sessions[61], "beta_60d"] == pytest.approx(1.5)
    assert mart.loc[sessions[61], "corr_60d"] == pytest.approx(1.5 / math.sqrt(2.5))


def test_only_sessions_both_traded_and_only_configured_tickers(tmp_path):
    settings = Settings(tickers=("AAA",), benchmark="IDX", anchor_date=dt.date(2025, 7, 28))
    mart = build_mart(
        tmp_path,
        [bars("AAA", AAA, SESSIONS), bars("IDX", IDX[:-1], SESSIONS[:-1]), bars("ZZZ", AAA, SESSIONS)],
        settings,
    )
    assert set(mart["ticker"]) == {"AAA"}
    assert mart.index.max() == SESSIONS[-2]
