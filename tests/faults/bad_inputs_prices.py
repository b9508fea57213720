"""Bad price files for the corpus (tests/faults/test_bad_inputs.py): each case makes its input in a
temporary folder and says which `thesis` command to run on it and which words its one line holds.

Inputs are the bundled sample's bars (written out as a `Ticker.history()` CSV, or its raw-zone
parquet) and real vendor files from ../shared/realdata, each damaged in one way. Rows are counted
from 0 after the header; the sample's NVDA bars are the NYSE sessions from 2025-01-02, so row 20
is 2025-02-03, row 50 2025-03-18, row 100 2025-05-29, row 101 2025-05-30 and row 293 2026-03-06.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.runtime.settings import SAMPLE_DIR

HISTORY_HEADER = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits"]
BOM = "\ufeff"


@dataclass(frozen=True)
class Case:
    """`make(tmp, realdata)` builds the input and returns the command's arguments (without
    --data-dir); the one error line holds each of `expected`."""

    id: str
    make: Callable[[Path, Path | None], list[str]]
    expected: tuple[str, ...]
    real: bool = False  # reads ../shared/realdata


@dataclass
class Table:
    """A CSV as rows of text cells, edited cell by cell."""

    header: list[str]
    rows: list[list[str]]
    bom: bool = False

    def set(self, row: int, column: str, value: str) -> Table:
        self.rows[row][self.header.index(column)] = value
        return self

    def append(self, row: int, date: str) -> Table:
        """A copy of `row` dated `date`, added at the end."""
        self.rows.append([date, *self.rows[row][1:]])
        return self

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [",".join(self.header), *(",".join(r) for r in self.rows)]
        path.write_text((BOM if self.bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
        return path


def sample_payload(ticker: str) -> Path:
    return next((SAMPLE_DIR / "prices").glob(f"{ticker}.*.parquet"))


def sample_table(ticker: str = "NVDA") -> Table:
    """The sample's bars of `ticker` as a `Ticker.history()` CSV with plain dates."""
    frame = pd.read_parquet(sample_payload(ticker))
    rows = [
        [day.date().isoformat(), *(repr(float(v)) for v in values)]
        for day, values in zip(frame.index, frame[HISTORY_HEADER[1:]].itertuples(index=False), strict=True)
    ]
    return Table(list(HISTORY_HEADER), rows)


def real_table(realdata: Path, name: str) -> Table:
    text = (realdata / "prices" / name).read_text(encoding="utf-8")
    lines = text.removeprefix(BOM).splitlines()
    return Table(lines[0].split(","), [line.split(",") for line in lines[1:]], bom=text.startswith(BOM))


def replay(tmp: Path, files: dict[str, Table | bytes], keep: tuple[str, ...] = ("ORCL", "^SOX")) -> list[str]:
    """`run --from` a folder whose prices/ hold the sample's payloads of `keep` (with their
    metadata) and `files`."""
    prices = tmp / "replay" / "prices"
    prices.mkdir(parents=True)
    for ticker in keep:
        payload = sample_payload(ticker)
        shutil.copy(payload, prices)
        shutil.copy(payload.with_name(payload.name + ".meta.json"), prices)
    for name, content in files.items():
        if isinstance(content, Table):
            content.write(prices / name)
        else:
            (prices / name).write_bytes(content)
    return ["run", "--from", str(tmp / "replay")]


def nvda_replay(edit: Callable[[Table], Table]) -> Callable[[Path, Path | None], list[str]]:
    """The sample's NVDA bars as NVDA.csv, edited, beside its ORCL and ^SOX payloads."""
    return lambda tmp, real: replay(tmp, {"NVDA.csv": edit(sample_table())})


def real_replay(
    name: str, edit: Callable[[Table], Table], as_name: str | None = None, keep: tuple[str, ...] = ("ORCL", "^SOX")
) -> Callable[[Path, Path | None], list[str]]:
    """A real vendor file, edited (and renamed), beside the sample's payloads of `keep`."""
    return lambda tmp, real: replay(tmp, {as_name or name: edit(real_table(real, name))}, keep=keep)


def ticker_column(ticker: str) -> Callable[[Table], Table]:
    """Every bar of a long file given to `ticker`."""
    return lambda t: Table(t.header, [[r[0], ticker, *r[2:]] for r in t.rows], t.bom)


def doubled_close(row: int) -> Callable[[Table], Table]:
    return lambda t: t.set(row, "Close", str(2 * float(t.rows[row][t.header.index("Close")])))


def imported(name: str, table: Callable[[Path | None], Table], *flags: str):
    """`import-prices` of one file named `name`."""

    def make(tmp: Path, real: Path | None) -> list[str]:
        return ["import-prices", str(table(real).write(tmp / name)), *flags]

    return make


def replay_with_parquet(edit: Callable[[Path], None]) -> Callable[[Path, Path | None], list[str]]:
    """All three sample payloads in a replay folder, then `edit(prices folder)`."""

    def make(tmp: Path, real: Path | None) -> list[str]:
        args = replay(tmp, {}, keep=("NVDA", "ORCL", "^SOX"))
        edit(tmp / "replay" / "prices")
        return args

    return make


def truncate_nvda(prices: Path) -> None:
    target = next(prices.glob("NVDA.*.parquet"))
    target.write_bytes(target.read_bytes()[:5000])


def rename_orcl_as_nvda(prices: Path) -> None:
    """The ORCL payload and its metadata renamed for NVDA, the NVDA payload gone."""
    for path in prices.glob("NVDA.*"):
        path.unlink()
    for path in prices.glob("ORCL.*"):
        path.rename(path.with_name(path.name.replace("ORCL", "NVDA")))


def damage_nvda_meta(prices: Path) -> None:
    next(prices.glob("NVDA.*.meta.json")).write_text("{not json")


def prices_file(tmp: Path, real: Path | None) -> list[str]:
    """A replay folder whose `prices` is a file (a CSV saved under the folder's name), beside sec/."""
    shutil.copytree(SAMPLE_DIR / "sec", tmp / "replay" / "sec")
    (tmp / "replay" / "prices").write_bytes((SAMPLE_DIR / "prices").joinpath(NVDA_PARQUET).read_bytes())
    return ["run", "--from", str(tmp / "replay")]


def empty_prices(prices: Path) -> None:
    for path in prices.iterdir():
        path.unlink()


NVDA_PARQUET = sample_payload("NVDA").name
ORCL_PARQUET = sample_payload("ORCL").name
FUTURE = "no bar dated after the run date (today in New York) failed on 1 row: NVDA 2031-03-07"
CLOSED = "dated on an NYSE session (not a weekend or an exchange holiday) failed on 1 row: NVDA 2025-03-08"

CASES = [
    # Bad data that used to be accepted silently.
    Case("future-bar-replay", nvda_replay(lambda t: t.append(293, "2031-03-07")), ("raw_prices failed", FUTURE)),
    Case(
        "future-bar-import",
        imported("NVDA.csv", lambda real: sample_table().append(293, "2031-03-07")),
        ("raw_prices failed", FUTURE, "; moved to ", "/raw/_quarantine/prices: NVDA."),
    ),
    Case(
        "date-with-trailing-garbage",
        real_replay("NVDA.download_autoadjust.csv", lambda t: t.set(0, "Date", "2025-07-2499")),
        ("NVDA.download_autoadjust.csv: a Date is not a date: '2025-07-2499' (row 1)", "nothing was loaded"),
        real=True,
    ),
    Case(
        "high-of-1e999",
        real_replay("NVDA.download_autoadjust.csv", lambda t: t.set(0, "High", "1e999")),
        ("NVDA.download_autoadjust.csv: column 'high' on 2025-07-24 is not a finite number ('1e999')",),
        real=True,
    ),
    Case(
        "high-of-1e999-imported-is-quarantined",
        imported("NVDA.csv", lambda real: real_table(real, "NVDA.download_autoadjust.csv").set(0, "High", "1e999")),
        ("column 'high' on 2025-07-24 is not a finite number ('1e999'); nothing was loaded; moved to ", "_quarantine"),
        real=True,
    ),
    Case(
        "ticker-column-disagrees-with-name",
        real_replay("SOX_index.long_with_bom.csv", ticker_column("ORCL"), as_name="NVDA.long.csv"),
        ("NVDA.long.csv: its Ticker column says ORCL but its name says NVDA",),
        real=True,
    ),
    Case(
        "ticker-flag-disagrees-with-name",
        imported("NVDA.csv", lambda real: real_table(real, "NVDA.download_autoadjust.csv"), "--ticker", "ORCL"),
        ("NVDA.csv: its name says NVDA but --ticker says ORCL",),
        real=True,
    ),
    Case(
        "ticker-flag-disagrees-with-ticker-column",
        imported(
            "SOX_index.long_with_bom.csv",
            lambda real: real_table(real, "SOX_index.long_with_bom.csv"),
            "--ticker",
            "NVDA",
        ),
        ("SOX_index.long_with_bom.csv: its Ticker column says ^SOX but --ticker says NVDA",),
        real=True,
    ),
    Case(
        "alias-name-disagrees-with-ticker-column",
        real_replay("SOX_index.long_with_bom.csv", ticker_column("NVDA"), keep=("NVDA", "ORCL")),
        ("SOX_index.long_with_bom.csv: its Ticker column says NVDA but its name says ^SOX",),
        real=True,
    ),
    Case(
        "multiindex-header-disagrees-with-name",
        lambda tmp, real: replay(
            tmp,
            {"ORCL.multi.csv": (real / "prices" / "SOX_index.multiindex_header.csv").read_bytes()},
            ("NVDA", "^SOX"),
        ),
        ("ORCL.multi.csv: its Ticker column says ^SOX but its name says ORCL",),
        real=True,
    ),
    Case(
        "raw-zone-payload-renamed-for-another-ticker",
        replay_with_parquet(rename_orcl_as_nvda),
        (f"{ORCL_PARQUET.replace('ORCL', 'NVDA')}: its name says NVDA but its metadata says ORCL",),
    ),
    Case(
        "no-ticker-anywhere",
        imported("export.csv", lambda real: sample_table()),
        ("export.csv: nothing says which ticker it holds", "pass --ticker"),
    ),
    Case(
        "bar-without-a-ticker",
        real_replay("SOX_index.long_with_bom.csv", lambda t: t.set(1, "Ticker", ""), keep=("NVDA", "ORCL")),
        ("SOX_index.long_with_bom.csv: the bar of 2021-01-05 has no Ticker",),
        real=True,
    ),
    # Dates parse exactly, numbers are finite.
    Case(
        "mixed-date-formats",
        real_replay("NVDA.download_autoadjust.csv", lambda t: t.set(2, "Date", "07/28/2025")),
        ("NVDA.download_autoadjust.csv: a Date is not a date: '07/28/2025' (row 3)",),
        real=True,
    ),
    Case(
        "date-that-does-not-exist",
        nvda_replay(lambda t: t.set(0, "Date", "2025-02-30")),
        ("NVDA.csv: a Date is not a date: '2025-02-30' (row 1)",),
    ),
    Case(
        "empty-date",
        nvda_replay(lambda t: t.set(20, "Date", "")),
        ("NVDA.csv: a Date is not a date: empty (row 21)",),
    ),
    Case(
        "infinity-spelled-out",
        nvda_replay(lambda t: t.set(0, "Low", "inf")),
        ("NVDA.csv: column 'low' on 2025-01-02 is not a finite number ('inf')",),
    ),
    Case(
        "volume-not-a-number",
        nvda_replay(lambda t: t.set(0, "Volume", "12k")),
        ("NVDA.csv: column 'volume' on 2025-01-02 is not a number ('12k')",),
    ),
    # Critical expectations.
    Case(
        "duplicate-bar",
        nvda_replay(lambda t: t.append(50, "2025-03-18")),
        ("one bar per (ticker, date) failed on 2 rows: NVDA 2025-03-18, NVDA 2025-03-18",),
    ),
    Case(
        "null-close",
        nvda_replay(lambda t: t.set(20, "Close", "")),
        ("close is not null failed on 1 row: NVDA 2025-02-03",),
    ),
    Case("zero-close", nvda_replay(lambda t: t.set(20, "Close", "0")), ("close > 0 failed on 1 row: NVDA 2025-02-03",)),
    Case(
        "negative-volume",
        nvda_replay(lambda t: t.set(20, "Volume", "-5")),
        ("volume >= 0 failed on 1 row: NVDA 2025-02-03",),
    ),
    Case(
        "jump-without-a-split",
        nvda_replay(doubled_close(100)),
        (
            "close-to-close move within ±40% unless a declared split explains it failed on 2 rows: "
            "NVDA 2025-05-29, NVDA 2025-05-30",
        ),
    ),
    Case("bar-on-a-saturday", nvda_replay(lambda t: t.append(44, "2025-03-08")), (CLOSED,)),
    # Files in no layout.
    Case("empty-file", lambda tmp, real: replay(tmp, {"NVDA.csv": b""}), ("NVDA.csv: empty file",)),
    Case(
        "header-only",
        lambda tmp, real: replay(tmp, {"NVDA.csv": b"Date,Open,High,Low,Close,Volume\n"}),
        ("NVDA.csv: no rows",),
    ),
    Case(
        "columns-missing",
        lambda tmp, real: replay(tmp, {"NVDA.csv": b"Date,Open,High,Low\n2025-01-02,1,2,0.5\n"}),
        ("NVDA.csv: no close, volume column; not a yfinance layout",),
    ),
    Case(
        "binary-bytes",
        lambda tmp, real: replay(tmp, {"NVDA.csv": bytes(range(256)) * 4}),
        ("NVDA.csv: unreadable (UnicodeDecodeError",),
    ),
    Case("truncated-parquet", replay_with_parquet(truncate_nvda), (f"{NVDA_PARQUET}: unreadable",)),
    Case(
        "damaged-metadata",
        replay_with_parquet(damage_nvda_meta),
        (f"{NVDA_PARQUET}.meta.json: not a JSON object; the metadata of {NVDA_PARQUET} is damaged",),
    ),
    # Folders.
    Case(
        "folder-with-neither-prices-nor-sec",
        lambda tmp, real: ["run", "--from", str(tmp)],
        ("has neither a prices/ nor a sec/ folder to replay",),
    ),
    Case(
        "prices-folder-empty",
        replay_with_parquet(empty_prices),
        ("holds no prices for NVDA, ORCL, ^SOX (it holds none)",),
    ),
    Case("prices-is-a-file", prices_file, ("/prices is a file, not a folder of payloads to replay",)),
]
