"""Reading SEC JSON payloads (companyfacts, submissions and their archive files) into frames.

companyfacts nests taxonomy -> concept -> unit -> facts; it is flattened into column lists in
plain Python (one pass, no per-row frame appends), one row per fact as filed: every taxonomy,
every unit, every version.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from pipeline.errors import PayloadError
from pipeline.raw_zone import PayloadFile

# CIK0001045810.json, CIK0001045810-submissions-001.json, or a raw-zone copy with a stamp and hash.
FILE_NAME = re.compile(r"^CIK(?P<cik>\d{10})(?P<archive>-submissions-\d+)?\.")

FACT_FIELDS = ("start", "end", "val", "accn", "fy", "fp", "form", "filed", "frame")
FACT_COLUMNS = ("cik", "taxonomy", "concept", "unit", "period", *FACT_FIELDS)
FACT_KEY = ("cik", "taxonomy", "concept", "unit", "period", "accn")

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


def identify(path: Path, folder_kind: str) -> dict[str, object]:
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


def body_cik(data: dict, named: int, name: str) -> int:
    """The CIK a payload is filed under: its name's (and metadata's), which its body's `cik`, where
    it has one, must match: a file named for one company holding another's data is refused."""
    stated = data.get("cik")
    if stated is None:
        return named
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
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise PayloadError(f"{name}: no `facts` object; not a companyfacts payload")
    cik = body_cik(data, cik, name)
    columns: dict[str, list] = {column: [] for column in ("taxonomy", "concept", "unit", *FACT_FIELDS)}
    taxonomies, concepts, units = columns["taxonomy"], columns["concept"], columns["unit"]
    try:
        for taxonomy, by_concept in facts.items():
            for concept, described in by_concept.items():
                for unit, rows in described["units"].items():
                    taxonomies += [taxonomy] * len(rows)
                    concepts += [concept] * len(rows)
                    units += [unit] * len(rows)
                    for field in FACT_FIELDS:
                        columns[field] += [row.get(field) for row in rows]
    except (AttributeError, KeyError, TypeError) as exc:
        raise PayloadError(f"{name}: a fact is not in the companyfacts layout ({exc!r})") from None
    check_fact_values(columns, name)
    frame = pd.DataFrame(columns)
    frame["cik"] = cik
    frame["val"] = frame["val"].astype("float64")
    frame["fy"] = pd.array(frame["fy"], dtype="Int64")
    named = fact_names(frame)
    for field in ("start", "end", "filed"):
        frame[field] = parse_dates(frame[field], f"{name}: a fact's `{field}`", named)
    frame["period"] = [str(e) if pd.isna(s) else f"{s}/{e}" for s, e in zip(frame["start"], frame["end"], strict=True)]
    # A fact repeated word for word is one fact; differing values under one key are left for validation.
    return frame.drop_duplicates().loc[:, list(FACT_COLUMNS)].reset_index(drop=True)


def check_fact_values(columns: dict[str, list], payload_name: str) -> None:
    """`val` is a finite JSON number (not `"1e3"`, not `1e999`) or missing; `fy` a whole year or
    missing. PayloadError naming the first fact that is not."""
    for name, fits, what in (
        ("val", lambda v: type(v) in (int, float) and math.isfinite(v), "a finite number"),
        ("fy", lambda v: type(v) is int, "a whole year"),
    ):
        for i, value in enumerate(columns[name]):
            if value is not None and not fits(value):
                fact = f"{columns['taxonomy'][i]}:{columns['concept'][i]} {columns['unit'][i]}"
                fact += f" accn {columns['accn'][i]}"
                raise PayloadError(f"{payload_name}: a fact's `{name}` is {value!r}, not {what} ({fact})")


def fact_names(frame: pd.DataFrame) -> pd.Series:
    return frame["taxonomy"] + ":" + frame["concept"] + " " + frame["unit"] + " accn " + frame["accn"].astype(str)


def parse_dates(values: pd.Series, what: str, rows: pd.Series) -> pd.Series:
    """YYYY-MM-DD dates exactly (a missing one stays missing); PayloadError naming the first that is not."""
    text = values.where(values.isna(), values.astype(str))
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = values.notna() & (parsed.isna() | ~text.fillna("").str.fullmatch(r"\d{4}-\d{2}-\d{2}"))
    if bad.any():
        first = bad.idxmax()
        raise PayloadError(f"{what} is {values[first]!r}, not a YYYY-MM-DD date ({rows[first]})")
    return parsed.dt.date.where(values.notna(), None)


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
    frame = pd.DataFrame({column: table.get(field) for field, column in FILING_FIELDS.items()})
    frame["cik"] = body_cik(data, cik, name) if kind == "submissions" else cik
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
