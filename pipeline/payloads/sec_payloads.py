"""Reading SEC JSON payloads (companyfacts, submissions and their archive files) into frames.

companyfacts nests taxonomy -> concept -> unit -> facts; it is flattened into one row per fact as
filed: every taxonomy, every unit, every version. A payload holds tens of thousands of facts and a
bulk load thousands of payloads, so Python touches each fact once (to pull its fields into column
lists) and the checks, dates and `period` work a column at a time, in arrow.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.payloads.raw_zone import PayloadFile
from pipeline.runtime.errors import PayloadError

# CIK0001045810.json, CIK0001045810-submissions-001.json, or a raw-zone copy with a stamp and hash.
FILE_NAME = re.compile(r"^CIK(?P<cik>\d{10})(?P<archive>-submissions-\d+)?\.")

FACT_FIELDS = ("start", "end", "val", "accn", "fy", "fp", "form", "filed", "frame")
FACT_COLUMNS = ("cik", "taxonomy", "concept", "unit", "period", *FACT_FIELDS)
FACT_KEY = ("cik", "taxonomy", "concept", "unit", "period", "accn")
DATE_FIELDS = ("start", "end", "filed")
TEXT_FIELDS = ("accn", "fp", "form", "frame")
# The JSON values a fact field may hold besides null (a JSON number is an int or a float), and what
# a message calls them.
FIELD_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "val": ((int, float), "a finite number"),
    "fy": ((int,), "a whole year"),
    **{field: ((str,), "text") for field in TEXT_FIELDS},
}
FIELD_TYPES = {"fy": pa.int64(), **{field: pa.string() for field in TEXT_FIELDS}}
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# submissions `filings.recent` (and each archive file) is columnar: field -> list, one entry per filing.
FILING_FIELDS = {
    "accessionNumber": "accession_number",
    "form": "form",
    "filingDate": "filing_date",
    "reportDate": "report_date",
    "acceptanceDateTime": "acceptance_datetime",
    "act": "act",
    "fileNumber": "file_number",
    "filmNumber": "film_number",
    "items": "items",
    "core_type": "core_type",
    "size": "size",
    "isXBRL": "is_xbrl",
    "isInlineXBRL": "is_inline_xbrl",
    "primaryDocument": "primary_document",
    "primaryDocDescription": "primary_doc_description",
}
REQUIRED_FILING_FIELDS = ("accessionNumber", "form", "filingDate")


def identify(path: Path, folder_kind: str) -> dict[str, Any]:
    """kind (companyfacts, submissions, submissions_archive) and CIK of a payload, from its name."""
    match = FILE_NAME.match(path.name)
    if not match:
        raise PayloadError(f"{path}: not an SEC payload name (expected CIK##########[-submissions-NNN].json)")
    kind = "submissions_archive" if match["archive"] else folder_kind
    return {"source": "sec", "kind": kind, "cik": int(match["cik"])}


def load_json(payload: PayloadFile) -> dict:
    return parse_json(payload.path.read_bytes(), payload.path.name)


def parse_json(body: bytes, name: str) -> dict:
    """The JSON object in `body` (a payload named `name`); PayloadError saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{name}: not valid JSON, perhaps truncated ({exc})") from None
    except RecursionError:
        raise PayloadError(f"{name}: JSON nested too deeply to be an SEC payload") from None
    if not isinstance(data, dict):
        raise PayloadError(f"{name}: expected a JSON object, found {type(data).__name__}")
    return data


# What marks each kind of body: a submissions body served or named as companyfacts (or the other
# way round) is the wrong answer, whatever CIK it names.
MARKS = {"companyfacts": "facts", "submissions": "filings"}


def body_cik(data: dict, named: int, name: str, kind: str) -> int:
    """The CIK a companyfacts or submissions payload is filed under: its name's (and metadata's),
    which its body's `cik` must state. A body stating none, or another, or of the other kind, is
    refused: its name is then all that says whose data it is, and a name can be wrong."""
    other = next(k for k in MARKS if k != kind)
    if MARKS[other] in data and MARKS[kind] not in data:
        raise PayloadError(f"{name}: holds {other} (a `{MARKS[other]}` object), not {kind}")
    stated = data.get("cik")
    if stated is None:
        raise PayloadError(f"{name}: no `cik` in the body; nothing says it is CIK {named}'s {kind}")
    if isinstance(stated, bool) or not re.fullmatch(r"\d{1,10}", str(stated)):
        raise PayloadError(f"{name}: its `cik` is {stated!r}, not a CIK number")
    if int(stated) != named:
        raise PayloadError(f"{name}: its name says CIK {named} but its `cik` says {int(stated)}")
    return named


def read_companyfacts(payload: PayloadFile) -> pd.DataFrame:
    """One row per fact of a companyfacts payload file (see companyfacts_frame)."""
    return companyfacts_frame(payload.path.read_bytes(), payload.path.name, int(payload.meta["cik"]))


def companyfacts_frame(body: bytes, name: str, cik: int) -> pd.DataFrame:
    """One row per fact (FACT_COLUMNS) of the companyfacts JSON `body`, named `name` and filed
    under `cik`. `period` is `start/end` for durations, `end` for instants."""
    data = parse_json(body, name)
    cik = body_cik(data, cik, name, "companyfacts")
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise PayloadError(f"{name}: no `facts` object; not a companyfacts payload")
    labels, columns = flatten_facts(facts, name)

    def fact_name(i: int) -> str:
        taxonomy, concept, unit = (labels[label][i].as_py() for label in ("taxonomy", "concept", "unit"))
        return f"{taxonomy}:{concept} {unit} accn {columns['accn'][i]}"

    check_fact_values(columns, fact_name, name)
    dates = {field: iso_dates(columns[field], f"{name}: a fact's `{field}`", fact_name) for field in DATE_FIELDS}
    try:
        typed = {**dates, **{field: pa.array(columns[field], kind) for field, kind in FIELD_TYPES.items()}}
    except (pa.ArrowException, OverflowError) as exc:  # a `fy` beyond any year
        raise PayloadError(f"{name}: a fact's field does not fit its column ({exc})") from None
    # Through numpy, not arrow: arrow refuses a whole number beyond 2^53 as a double, and filers
    # report such values (a scale error, flagged by validation). Missing values become null.
    typed["val"] = pa.array(np.array(columns["val"], dtype="float64"), from_pandas=True)
    period_column = period(dates["start"], dates["end"])
    table = pa.table({**labels, "period": period_column, **{field: typed[field] for field in FACT_FIELDS}})
    frame = table.to_pandas(date_as_object=True, types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    frame.insert(0, "cik", cik)
    # A fact repeated with the same value is one fact, whatever else its copies say (only the
    # last-filed copy carries `frame`); differing values under one key are left for validation.
    return frame.drop_duplicates([*FACT_KEY, "val"]).reset_index(drop=True)


def flatten_facts(facts: dict, name: str) -> tuple[dict[str, pa.Array], dict[str, list]]:
    """taxonomy -> concept -> unit -> facts as columns, one entry per fact: the labels as arrow
    arrays, and each of FACT_FIELDS as the list of its JSON values (None where a fact lacks it)."""
    groups: list[tuple[str, str, str]] = []
    counts: list[int] = []
    rows: list[dict] = []
    try:
        for taxonomy, by_concept in facts.items():
            for concept, described in by_concept.items():
                for unit, unit_rows in described["units"].items():
                    groups.append((taxonomy, concept, unit))
                    counts.append(len(unit_rows))
                    rows += unit_rows
        columns = {field: [row.get(field) for row in rows] for field in FACT_FIELDS}
    except (AttributeError, KeyError, TypeError) as exc:
        raise PayloadError(f"{name}: a fact is not in the companyfacts layout ({exc!r})") from None
    # Each label repeated once per fact of its unit, by position, rather than copied per fact in Python.
    positions = np.repeat(np.arange(len(groups)), counts)
    labels = {
        label: pa.array([group[i] for group in groups], pa.string()).take(positions)
        for i, label in enumerate(("taxonomy", "concept", "unit"))
    }
    return labels, columns


def check_fact_values(columns: dict[str, list], fact_name: Callable[[int], str], payload_name: str) -> None:
    """Each field of FIELD_KINDS holds its kind of JSON value or is missing: `val` a finite number
    (not `"1e3"`, not `1e999`, not `true`), `fy` a whole year, text fields text. PayloadError naming
    the first fact that does not. The types are compared a column at a time; only a column that
    fails is walked fact by fact, to name the first offender."""
    for field, (kinds, what) in FIELD_KINDS.items():
        values = columns[field]
        if set(map(type, values)) <= {*kinds, type(None)} and (float not in kinds or all_finite(values)):
            continue
        first = next(i for i, value in enumerate(values) if value is not None and not fits(value, kinds))
        raise PayloadError(f"{payload_name}: a fact's `{field}` is {values[first]!r}, not {what} ({fact_name(first)})")


def fits(value: object, kinds: tuple[type, ...]) -> bool:
    if type(value) not in kinds:
        return False
    try:
        return type(value) is str or (isinstance(value, int | float) and math.isfinite(value))
    except OverflowError:  # a JSON integer of hundreds of digits: beyond any double
        return False


def all_finite(numbers: list) -> bool:
    """No NaN, infinity or number beyond a double among `numbers` (ints, floats and None)."""
    try:
        as_floats = np.array(numbers, dtype="float64")  # None becomes NaN: count those apart
    except OverflowError:
        return False
    return int(np.isfinite(as_floats).sum()) == len(numbers) - numbers.count(None)


def iso_dates(values: list, what: str, name_of: Callable[[int], str]) -> pa.Array:
    """YYYY-MM-DD dates exactly, as arrow dates (a missing one stays missing); PayloadError naming
    the first that is not. Checked a column at a time; only a failing column is walked to find it."""
    if set(map(type, values)) <= {str, type(None)}:
        text = pa.array(values, pa.string())
        if pc.all(pc.match_substring_regex(text, ISO_DATE.pattern)).as_py() is not False:
            try:
                return text.cast(pa.date32())  # refuses 2024-02-30 and the like
            except pa.ArrowInvalid:
                pass
    first = next(i for i, value in enumerate(values) if value is not None and not is_iso_date(value))
    raise PayloadError(f"{what} is {values[first]!r}, not a YYYY-MM-DD date ({name_of(first)})")


def is_iso_date(value: object) -> bool:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse_dates(values: pd.Series, what: str, rows: pd.Series) -> pd.Series:
    """iso_dates of a frame's column, as datetime.date objects (None where missing)."""
    present = values.astype(object).where(values.notna(), None).tolist()
    dates = iso_dates(present, what, lambda i: rows.iloc[i])
    return pd.Series(dates.to_pandas(date_as_object=True).to_numpy(), index=values.index, dtype=object)


def period(start: pa.Array, end: pa.Array) -> pa.Array:
    """`start/end` for a duration, `end` for an instant (as str() of a date would write them)."""
    end_text = pc.fill_null(end.cast(pa.string()), "None")
    return pc.coalesce(pc.binary_join_element_wise(start.cast(pa.string()), end_text, "/"), end_text)


def filings_table(data: dict, kind: str, name: str) -> dict:
    """The columnar filings table: `filings.recent` of a submissions file; an archive file is one."""
    if kind != "submissions":
        return data
    filings = data.get("filings")
    if not isinstance(filings, dict) or not isinstance(filings.get("recent"), dict):
        found = type(filings).__name__ if not isinstance(filings, dict) else "no `recent` object in it"
        raise PayloadError(f"{name}: `filings` is not an object with `recent` filings ({found}); not submissions")
    return filings["recent"]


def archive_names(payload: PayloadFile) -> list[str]:
    """The older-filings files a submissions payload lists in `filings.files`. None for a payload
    that does not read: reading it as submissions refuses it (and quarantines it) with the reason."""
    try:
        filings = load_json(payload).get("filings")
    except PayloadError:
        return []
    files = filings.get("files") if isinstance(filings, dict) else None
    return [str(entry["name"]) for entry in files or [] if isinstance(entry, dict) and entry.get("name")]


def read_submissions(payload: PayloadFile) -> pd.DataFrame:
    """One row per filing of a submissions or archive payload file (see submissions_frame)."""
    meta = payload.meta
    return submissions_frame(payload.path.read_bytes(), payload.path.name, int(meta["cik"]), str(meta["kind"]))


def submissions_frame(body: bytes, name: str, cik: int, kind: str) -> pd.DataFrame:
    """One row per filing of the submissions JSON `body` (`kind` submissions, or
    submissions_archive for an older-filings file), named `name` and filed under `cik`."""
    data = parse_json(body, name)
    # An archive file (CIK##########-submissions-001.json) is a bare filings table: no `cik` in it.
    cik = body_cik(data, cik, name, kind) if kind == "submissions" else cik
    table = filings_table(data, kind, name)
    missing = [field for field in REQUIRED_FILING_FIELDS if field not in table]
    if missing:
        raise PayloadError(f"{name}: no {', '.join(missing)} in the filings table; not a submissions payload")
    not_lists = [field for field in FILING_FIELDS if field in table and not isinstance(table[field], list)]
    if not_lists:
        raise PayloadError(f"{name}: filings column {not_lists[0]!r} is not a list")
    lengths = {len(table[field]) for field in FILING_FIELDS if field in table}
    if len(lengths) > 1:
        raise PayloadError(f"{name}: filings columns differ in length {sorted(lengths)}")
    frame = pd.DataFrame({column: table.get(field) for field, column in FILING_FIELDS.items()}, dtype=object)
    frame["cik"] = cik
    for field in REQUIRED_FILING_FIELDS:
        column = frame[FILING_FIELDS[field]]
        blank = column.isna() | column.astype(str).str.strip().eq("")
        if blank.any():
            row = int(blank.idxmax())
            accn = frame["accession_number"].iloc[row]
            raise PayloadError(
                f"{name}: filing {row + 1} of its table has no `{field}`"
                + (f" (accn {accn})" if field != "accessionNumber" and isinstance(accn, str) else "")
                + "; SEC fills it for every filing"
            )
    accessions = "accn " + frame["accession_number"].astype(str)
    for field, column in (("filingDate", "filing_date"), ("reportDate", "report_date")):
        frame[column] = parse_dates(frame[column].replace("", None), f"{name}: a filing's `{field}`", accessions)
    frame["acceptance_datetime"] = acceptance_times(frame["acceptance_datetime"], name, accessions)
    try:
        for column in ("is_xbrl", "is_inline_xbrl"):
            frame[column] = frame[column].astype("boolean")
        frame["size"] = pd.array(frame["size"], dtype="Int64")
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"{name}: a filing's isXBRL, isInlineXBRL or size is malformed ({exc})") from None
    return frame.drop_duplicates("accession_number", keep="last").reset_index(drop=True)


def acceptance_times(values: pd.Series, name: str, rows: pd.Series) -> pd.Series:
    """SEC's `2026-03-04T17:33:32.000Z`, as UTC; PayloadError naming the first that is not ISO 8601."""
    text = values.where(values.isna(), values.astype(str))
    iso = text.fillna("").str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
    bad = values.notna() & ~iso
    if bad.any():
        first = bad.idxmax()
        bad_value = values[first]
        raise PayloadError(f"{name}: a filing's `acceptanceDateTime` is {bad_value!r}, not ISO 8601 ({rows[first]})")
    return pd.to_datetime(text, format="ISO8601", utc=True)
