"""Settings: one typed object, read from THESIS_* variables, with flags over it; nonsense refused."""

import datetime as dt
from pathlib import Path

import pytest

from pipeline.errors import SettingsError
from pipeline.settings import load_settings


def test_settings_from_the_environment(monkeypatch):
    for name, value in {
        "THESIS_DATA_DIR": "/srv/thesis",
        "THESIS_TICKERS": "nvda, amd",
        "THESIS_ANCHOR_DATE": "2025-09-01",
        "THESIS_TICKER_ALIASES": "SOX_index=^SOX",
        "THESIS_SEC_USER_AGENT": "Jane Analyst jane@example.com",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.data_dir == Path("/srv/thesis")
    assert settings.tickers == ("NVDA", "AMD") and settings.universe == ("NVDA", "AMD", "^SOX")
    assert settings.anchor_date == dt.date(2025, 9, 1)
    assert settings.ticker_aliases == {"SOX_index": "^SOX"}
    # A secret: not shown when the settings are printed or logged.
    assert settings.user_agent == "Jane Analyst jane@example.com"
    assert "jane@example.com" not in repr(settings) and "jane@example.com" not in settings.parameters()


def test_flags_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("THESIS_TICKERS", "AMD")
    assert load_settings(tickers="orcl").tickers == ("ORCL",)
    assert load_settings(tickers=["nvda", " orcl "]).tickers == ("NVDA", "ORCL")


def test_an_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("THESIS_TICKERS", "")
    assert load_settings().tickers == ("NVDA", "ORCL")


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("THESIS_ANCHOR_DATE", "Sept 1", "THESIS_ANCHOR_DATE='Sept 1' is not valid: expected a date as YYYY-MM-DD"),
        ("THESIS_ANCHOR_DATE", "soon", "THESIS_ANCHOR_DATE='soon' is not valid: expected a date as YYYY-MM-DD"),
        (
            "THESIS_LOOKBACK_DAYS",
            "-1",
            "THESIS_LOOKBACK_DAYS='-1' is not valid: Input should be greater than or equal to 0",
        ),
        (
            "THESIS_SEC_REQUESTS_PER_SECOND",
            "0",
            "THESIS_SEC_REQUESTS_PER_SECOND='0' is not valid: Input should be greater than 0",
        ),
        (
            "THESIS_SEC_TIMEOUT_SECONDS",
            "-1",
            "THESIS_SEC_TIMEOUT_SECONDS='-1' is not valid: Input should be greater than 0",
        ),
        (
            "THESIS_FETCH_TIMEOUT_SECONDS",
            "-5",
            "THESIS_FETCH_TIMEOUT_SECONDS='-5' is not valid: Input should be greater than 0",
        ),
        ("THESIS_TICKER_ALIASES", "SOX", "THESIS_TICKER_ALIASES='SOX' is not valid: expected NAME=TICKER pairs"),
    ],
)
def test_a_bad_variable_is_named_in_one_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as failure:
        load_settings()
    assert str(failure.value).startswith(message)
    assert "\n" not in str(failure.value)


def test_a_bad_flag_is_named_as_a_flag():
    with pytest.raises(SettingsError, match=r"^--anchor-date='2025-13-01' is not valid"):
        load_settings(anchor_date="2025-13-01")
