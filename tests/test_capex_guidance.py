"""The guidance ledger: the committed file, its validation by line, and marts.capex_guidance.

Expected figures are read off /work/shared/reference/capex_guidance.csv by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from pipeline.payloads import seeds
from pipeline.runtime.errors import PipelineError, SeedError
from pipeline.runtime.settings import Settings
from tests.conftest import PROJECT, copied

REFERENCE = PROJECT.parent / "shared" / "reference" / "capex_guidance.csv"
LEDGER_LINES = Settings().guidance_ledger.read_text().splitlines(keepends=True)


def line_of(start: str) -> int:
    """The file line (1 = header) of the one ledger row that starts with `start`: rows are found by
    what they say, so adding statements to the ledger moves no test."""
    [line] = [n for n, text in enumerate(LEDGER_LINES, start=1) if text.startswith(start)]
    return line


def ledger_with(tmp_path: Path, line: int, old: str, new: str) -> Path:
    """A copy of the committed ledger with `old` replaced by `new` on file line `line` (1 = header)."""
    lines = list(LEDGER_LINES)
    assert old in lines[line - 1], f"line {line} has no {old!r}: {lines[line - 1]}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path = tmp_path / "capex_guidance.csv"
    path.write_text("".join(lines))
    return path


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def loaded(sample_run, tmp_path_factory) -> Settings:
    """One good daily run on the sample prices and the committed ledger, copied: the cases record
    their failed builds in it."""
    settings, _ = sample_run
    return settings.replace(data_dir=copied(settings.data_dir, tmp_path_factory.mktemp("guidance") / "var"))


def test_ledger_keeps_every_reference_row_and_source():
    if not REFERENCE.exists():
        pytest.skip(f"reference facts not found at {REFERENCE}")
    with REFERENCE.open(newline="") as f:
        reference = [{("quote" if k == "wording" else k): v for k, v in r.items()} for r in csv.DictReader(f)]
    with Settings().guidance_ledger.open(newline="") as f:
        ledger = {(r["ticker"], r["fiscal_period"], r["statement_date"]): r for r in csv.DictReader(f)}
    for ref in reference:
        row = ledger[(ref["ticker"], ref["fiscal_period"], ref["statement_date"])]
        assert {k: row[k] for k in ref} == ref
    assert all(row["source_url"].startswith("https://") and row["quote"] for row in ledger.values())


def test_meta_2025_outlook_reads_as_a_revision_chain(loaded):
    with duckdb.connect(str(loaded.paths.warehouse), read_only=True) as con:
        chain = rows(
            con,
            """
            select cast(statement_date as varchar), low_usd_bn, high_usd_bn, mid_usd_bn, revision_number,
                   cast(revises_statement_date as varchar), previous_low_usd_bn, previous_high_usd_bn,
                   change_in_mid_usd_bn
            from marts.capex_guidance where ticker = 'META' and fiscal_period = 'FY2025' order by statement_date""",
        )
    assert chain == [
        ("2025-01-29", 60, 65, 62.5, 0, None, None, None, None),
        ("2025-04-30", 64, 72, 68.0, 1, "2025-01-29", 60, 65, 5.5),
        ("2025-07-30", 66, 72, 69.0, 2, "2025-04-30", 64, 72, 1.0),
        ("2025-10-29", 70, 72, 71.0, 3, "2025-07-30", 66, 72, 2.0),
    ]


def test_googl_fy2026_guidance_of_175_to_185_has_midpoint_180(loaded):
    with duckdb.connect(str(loaded.paths.warehouse), read_only=True) as con:
        first = rows(
            con,
            """
            select statement_id, fiscal_year, period_kind, low_usd_bn, high_usd_bn, mid_usd_bn, basis,
                   cast(superseded_on as varchar)
            from marts.capex_guidance where ticker = 'GOOGL' and fiscal_period = 'FY2026' and revision_number = 0""",
        )
        validated = rows(con, "select suite, success from meta.validations where suite like '%capex_guidance'")
    assert first == [
        (
            "GOOGL|FY2026|2026-02-04",
            2026,
            "fiscal_year",
            175,
            185,
            180,
            "cash purchases of property and equipment",
            "2026-04-01",
        )
    ]
    assert sorted(validated) == [("capex_guidance", True), ("raw_capex_guidance", True)]


# The row (found by how it starts), the text on it and its replacement: the reason the run must
# give, where {line} is that row's file line.
META_2025_01 = "META,2025-01-29,day,FY2025"
BAD_ROWS = {
    "high below low": (
        (META_2025_01, "FY2025,60,65,", "FY2025,65,60,"),
        "low_usd_bn <= high_usd_bn failed on 1 row: line {line} META FY2025 2025-01-29",
    ),
    "unknown ticker": (("MSFT,2025-01-03", "MSFT,", "AAPL,"), "ticker is a known company"),
    "date that does not parse": (
        ("MSFT,2025-10-29", "2025-10-29", "2025-10-32"),
        "line {line}: statement_date '2025-10-32' is not a date",
    ),
    "figure that is not a number": (
        ("ORCL,2025-09-09", ",,,35,", ",,,about 35,"),
        "line {line}: point_usd_bn 'about 35' is not a number",
    ),
    "no figure, not qualitative": (
        ("MSFT,2025-10-29", ",true,", ",false,"),
        "a figure, or qualitative = true with no figure failed on 1 row: line {line} MSFT",
    ),
    "duplicate statement": (
        ("META,2025-04-30,day,FY2025", "2025-04-30", "2025-01-29"),
        "one statement per (ticker, fiscal_period, statement_date) failed on 2 rows: "
        f"line {line_of(META_2025_01)} META FY2025 2025-01-29, line {{line}} META FY2025 2025-01-29",
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_a_bad_row_names_file_line_and_reason_and_loads_nothing(loaded, tmp_path, case):
    from pipeline.build.run import build

    (start, old, new), reason = BAD_ROWS[case]
    line = line_of(start)
    reason = reason.format(line=line)
    broken = loaded.replace(guidance_ledger=ledger_with(tmp_path, line, old, new))
    with duckdb.connect(str(loaded.paths.warehouse), read_only=True) as con:
        before = rows(con, "select * from raw.capex_guidance order by all")
    with pytest.raises(PipelineError) as failure:
        build(broken)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(f"{broken.guidance_ledger}")
    assert f"line {line}" in message and reason in message
    with duckdb.connect(str(loaded.paths.warehouse), read_only=True) as con:
        assert rows(con, "select * from raw.capex_guidance order by all") == before
        assert rows(con, "select status, message from meta.runs order by started_at desc limit 1") == [
            ("failed", message)
        ]
    assert len(before) == len(LEDGER_LINES) - 1


def test_a_row_with_too_many_cells_names_its_line(tmp_path):
    path = ledger_with(tmp_path, 3, ",seen", ",seen,extra")
    with pytest.raises(SeedError, match=r"capex_guidance.csv line 3: 13 cells where the header has 12$"):
        seeds.read(seeds.GUIDANCE, Settings(guidance_ledger=path))
