"""Values that cannot be true are refused in one line; values that are merely odd load flagged.

Each input is the bundled sample (or a real vendor file) damaged in one way, run in-process into a
copy of a good run's data directory: a refusal leaves the published exports as they were and the
next good run completes; a warning loads the payload with the bar or fact flagged.

The sample's NVDA bars are the NYSE sessions from 2025-01-02 (rows counted from 0): row 50 is
2025-03-18, row 51 2025-03-19, row 100 2025-05-29, row 101 2025-05-30 and row 293, the last,
2026-03-06. Its adjusted closes are within 0.03% of its closes, and no day of it moves 40%.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults import harness
from tests.faults.bad_inputs_prices import Table, replay, sample_table
from tests.faults.bad_inputs_sec import FIRST_ROW, fact, facts
from tests.faults.harness import in_process, next_run_completes, snapshot, unchanged

PRICES = "validation of raw_prices failed: "
FACTS = "validation of raw_xbrl_facts failed: "
OHLC = ("Open", "High", "Low", "Close")


def scaled(table: Table, rows: range, columns: tuple[str, ...], factor: float) -> Table:
    for row in rows:
        for column in columns:
            table.set(row, column, repr(float(table.rows[row][table.header.index(column)]) * factor))
    return table


def split_on_row_100(close_factor: float, adj_factor: float) -> Callable[[Table], Table]:
    """A declared 2:1 split on 2025-05-29 in a file of raw closes: the bars before it are priced
    `close_factor` times higher (2: the split's own ratio) and their adjusted closes `adj_factor`
    times (1: adjusted for the split, as an adjusted close is)."""

    def edit(table: Table) -> Table:
        table.set(100, "Stock Splits", "2.0")
        scaled(table, range(100), OHLC, close_factor)
        return scaled(table, range(100), ("Adj Close",), adj_factor)

    return edit


def nvda(edit: Callable[[Table], Table]) -> Callable[[Path, Path | None], list[str]]:
    return lambda tmp, real: replay(tmp, {"NVDA.csv": edit(sample_table())})


REFUSED = [
    pytest.param(
        nvda(lambda t: scaled(t, range(50, 51), ("Adj Close",), 100)),
        # 100x the close on 2025-03-18: its adjusted close jumps 9900% that day and falls 99% the next.
        "adjusted close-to-close move within ±40% (it is adjusted for splits) failed on 2 rows: "
        "NVDA 2025-03-18, NVDA 2025-03-19; adj_close / close within THESIS_MIN_ADJ_CLOSE_RATIO to "
        "THESIS_MAX_ADJ_CLOSE_RATIO failed on 1 row: NVDA 2025-03-18",
        id="adj-close-100x-the-close",
    ),
    pytest.param(
        # +50% on 2025-05-29, then back: -33% the next day, within the bound.
        nvda(lambda t: scaled(t, range(100, 101), ("Adj Close",), 1.5)),
        "adjusted close-to-close move within ±40% (it is adjusted for splits) failed on 1 row: NVDA 2025-05-29",
        id="adj-close-jumps-50-percent-alone",
    ),
    pytest.param(
        nvda(split_on_row_100(close_factor=2, adj_factor=2)),  # the adjusted close falls by half with the close
        "adjusted close-to-close move within ±40% (it is adjusted for splits) failed on 1 row: NVDA 2025-05-29",
        id="split-day-adj-close-not-adjusted",
    ),
    pytest.param(
        # The close falls 90%: 80% once the 2:1 ratio is taken out, and 90% as it is.
        nvda(split_on_row_100(close_factor=10, adj_factor=1)),
        "close-to-close move within ±40% unless a declared split explains it failed on 1 row: NVDA 2025-05-29",
        id="declared-2-for-1-split-close-divided-by-10",
    ),
    pytest.param(
        nvda(lambda t: scaled(t.append(293, "2026-03-06"), range(294, 295), (*OHLC, "Adj Close"), 0.7)),
        "one bar per (ticker, date) failed on 2 rows: NVDA 2026-03-06, NVDA 2026-03-06",
        id="last-bar-twice-30-percent-apart",
    ),
    pytest.param(
        nvda(lambda t: t.append(0, "1899-12-29")),
        "dated on or after THESIS_EARLIEST_DATE failed on 1 row: NVDA 1899-12-29",
        id="bar-dated-1899",
    ),
    pytest.param(
        facts(fact(0, "val", 1.7e308)),
        f"money within THESIS_MAX_MONEY failed on 1 row: {FIRST_ROW} 0001045810-24-000101",
        id="fact-val-1.7e308",
    ),
    pytest.param(
        facts(fact(0, "end", "0001-04-28")),
        "dated from THESIS_EARLIEST_DATE to THESIS_FACT_LOOKAHEAD_DAYS after the run date failed on 1 row: "
        "1045810 us-gaap PaymentsToAcquirePropertyPlantAndEquipment USD 2024-01-29/0001-04-28 0001045810-24-000101",
        id="fact-ending-in-year-1",
    ),
]


PARSED = [
    pytest.param(
        # 1e20 shares: as a bigint it would wrap around to -9223372036854775808.
        nvda(lambda t: t.set(50, "Volume", "1e20")),
        "NVDA.csv: column 'volume' on 2025-03-18 does not fit a 64-bit integer ('1e20')",
        id="volume-1e20",
    ),
]


def refused(make, request, capsys, data_dir: Path, tmp_path: Path) -> str:
    """Run `make`'s command: one clean line (returned), exit 1, nothing published changed, and the
    next good run completes."""
    args = make(tmp_path / "input", None)
    published = snapshot(data_dir / "published")

    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))

    line = harness.refused(request, code, err)
    assert code == 1
    unchanged(request, published, data_dir / "published")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))
    return line


@pytest.mark.parametrize(("make", "expected"), REFUSED)
def test_a_value_that_cannot_be_true_is_refused(make, expected, request, capsys, data_dir, tmp_path):
    line = refused(make, request, capsys, data_dir, tmp_path)
    prefix = PRICES if "NVDA 1" in expected or "NVDA 2" in expected else FACTS
    assert prefix + expected in line, line


@pytest.mark.parametrize(("make", "expected"), PARSED)
def test_a_volume_beyond_a_64_bit_integer_is_refused_as_the_file_is_read(
    make, expected, request, capsys, data_dir, tmp_path
):
    line = refused(make, request, capsys, data_dir, tmp_path)
    assert line.startswith(f"thesis: error: {expected}; nothing was loaded"), line


def test_a_declared_split_the_raw_close_moves_by_loads(capsys, data_dir, tmp_path):
    """2:1 on 2025-05-29: the close halves, the adjusted close does not move."""
    args = nvda(split_on_row_100(close_factor=2, adj_factor=1))(tmp_path / "input", None)
    assert in_process(capsys, *args, "--data-dir", str(data_dir)) == (0, "")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        splits = con.execute("select ticker, date::varchar, value from raw.price_events where event = 'split'")
        assert splits.fetchall() == [("NVDA", "2025-05-29", 2.0)]
        closes = con.execute("select close from raw.prices where ticker = 'NVDA' and date = '2025-05-28'")
        assert closes.fetchone()[0] == pytest.approx(2 * float(sample_table().rows[99][4]))


def test_a_volume_above_the_bound_loads_flagged(capsys, data_dir, tmp_path):
    args = nvda(lambda t: t.set(50, "Volume", "2e11"))(tmp_path / "input", None)
    assert in_process(capsys, *args, "--data-dir", str(data_dir)) == (0, "")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select ticker, date::varchar, volume, flags from raw.prices where flags is not null")
        assert rows.fetchall() == [("NVDA", "2025-03-18", 200_000_000_000, "volume > THESIS_MAX_VOLUME")]


def test_money_above_2_to_the_53_but_within_the_bound_loads_flagged(capsys, data_dir, tmp_path):
    """1e16 dollars, as Freeport's real public float of 2.76e16: a scale error, not impossible."""
    args = facts(fact(0, "val", 1e16))(tmp_path / "input", None)
    assert in_process(capsys, *args, "--data-dir", str(data_dir)) == (0, "")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select concept, unit, period, val, flags from raw.xbrl_facts where flags is not null")
        assert rows.fetchall() == [
            ("PaymentsToAcquirePropertyPlantAndEquipment", "USD", "2024-01-29/2024-04-28", 1e16, "abs(val) > 2^53")
        ]
