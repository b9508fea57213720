"""The members of SEC's bulk archives: listing them, and staging one (the mapped task).

Listing reads only an archive's directory (names, sizes, CRC-32s, offsets). Staging one member
reads that member alone from where the directory says it lies (no worker reads an archive's
directory, which for submissions.zip lists every EDGAR filer), parses it, validates companyfacts
with the raw_xbrl_facts suite (a fact failing a warning is staged flagged), and writes one parquet
partition:

    DATA_DIR/staged/xbrl_facts/bucket=NN/CIK##########.parquet                 (NN: CIK mod 100)
    DATA_DIR/staged/filings/bucket=NN/CIK##########[-submissions-NNN].parquet

A task gets a picklable Member and returns a small MemberResult: workers (threads, or Dask
processes) hold no open file, client or connection between tasks, and never open DuckDB. A member
that cannot be read, parsed or validated comes back with the one-line reason instead of raising,
so it does not sink the others.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expectations import raw_xbrl_facts
from expectations.validate import WARNING, flagged, report_findings, run_suite
from pipeline.ingest.filings import fact_limits
from pipeline.payloads.sec_payloads import FILE_NAME, companyfacts_frame, identify, submissions_frame
from pipeline.runtime.errors import PayloadError
from pipeline.runtime.settings import Settings
from warehouse.files import write_atomic

COMPANYFACTS = "companyfacts.zip"
LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length
LOCAL_SIGNATURE = b"PK\x03\x04"
BUCKETS = 100

# The staged columns, typed as raw.xbrl_facts and raw.filings have them, so every partition has
# one schema (a member whose `frame` is null throughout would otherwise stage a null column).
FACTS_SCHEMA = pa.schema(
    [
        ("cik", pa.int64()),
        ("taxonomy", pa.string()),
        ("concept", pa.string()),
        ("unit", pa.string()),
        ("period", pa.string()),
        ("start", pa.date32()),
        ("end", pa.date32()),
        ("val", pa.float64()),
        ("accn", pa.string()),
        ("fy", pa.int32()),
        ("fp", pa.string()),
        ("form", pa.string()),
        ("filed", pa.date32()),
        ("frame", pa.string()),
        ("flags", pa.string()),
        ("payload_sha256", pa.string()),
    ]
)
FILINGS_SCHEMA = pa.schema(
    [
        ("cik", pa.int64()),
        ("accession_number", pa.string()),
        ("form", pa.string()),
        ("filing_date", pa.date32()),
        ("report_date", pa.date32()),
        ("acceptance_datetime", pa.timestamp("us", tz="UTC")),
        ("act", pa.string()),
        ("file_number", pa.string()),
        ("film_number", pa.string()),
        ("items", pa.string()),
        ("core_type", pa.string()),
        ("size", pa.int64()),
        ("is_xbrl", pa.bool_()),
        ("is_inline_xbrl", pa.bool_()),
        ("primary_document", pa.string()),
        ("primary_doc_description", pa.string()),
        ("payload_sha256", pa.string()),
    ]
)


class Member(NamedTuple):
    """One member of an archive, as its directory describes it: enough to read it alone."""

    archive: str  # the zip's path
    name: str
    size: int
    crc32: int
    offset: int  # of its local header
    compressed_size: int
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED

    @property
    def archive_name(self) -> str:
        return Path(self.archive).name


class Flagged(NamedTuple):
    """A warning a staged member's facts failed: they loaded, flagged with `expectation`."""

    expectation: str
    rows: int
    summary: str  # `new unit flagged on 12 rows: ...`


class MemberResult(NamedTuple):
    archive: str  # the archive's name, companyfacts.zip or submissions.zip
    member: str
    size: int
    crc32: int
    cik: int | None
    rows: int
    staged_path: str | None
    error: str | None  # the one-line reason it did not stage; None when it did
    warnings: tuple[Flagged, ...] = ()


def list_members(path: Path) -> tuple[list[Member], list[str]]:
    """The SEC payload members of the zip at `path`, from its directory alone; and the names of
    the members that are not SEC payloads (skipped). PayloadError when it is not a zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise PayloadError(f"{path}: not a readable zip archive ({exc})") from None
    members = [
        Member(str(path), i.filename, i.file_size, i.CRC, i.header_offset, i.compress_size, i.compress_type)
        for i in infos
        if FILE_NAME.match(i.filename) and i.filename.endswith(".json")
    ]
    named = {m.name for m in members}
    return members, [i.filename for i in infos if i.filename not in named and not i.is_dir()]


def payload_id(member: Member) -> str:
    """The identity of a member's rows in raw.* (their payload_sha256): stable while it is unchanged."""
    return f"bulk:{member.archive_name}/{member.name}@{member.crc32:08x}"


def staged_path(settings: Settings, member: Member, cik: int) -> Path:
    table = "xbrl_facts" if member.archive_name == COMPANYFACTS else "filings"
    return settings.paths.staged / table / f"bucket={cik % BUCKETS:02d}" / Path(member.name).with_suffix(".parquet")


def read_member(member: Member) -> bytes:
    """The member's bytes, read from its local header on; PayloadError when they do not match the
    directory's size and CRC-32."""
    with open(member.archive, "rb") as handle:
        handle.seek(member.offset)
        signature, name_length, extra_length = LOCAL_HEADER.unpack(handle.read(LOCAL_HEADER.size))
        if signature != LOCAL_SIGNATURE:
            raise PayloadError(f"{member.name}: no local header where the directory of {member.archive_name} puts it")
        handle.seek(name_length + extra_length, io.SEEK_CUR)
        stored = handle.read(member.compressed_size)
    if member.method == zipfile.ZIP_DEFLATED:
        try:
            body = zlib.decompress(stored, -zlib.MAX_WBITS)
        except zlib.error as exc:
            raise PayloadError(f"{member.name}: damaged in {member.archive_name} ({exc})") from None
    elif member.method == zipfile.ZIP_STORED:
        body = stored
    else:
        raise PayloadError(f"{member.name}: compressed with zip method {member.method}, which is not read here")
    if len(body) != member.size or zlib.crc32(body) != member.crc32:
        raise PayloadError(f"{member.name}: its bytes do not match its size and CRC-32 in {member.archive_name}")
    return body


def stage_member(settings: Settings, run_date: dt.date, known_units: frozenset[str], member: Member) -> MemberResult:
    """Read, parse, validate and stage one member; its result, with the reason where it failed.
    companyfacts: a fact filed after `run_date` fails the member; a fact failing a warning (a unit
    not in `known_units`, those the warehouse held when the run started) is staged flagged."""
    cik: int | None = None
    warnings: tuple[Flagged, ...] = ()
    try:
        meta = identify(Path(member.name), "submissions")
        cik = int(meta["cik"])
        body = read_member(member)
        if member.archive_name == COMPANYFACTS:
            frame, schema = companyfacts_frame(body, member.name, cik), FACTS_SCHEMA
            frame, warnings = validated_facts(frame, run_date, known_units, fact_limits(settings), member.name)
        else:
            frame, schema = submissions_frame(body, member.name, cik, str(meta["kind"])), FILINGS_SCHEMA
        path = staged_path(settings, member, cik)
        write_atomic(path, parquet_bytes(frame.assign(payload_sha256=payload_id(member)), schema, member.name))
    except PayloadError as exc:
        return MemberResult(member.archive_name, member.name, member.size, member.crc32, cik, 0, None, str(exc))
    return MemberResult(
        member.archive_name, member.name, member.size, member.crc32, cik, len(frame), str(path), None, warnings
    )


def validated_facts(
    frame: pd.DataFrame, run_date: dt.date, known_units: frozenset[str], limits: raw_xbrl_facts.Limits, name: str
) -> tuple[pd.DataFrame, tuple[Flagged, ...]]:
    """The member's facts with their flags, and the warnings they failed; PayloadError naming the
    critical expectations that failed, and their rows."""
    checked = run_suite(
        raw_xbrl_facts.suite, raw_xbrl_facts.prepare(frame, run_date, known_units, limits), raw_xbrl_facts.ID_COLUMNS
    )
    found = report_findings(checked.report)
    if not checked.success:
        critical = "; ".join(f.summary for f in found if f.severity != WARNING)
        raise PayloadError(f"{name}: validation of {checked.suite} failed: {critical}")
    warnings = tuple(Flagged(f.expectation, len(f.rows), f.summary) for f in found if f.severity == WARNING)
    return flagged(frame, found, raw_xbrl_facts.ID_COLUMNS), warnings


def parquet_bytes(frame: pd.DataFrame, schema: pa.Schema, name: str) -> bytes:
    """The frame as parquet in `schema`; PayloadError when a value does not fit its column (a
    `form` given as a number): the parsers check the fields they derive from, not every one."""
    try:
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise PayloadError(f"{name}: a value does not fit its column ({exc})") from None
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
