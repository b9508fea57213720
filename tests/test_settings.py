"""Settings: one typed object, read from THESIS_* variables, with flags over it; nonsense refused."""

import datetime as dt
from pathlib import Path

import pytest

from pipeline.runtime.errors import SettingsError
from pipeline.runtime.settings import load_settings


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


@pytest.mark.parametrize(
    "variable, value, message",
    [
        # A Cyrillic capital O (U+041E) in front of RCL: it looks like ORCL and matches no price.
        ("THESIS_TICKERS", "NVDA,\u041eRCL", "ticker '\u041eRCL' holds non-ASCII characters: '\u041e' (U+041E)"),
        # upper() would turn the long s (U+017F) into an ASCII S: refused before that.
        ("THESIS_BENCHMARK", "^\u017fOX", "ticker '^\u017fOX' holds non-ASCII characters: '\u017f' (U+017F)"),
        ("THESIS_TICKERS", "NVDA,ORCL'); drop table raw.prices; --", 'ticker "ORCL\'); drop table raw.prices; --"'),
        ("THESIS_BENCHMARK", "SO^X", "ticker 'SO^X' is not a Yahoo symbol"),
        ("THESIS_HYPERSCALERS", "MSFT,GOOGL AMZN", "ticker 'GOOGL AMZN' is not a Yahoo symbol"),
        ("THESIS_TICKERS", "ABCDEFGHIJKLMNOP", "ticker 'ABCDEFGHIJKLMNOP' is not a Yahoo symbol"),
        ("THESIS_TICKER_ALIASES", "SOX=^SOX;", "ticker '^SOX;' is not a Yahoo symbol"),
        ("THESIS_LOCK_WAIT_SECONDS", "-1", "Input should be greater than or equal to 0"),
        ("THESIS_FETCH_TIMEOUT_SECONDS", "inf", "Input should be less than or equal to 3600"),
        ("THESIS_SEC_MAX_WAIT_SECONDS", "1e9", "Input should be less than or equal to 86400"),
        ("THESIS_RETRY_BACKOFF_SECONDS", "nan", "THESIS_RETRY_BACKOFF_SECONDS='nan' is not valid"),
    ],
)
def test_a_ticker_that_is_no_symbol_or_a_duration_out_of_range_is_refused(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as failure:
        load_settings()
    assert str(failure.value).startswith(f"{variable}=")
    assert message in str(failure.value) and "\n" not in str(failure.value)


@pytest.mark.parametrize("symbol", ["NVDA", "^SOX", "BRK-B", "BRK.B", "0700.HK", "EURUSD=X", "GC=F", "^GSPC"])
def test_yahoo_symbols_pass_in_any_case(symbol):
    # QQQ beside it: a benchmark that is also a measured ticker is refused.
    assert load_settings(tickers=[symbol.lower()], benchmark="QQQ").tickers == (symbol,)
    assert load_settings(tickers=["QQQ"], benchmark=f" {symbol.lower()} ").benchmark == symbol


def test_a_tickers_file_names_each_ticker_and_its_benchmark(tmp_path):
    screen = tmp_path / "screen.csv"
    screen.write_text(
        "\ufeffTicker,Benchmark\nnvda,^SOX\nAMD, ^SOX\nORCL,^IXIC\n\nMSFT,\nNVDA,^SOX\n", encoding="utf-8"
    )
    settings = load_settings(tickers_file=str(screen), benchmark="^GSPC")
    assert settings.tickers == ("NVDA", "AMD", "ORCL", "MSFT")
    assert [settings.benchmark_of(t) for t in settings.tickers] == ["^SOX", "^SOX", "^IXIC", "^GSPC"]
    assert settings.universe == ("NVDA", "AMD", "ORCL", "MSFT", "^GSPC", "^SOX", "^IXIC")
    assert settings.benchmarks == ("^SOX", "^IXIC", "^GSPC")

    plain = tmp_path / "plain.txt"
    plain.write_text("NVDA\nAMD\n")
    assert load_settings(tickers_file=str(plain)).tickers == ("NVDA", "AMD")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ticker,benchmark\nNVDA,^SOX\nNV DA,^SOX\n", "line 3: "),
        ("ticker,benchmark\nNVDA,^SOX\nNVDA,^IXIC\n", "line 3: NVDA is listed again with another benchmark"),
        ("ticker,benchmark\n", "names no tickers"),
    ],
)
def test_a_bad_tickers_file_is_refused_naming_its_line(tmp_path, text, reason):
    screen = tmp_path / "screen.csv"
    screen.write_text(text)
    with pytest.raises(SettingsError) as refused:
        load_settings(tickers_file=str(screen))
    assert "--tickers-file" in str(refused.value) and reason in str(refused.value)
