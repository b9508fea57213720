"""Reading a seed file (seeds/*.csv): the header checked, every cell typed, every row with its line.

A cell that does not parse stops the read naming the file, the line and the value. Blank cells
become nulls, for the seed's expectations to judge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.runtime.errors import SeedError

Parser = Callable[[str], object]
BOOLEANS = {"true": True, "false": False}


def display(path: Path) -> str:
    """The path as the user typed it, or relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_seed_csv(path: Path, columns: Sequence[str], parsers: Mapping[str, Parser]) -> pd.DataFrame:
    """One row per record with its file `line` and the named columns, each cell parsed by
    `parsers[column]` (text where none is given)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{display(path)} is unreadable ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = tuple(reader.fieldnames or ())
    missing, unknown = [c for c in columns if c not in header], [c for c in header if c not in columns]
    if missing or unknown:
        raise SeedError(
            f"{display(path)} line 1: the header needs exactly {', '.join(columns)} "
            f"(missing {missing or 'none'}, unknown {unknown or 'none'})"
        )
    rows, line = [], 1
    try:
        for record in reader:
            # line_num is the record's last line; a quoted cell may span lines.
            line = reader.line_num - sum(v.count("\n") for v in record.values() if isinstance(v, str))
            rows.append(typed(record, line, columns, parsers))
    except csv.Error as exc:
        raise SeedError(f"{display(path)} line {reader.line_num}: not CSV ({exc})") from None
    except ValueError as exc:
        raise SeedError(f"{display(path)} line {line}: {exc}") from None
    if not rows:
        raise SeedError(f"{display(path)} has no rows")
    return pd.DataFrame(rows, columns=["line", *columns])


def typed(
    record: dict[str | None, Any], line: int, columns: Sequence[str], parsers: Mapping[str, Parser]
) -> dict[str, object]:
    if None in record:
        extra = record[None]
        raise ValueError(f"{len(record) - 1 + len(extra)} cells where the header has {len(columns)}")
    row: dict[str, object] = {"line": line}
    for name in columns:
        cell = (record.get(name) or "").strip()
        row[name] = parsers[name](cell) if cell and name in parsers else (cell or None)
    return row


def iso_date(name: str) -> Parser:
    def parse(cell: str) -> dt.date:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
            raise ValueError(f"{name} {cell!r} is not a date as YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(cell)
        except ValueError:
            raise ValueError(f"{name} {cell!r} is not a date as YYYY-MM-DD") from None

    return parse


def boolean(name: str) -> Parser:
    def parse(cell: str) -> bool:
        if cell.lower() not in BOOLEANS:
            raise ValueError(f"{name} {cell!r} is not true or false")
        return BOOLEANS[cell.lower()]

    return parse


def number(name: str, unit: str) -> Parser:
    def parse(cell: str) -> float:
        try:
            value = float(cell)
        except ValueError:
            raise ValueError(f"{name} {cell!r} is not a number of {unit}") from None
        if not math.isfinite(value):
            raise ValueError(f"{name} {cell!r} is not a finite number")
        return value

    return parse


def integer(name: str) -> Parser:
    def parse(cell: str) -> int:
        if not re.fullmatch(r"\d+", cell):
            raise ValueError(f"{name} {cell!r} is not a whole number")
        return int(cell)

    return parse


def upper(cell: str) -> str:
    return cell.upper()
