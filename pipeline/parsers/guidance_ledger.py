"""Reading the guidance ledger, `seeds/capex_guidance.csv`: what management said it would spend.

One row per statement. To add a statement, append a row:
- `ticker`, `statement_date` (YYYY-MM-DD) and `date_precision` (`day`, or `month` with the
  month's first day where only the month is known);
- `fiscal_period` in the company's own calendar: `FY2026`, `FY2026Q1`, `FY2025H2`, or `CY2026`
  where the company guided a calendar year;
- the figures in US$ billions: `low_usd_bn` and `high_usd_bn` for a range, `point_usd_bn` for a
  point estimate, `low_usd_bn` alone for "at least"; none, with `qualitative` = true, for a
  statement without a figure (`qualitative` is false otherwise);
- `basis` (what the company counts as capex), a short `quote`, the `source_url`, and `evidence`:
  `seen` where the figure was read in the source, `secondary` where only a summary citing it was.

A revision is a new row with the new date; never edit the earlier statement. `thesis run`
validates the ledger and names the line of any bad row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path

import pandas as pd

from pipeline.errors import PayloadError

COLUMNS = ("ticker", "statement_date", "date_precision", "fiscal_period", "low_usd_bn", "high_usd_bn",
           "point_usd_bn", "basis", "qualitative", "quote", "source_url", "evidence")
FIGURES = ("low_usd_bn", "high_usd_bn", "point_usd_bn")
BOOLEANS = {"true": True, "false": False}


def display(path: Path) -> str:
    """The path as the user typed it, or relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_ledger(path: Path) -> pd.DataFrame:
    """The ledger typed, one row per statement with its file `line`; PayloadError names the line
    of a value that does not parse. Blank cells become nulls, for validation to judge."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PayloadError(f"guidance ledger {display(path)} is unreadable ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = tuple(reader.fieldnames or ())
    missing, unknown = [c for c in COLUMNS if c not in header], [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise PayloadError(f"{display(path)} line 1: the header needs exactly {', '.join(COLUMNS)} "
                           f"(missing {missing or 'none'}, unknown {unknown or 'none'})")
    rows = []
    try:
        for record in reader:
            # line_num is the record's last line; a quoted cell may span lines.
            line = reader.line_num - sum(v.count("\n") for v in record.values() if isinstance(v, str))
            rows.append(typed(record, line))
    except csv.Error as exc:
        raise PayloadError(f"{display(path)} line {reader.line_num}: not CSV ({exc})") from None
    except ValueError as exc:
        raise PayloadError(f"{display(path)} line {line}: {exc}") from None
    if not rows:
        raise PayloadError(f"{display(path)} has no statements")
    return pd.DataFrame(rows, columns=["line", *COLUMNS]).astype({c: "float64" for c in FIGURES})


def typed(record: dict[str, str | None], line: int) -> dict[str, object]:
    if None in record:
        raise ValueError(f"{len(record) - 1 + len(record[None])} cells where the header has {len(COLUMNS)}")
    cells = {name: (value or "").strip() or None for name, value in record.items()}
    row: dict[str, object] = {"line": line, **cells}
    row["statement_date"] = parse_date(cells["statement_date"])
    row["qualitative"] = parse_boolean(cells["qualitative"])
    for name in FIGURES:
        row[name] = parse_figure(name, cells[name])
    return row


def parse_date(cell: str | None) -> dt.date | None:
    if cell is None:
        return None
    try:
        return dt.datetime.strptime(cell, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"statement_date {cell!r} is not a date as YYYY-MM-DD") from None


def parse_boolean(cell: str | None) -> bool | None:
    if cell is None:
        return None
    if cell.lower() not in BOOLEANS:
        raise ValueError(f"qualitative {cell!r} is not true or false")
    return BOOLEANS[cell.lower()]


def parse_figure(name: str, cell: str | None) -> float | None:
    if cell is None:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{name} {cell!r} is not a number of US$ billions") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} {cell!r} is not a finite number")
    return value
