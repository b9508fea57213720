"""Bad SEC payloads for the corpus (tests/faults/test_bad_inputs.py), each replayed from a folder
holding only sec/ (so the run replays the filings alone): the sample's NVIDIA-like payloads and
NVIDIA's and Microsoft's real ones from ../shared/realdata, each damaged in one way.

The sample's first NVIDIA fact is us-gaap:PaymentsToAcquirePropertyPlantAndEquipment in USD,
2024-01-29/2024-04-28, accession 0001045810-24-000101, filed 2024-05-29; its second, of the same
concept, is accession 0001045810-24-000102. The real NVIDIA submissions' first filing is
0001347842-26-000007, filed 2026-03-04; its second 0001283854-26-000002.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults.bad_inputs_prices import Case

FACTS = "sec/companyfacts"
SUBMISSIONS = "sec/submissions"
NVDA = "CIK0001045810.json"
MSFT = "CIK0000789019.json"
CAPEX = "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment USD"
FIRST = f"({CAPEX} accn 0001045810-24-000101)"
FIRST_ROW = "1045810 us-gaap PaymentsToAcquirePropertyPlantAndEquipment USD 2024-01-29/2024-04-28"

Edit = Callable[[dict], dict | bytes]


def sec_replay(kind: str, name: str, source: Callable[[Path | None], Path], edit: Edit):
    """`run --from` a folder holding only sec/<kind>/<name>: `source`'s payload, edited."""

    def make(tmp: Path, real: Path | None) -> list[str]:
        target = tmp / "replay" / kind / name
        target.parent.mkdir(parents=True)
        data = edit(json.loads(source(real).read_text()))
        target.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
        return ["run", "--from", str(tmp / "replay")]

    return make


def sample(kind: str) -> Callable[[Path | None], Path]:
    return lambda real: SAMPLE_DIR / kind / NVDA


def real(relative: str) -> Callable[[Path | None], Path]:
    return lambda realdata: realdata / "sec" / relative


SAMPLE_FACTS = sample(FACTS)
REAL_SUBMISSIONS = real(f"submissions/{NVDA}")


def facts(edit: Edit, name: str = NVDA, source: Callable[[Path | None], Path] = SAMPLE_FACTS):
    return sec_replay(FACTS, name, source, edit)


def submissions(edit: Edit, source: Callable[[Path | None], Path] = REAL_SUBMISSIONS, name: str = NVDA):
    return sec_replay(SUBMISSIONS, name, source, edit)


def capex_rows(data: dict) -> list[dict]:
    return data["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]


def fact(index: int, field: str, value) -> Edit:
    def edit(data: dict) -> dict:
        capex_rows(data)[index][field] = value
        return data

    return edit


def filing(index: int, field: str, value) -> Edit:
    def edit(data: dict) -> dict:
        data["filings"]["recent"][field][index] = value
        return data

    return edit


def top(field: str, value) -> Edit:
    return lambda data: {**data, field: value}


def twice_with_another_value(data: dict) -> dict:
    capex_rows(data).append({**capex_rows(data)[0], "val": 1})
    return data


def without(index: int, field: str) -> Edit:
    def edit(data: dict) -> dict:
        del capex_rows(data)[index][field]
        return data

    return edit


def truncated(data: dict) -> bytes:
    whole = json.dumps(data).encode()
    return whole[: len(whole) // 2]


def filings_as_list(data: dict) -> dict:
    return {**data, "filings": [data["filings"]["recent"]]}


def columns_of_two_lengths(data: dict) -> dict:
    data["filings"]["recent"]["form"].pop()
    return data


NOT_A_DATE = "not a YYYY-MM-DD date"

CASES = [
    # Identity: the CIK in a companyfacts file's name and in its body, both ways round.
    Case(
        "companyfacts-named-for-nvidia-holding-microsoft",
        facts(lambda d: d, NVDA, real("companyfacts/CIK0000789019.trimmed.json")),
        (f"{NVDA}: its name says CIK 1045810 but its `cik` says 789019", "nothing was loaded"),
        real=True,
    ),
    Case(
        "companyfacts-named-for-microsoft-holding-nvidia",
        facts(lambda d: d, MSFT, real(f"companyfacts/{NVDA}")),
        (f"{MSFT}: its name says CIK 789019 but its `cik` says 1045810",),
        real=True,
    ),
    Case(
        "submissions-named-for-oracle-holding-nvidia",
        submissions(lambda d: d, name="CIK0001341439.json"),
        ("CIK0001341439.json: its name says CIK 1341439 but its `cik` says 1045810",),
        real=True,
    ),
    Case("non-numeric-cik", facts(top("cik", "NVDA")), (f"{NVDA}: its `cik` is 'NVDA', not a CIK number",)),
    Case(
        "non-numeric-cik-real",
        facts(top("cik", "CIK-one"), NVDA, real(f"companyfacts/{NVDA}")),
        (f"{NVDA}: its `cik` is 'CIK-one', not a CIK number",),
        real=True,
    ),
    # Fact values: numbers as JSON numbers, finite; fy a year; dates exactly YYYY-MM-DD.
    Case(
        "fact-value-as-a-string",
        facts(fact(0, "val", "1e3")),
        (f"{NVDA}: a fact's `val` is '1e3', not a finite number {FIRST}",),
    ),
    Case(
        "fact-value-of-1e999",
        facts(lambda d: json.dumps(fact(0, "val", 12345)(d)).replace("12345", "1e999").encode()),
        (f"{NVDA}: a fact's `val` is inf, not a finite number {FIRST}",),
    ),
    Case(
        "fact-value-of-400-digits",
        facts(lambda d: json.dumps(fact(0, "val", 12345)(d)).replace("12345", "9" * 400).encode()),
        (f"{NVDA}: a fact's `val` is {'9' * 400}, not a finite number {FIRST}",),
    ),
    Case("fact-value-true", facts(fact(0, "val", True)), (f"a fact's `val` is True, not a finite number {FIRST}",)),
    Case(
        "fy-FY2024", facts(fact(0, "fy", "FY2024")), (f"{NVDA}: a fact's `fy` is 'FY2024', not a whole year {FIRST}",)
    ),
    Case(
        "fact-end-with-trailing-garbage",
        facts(fact(0, "end", "2025-07-2499")),
        (f"{NVDA}: a fact's `end` is '2025-07-2499', {NOT_A_DATE} {FIRST}",),
    ),
    Case(
        "fact-filed-in-mixed-formats",
        facts(fact(1, "filed", "28/08/2024")),
        (f"{NVDA}: a fact's `filed` is '28/08/2024', {NOT_A_DATE} ({CAPEX} accn 0001045810-24-000102)",),
    ),
    # Submissions.
    Case(
        "submissions-filings-is-a-list",
        submissions(filings_as_list),
        (f"{NVDA}: `filings` is not an object with `recent` filings (list); not submissions",),
        real=True,
    ),
    Case(
        "filing-date-as-03-04-2026",
        submissions(filing(0, "filingDate", "03/04/2026")),
        (f"{NVDA}: a filing's `filingDate` is '03/04/2026', {NOT_A_DATE} (accn 0001347842-26-000007)",),
        real=True,
    ),
    Case(
        "acceptance-times-in-mixed-formats",
        submissions(filing(1, "acceptanceDateTime", "03/04/2026 17:32:42")),
        (
            f"{NVDA}: a filing's `acceptanceDateTime` is '03/04/2026 17:32:42', not ISO 8601 "
            "(accn 0001283854-26-000002)",
        ),
        real=True,
    ),
    Case(
        "filing-without-a-filing-date",
        submissions(filing(0, "filingDate", "")),
        (
            f"{NVDA}: filing 1 of its table has no `filingDate` (accn 0001347842-26-000007); "
            "SEC fills it for every filing",
        ),
        real=True,
    ),
    Case(
        "filing-without-an-accession-number",
        submissions(filing(0, "accessionNumber", None)),
        (f"{NVDA}: filing 1 of its table has no `accessionNumber`; SEC fills it for every filing",),
        real=True,
    ),
    Case(
        "filings-columns-of-two-lengths",
        submissions(columns_of_two_lengths, sample(SUBMISSIONS)),
        (f"{NVDA}: filings columns differ in length",),
    ),
    Case(
        "filings-column-not-a-list",
        submissions(lambda d: {**d, "filings": {"recent": {**d["filings"]["recent"], "form": "10-K"}}}),
        (f"{NVDA}: filings column 'form' is not a list",),
        real=True,
    ),
    # Not JSON, or not an SEC payload.
    Case(
        "json-nested-100000-deep",
        facts(lambda d: b"[" * 100_000 + b"]" * 100_000),
        (f"{NVDA}: JSON nested too deeply to be an SEC payload",),
    ),
    Case("truncated-json", facts(truncated), (f"{NVDA}: not valid JSON, perhaps truncated",)),
    Case("latin-1-bytes", facts(lambda d: '{"cik": "é"}'.encode("latin-1")), (f"{NVDA}: not valid JSON",)),
    Case("a-json-array", facts(lambda d: [d]), (f"{NVDA}: expected a JSON object, found list",)),
    Case("no-facts-object", facts(lambda d: {"cik": 1045810}), (f"{NVDA}: no `facts` object",)),
    Case(
        "not-an-sec-payload-name",
        facts(lambda d: d, "nvidia.json"),
        ("nvidia.json: not an SEC payload name (expected CIK##########[-submissions-NNN].json)",),
    ),
    # Critical expectations on the facts.
    Case(
        "fact-filed-in-2031",
        facts(fact(0, "filed", "2031-01-02")),
        (
            "validation of raw_xbrl_facts failed: filed on or before the run date (today in New York) failed on 1 row: "
            f"{FIRST_ROW} 0001045810-24-000101",
        ),
    ),
    Case(
        "malformed-accession",
        facts(fact(0, "accn", "45810-24-101")),
        (f"accession number is ##########-##-###### failed on 1 row: {FIRST_ROW} 45810-24-101",),
    ),
    Case(
        "one-fact-two-values",
        facts(twice_with_another_value),
        (
            "one value per (cik, taxonomy, concept, unit, period, accn) failed on 2 rows: "
            f"{FIRST_ROW} 0001045810-24-000101, {FIRST_ROW} 0001045810-24-000101",
        ),
    ),
    Case(
        "fact-without-accession",
        facts(without(0, "accn")),
        (f"accn is not null failed on 1 row: {FIRST_ROW}",),
    ),
]
