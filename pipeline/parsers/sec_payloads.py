"""Reading SEC JSON payloads (companyfacts, submissions and their archive files) into frames.

companyfacts nests taxonomy -> concept -> unit -> facts; it is flattened into column lists in
plain Python (one pass, no per-row frame appends), one row per fact as filed: every taxonomy,
every unit, every version.
"""

from __future__ import annotations

import json
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
    try:
        data = json.loads(payload.path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{payload.path.name}: not valid JSON, perhaps truncated ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError(f"{payload.path.name}: expected a JSON object, found {type(data).__name__}")
    return data


def read_companyfacts(payload: PayloadFile) -> pd.DataFrame:
    """One row per fact (FACT_COLUMNS). `period` is `start/end` for durations, `end` for instants."""
    data = load_json(payload)
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise PayloadError(f"{payload.path.name}: no `facts` object; not a companyfacts payload")
    cik = int(data.get("cik") or payload.meta["cik"])
    columns: dict[str, list] = {name: [] for name in ("taxonomy", "concept", "unit", *FACT_FIELDS)}
    taxonomies, concepts, units = columns["taxonomy"], columns["concept"], columns["unit"]
    try:
        for taxonomy, by_concept in facts.items():
            for concept, body in by_concept.items():
                for unit, rows in body["units"].items():
                    taxonomies += [taxonomy] * len(rows)
                    concepts += [concept] * len(rows)
                    units += [unit] * len(rows)
                    for name in FACT_FIELDS:
                        columns[name] += [row.get(name) for row in rows]
    except (AttributeError, KeyError, TypeError) as exc:
        raise PayloadError(f"{payload.path.name}: a fact is not in the companyfacts layout ({exc!r})") from None
    frame = pd.DataFrame(columns)
    frame["cik"] = cik
    frame["val"] = pd.to_numeric(frame["val"], errors="coerce").astype("float64")
    frame["fy"] = pd.array(frame["fy"], dtype="Int64")
    frame["period"] = (frame["start"] + "/" + frame["end"]).where(frame["start"].notna(), frame["end"])
    for name in ("start", "end", "filed"):
        frame[name] = parse_dates(frame[name], payload, name)
    # A fact repeated word for word is one fact; differing values under one key are left for validation.
    return frame.drop_duplicates().loc[:, list(FACT_COLUMNS)].reset_index(drop=True)


def parse_dates(values: pd.Series, payload: PayloadFile, name: str) -> pd.Series:
    try:
        return pd.to_datetime(values, format="%Y-%m-%d").dt.date
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"{payload.path.name}: a fact's `{name}` is not a YYYY-MM-DD date ({exc})") from None


def filings_table(data: dict, kind: str) -> dict:
    """The columnar filings table: `filings.recent` of a submissions file; an archive file is one."""
    return data.get("filings", {}).get("recent", {}) if kind == "submissions" else data


def archive_names(payload: PayloadFile) -> list[str]:
    """The older-filings files a submissions payload lists in `filings.files`."""
    files = load_json(payload).get("filings", {}).get("files") or []
    return [str(entry["name"]) for entry in files if isinstance(entry, dict) and entry.get("name")]


def read_submissions(payload: PayloadFile) -> pd.DataFrame:
    """One row per filing of a submissions or archive payload, with the CIK it is filed under."""
    table = filings_table(load_json(payload), str(payload.meta["kind"]))
    missing = [name for name in REQUIRED_FILING_FIELDS if name not in table]
    if missing:
        raise PayloadError(
            f"{payload.path.name}: no {', '.join(missing)} in the filings table; not a submissions payload"
        )
    lengths = {len(table[name]) for name in FILING_FIELDS if name in table}
    if len(lengths) > 1:
        raise PayloadError(f"{payload.path.name}: filings columns differ in length {sorted(lengths)}")
    frame = pd.DataFrame({column: table.get(name) for name, column in FILING_FIELDS.items()})
    frame["cik"] = int(payload.meta["cik"])
    for column in ("filing_date", "report_date"):
        frame[column] = pd.to_datetime(frame[column].replace("", None), format="%Y-%m-%d").dt.date
    frame["acceptance_datetime"] = pd.to_datetime(frame["acceptance_datetime"], utc=True)
    for column in ("is_xbrl", "is_inline_xbrl"):
        frame[column] = frame[column].astype("boolean")
    frame["size"] = pd.array(frame["size"], dtype="Int64")
    return frame.drop_duplicates("accession_number", keep="last").reset_index(drop=True)
