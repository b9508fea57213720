"""Every price layout the pipeline accepts, read into the same canonical rows."""

import datetime as dt
import shutil

import pytest

from pipeline.errors import PayloadError
from pipeline.parsers.price_files import events, read_price_payload
from pipeline.raw_zone import read_payload
from tests.conftest import FIXTURES

ALIASES = {"SOX_index": "^SOX"}


def read(path, ticker=None):
    return read_price_payload(read_payload(path), ALIASES, ticker)


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
        (b"Date,Open,High,Low,Close,Volume\n2025-01-02,1,2,0.5,abc,100\n", "column 'close' is not numeric"),
        (b"Date,Open,High,Low,Close,Volume\n02/01/2025,1,2,0.5,1.5,100\n", "a Date does not parse"),
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
