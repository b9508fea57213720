"""Every price layout the pipeline accepts, read into the same canonical rows."""

import datetime as dt
import re
import shutil

import pytest

from pipeline.payloads.price_files import TickerNames, events, read_price_payload
from pipeline.payloads.raw_zone import PayloadFile, meta_path, read_payload
from pipeline.runtime.errors import PayloadError
from pipeline.runtime.settings import SAMPLE_DIR
from tests.conftest import FIXTURES

NAMES = TickerNames({"SOX_index": "^SOX"}, ("NVDA", "ORCL", "^SOX"))


def read(path, ticker=None):
    """Read as `import-prices` does: `ticker` is --ticker."""
    payload = read_payload(path)
    if ticker:
        payload = PayloadFile(payload.path, payload.sha256, {"source": "import", "ticker": ticker})
    return read_price_payload(payload, path.read_bytes(), NAMES)


def test_download_layout_is_auto_adjusted(realdata):
    nvda = read(realdata / "prices" / "NVDA.download_autoadjust.csv")
    assert len(nvda) == 251
    assert set(nvda["ticker"]) == {"NVDA"}
    row = nvda.set_index("date").loc[dt.date(2025, 8, 1)]
    assert row["adj_close"] == pytest.approx(173.4889373779297)
    assert row["close"] == row["adj_close"] and row["close_is_adjusted"]


def test_long_layout_with_byte_order_mark(realdata):
    sox = read(realdata / "prices" / "SOX_index.long_with_bom.csv")
    assert len(sox) == 1299
    assert set(sox["ticker"]) == {"^SOX"}  # from the Ticker column
    assert sox["date"].min() == dt.date(2021, 1, 4) and sox["date"].max() == dt.date(2026, 3, 6)
    assert not sox["close_is_adjusted"].any()


def test_multiindex_header_layout(realdata):
    sox = read(realdata / "prices" / "SOX_index.multiindex_header.csv")
    assert len(sox) == 125
    assert set(sox["ticker"]) == {"^SOX"}
    first = sox.iloc[0]
    assert first["date"] == dt.date(2025, 9, 8)
    assert (first["open"], first["high"], first["low"], first["close"]) == pytest.approx(
        (5804.02978515625, 5835.77001953125, 5786.33984375, 5809.60986328125)
    )


def test_both_sox_files_agree_where_they_overlap(realdata):
    long = read(realdata / "prices" / "SOX_index.long_with_bom.csv").set_index("date")
    wide = read(realdata / "prices" / "SOX_index.multiindex_header.csv").set_index("date")
    shared = long.index.intersection(wide.index)
    assert len(shared) == 125
    columns = ["open", "high", "low", "close", "volume"]
    assert (long.loc[shared, columns] == wide.loc[shared, columns]).all().all()


def test_classic_layout_keeps_close_and_adj_close():
    aapl = read(FIXTURES / "AAPL.classic.csv")
    assert list(aapl["ticker"].unique()) == ["AAPL"]  # from the file name
    first = aapl.iloc[0]
    assert (first["close"], first["adj_close"]) == (194.03, 193.12)
    assert not first["close_is_adjusted"]


def test_history_layout_has_dividends_and_splits():
    nvda = read(FIXTURES / "NVDA.history.csv")
    assert nvda["date"].tolist()[:3] == [dt.date(2024, 6, 6), dt.date(2024, 6, 7), dt.date(2024, 6, 10)]
    found = events(nvda)
    assert sorted(zip(found["date"], found["event"], found["value"], strict=True)) == [
        (dt.date(2024, 6, 10), "split", 10.0),
        (dt.date(2024, 6, 12), "dividend", 0.01),
    ]


def test_ticker_given_by_hand_when_the_file_does_not_say(tmp_path):
    plain = tmp_path / "export.csv"
    shutil.copy(FIXTURES / "AAPL.classic.csv", plain)
    assert set(read(plain, ticker="MSFT")["ticker"]) == {"MSFT"}


@pytest.mark.parametrize(
    "content, fault",
    [
        (b"", "empty file"),
        (b"Date,Open,High,Low\n2025-01-02,1,2,0.5\n", "no close, volume column"),
        (b"Date,Open,High,Low,Close,Volume\n", "no rows"),
        (
            b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,2,0.5,abc,100\n",
            "column 'close' on 2025-01-02 is not a number \\('abc'\\)",
        ),
        (b"Date,Open,High,Low,Close,Volume\n02/01/2025,1,2,0.5,1.5,100\n", "a Date is not a date: '02/01/2025'"),
        # The exact date, not its first ten characters; a day that exists; a date at all.
        (b"Date,Open,High,Low,Close,Volume\n2025-07-2499,1,2,0.5,1.5,100\n", "a Date is not a date: '2025-07-2499'"),
        (b"Date,Open,High,Low,Close,Volume\n2025-02-30,1,2,0.5,1.5,100\n", "a Date is not a date: '2025-02-30'"),
        (
            b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,2,0.5,1.5,100\n,1,2,0.5,1.5,100\n",
            "a Date is not a date: empty \\(row 2\\)",
        ),
        # Mixed formats: the second row is the one named.
        (
            b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,2,0.5,1.5,100\n01/03/2025,1,2,0.5,1.5,100\n",
            "a Date is not a date: '01/03/2025' \\(row 2\\)",
        ),
        # A number too large for a float is infinity: refused, as is infinity spelled out.
        (
            b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,1e999,0.5,1.5,100\n",
            "column 'high' on 2025-01-02 is not a finite number \\('1e999'\\)",
        ),
        (
            b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,2,-inf,1.5,100\n",
            "column 'low' on 2025-01-02 is not a finite",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_fault(tmp_path, content, fault):
    path = tmp_path / "NVDA.csv"
    path.write_bytes(content)
    with pytest.raises(PayloadError, match=f"^NVDA.csv: {fault}"):
        read(path)


def test_half_written_parquet_is_named(tmp_path):
    source = next((FIXTURES.parent.parent / "sample" / "prices").glob("NVDA.*.parquet"))
    truncated = tmp_path / "NVDA.truncated.parquet"
    truncated.write_bytes(source.read_bytes()[:5000])
    with pytest.raises(PayloadError, match=r"^NVDA\.truncated\.parquet: unreadable"):
        read(truncated)


def test_yfinance_stamps_with_offsets_are_their_local_day(tmp_path):
    # As `Ticker.history().to_csv()` writes them: local midnight, -05:00 in winter, -04:00 in summer.
    path = tmp_path / "NVDA.history.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "2025-01-02 00:00:00-05:00,1,2,0.5,1.5,100\n"
        "2025-07-01 00:00:00-04:00,1,2,0.5,1.5,100\n"
        "2025-07-02T00:00:00Z,1,2,0.5,1.5,100\n"
    )
    assert read(path)["date"].tolist() == [dt.date(2025, 1, 2), dt.date(2025, 7, 1), dt.date(2025, 7, 2)]


def long_csv(path, ticker):
    path.write_text(f"Date,Ticker,Adj Close,Close,High,Low,Open,Volume\n2025-01-02,{ticker},1.5,1.5,2,0.5,1,100\n")
    return path


@pytest.mark.parametrize(
    "name, ticker, given, fault",
    [
        ("NVDA.long.csv", "ORCL", None, "NVDA.long.csv: its Ticker column says ORCL but its name says NVDA"),
        # An alias names its ticker: SOX_index is ^SOX.
        ("SOX_index.long.csv", "NVDA", None, "SOX_index.long.csv: its Ticker column says NVDA but its name says ^SOX"),
        # A configured ticker in small letters is still that ticker.
        ("orcl.csv", "NVDA", None, "orcl.csv: its Ticker column says NVDA but its name says ORCL"),
        # A symbol in capitals names a ticker even when it is not configured.
        ("AAPL.csv", "NVDA", None, "AAPL.csv: its Ticker column says NVDA but its name says AAPL"),
        ("export.csv", "ORCL", "NVDA", "export.csv: its Ticker column says ORCL but --ticker says NVDA"),
    ],
)
def test_contents_name_and_ticker_must_agree(tmp_path, name, ticker, given, fault):
    with pytest.raises(PayloadError, match=f"^{re.escape(fault)}$"):
        read(long_csv(tmp_path / name, ticker), given)


def test_a_name_that_is_no_ticker_cannot_disagree(tmp_path):
    for name in ("export.csv", "prices_2025.csv", "data.long.csv"):
        assert set(read(long_csv(tmp_path / name, "ORCL"))["ticker"]) == {"ORCL"}


def test_the_name_and_ticker_given_must_agree(tmp_path):
    path = tmp_path / "NVDA.csv"
    shutil.copy(FIXTURES / "AAPL.classic.csv", path)
    with pytest.raises(PayloadError, match=r"^NVDA\.csv: its name says NVDA but --ticker says ORCL$"):
        read(path, "ORCL")
    assert set(read(path, "NVDA")["ticker"]) == {"NVDA"}


def test_a_raw_zone_file_renamed_for_another_ticker_is_refused(tmp_path):
    source = next((SAMPLE_DIR / "prices").glob("ORCL.*.parquet"))
    renamed = tmp_path / source.name.replace("ORCL", "NVDA")
    shutil.copy(source, renamed)
    shutil.copy(meta_path(source), meta_path(renamed))  # its metadata still says ORCL
    with pytest.raises(PayloadError, match=r": its name says NVDA but its metadata says ORCL$"):
        read(renamed)


def test_a_file_nothing_names_a_ticker_for_is_refused(tmp_path):
    plain = tmp_path / "export.csv"
    shutil.copy(FIXTURES / "AAPL.classic.csv", plain)
    with pytest.raises(PayloadError, match=r"^export\.csv: nothing says which ticker it holds"):
        read(plain)
