"""Builds a synthetic SEC bulk set, companyfacts.zip and submissions.zip in SEC's layout, from the
real payloads in ../shared/realdata/sec, for tests and benchmarks. SYNTHETIC: real filings under
made-up CIKs, not what those CIKs filed.

    .venv/bin/python sample/generate_bulk.py OUT_DIR [--companies N] [--realdata DIR]

Company i (counting from 0) is CIK FIRST_CIK + i. Its companyfacts member CIK##########.json is
the i-th real companyfacts payload (cycling through them in name order) and its submissions
member the i-th real submissions payload, each with the body's `cik` rewritten. Its submissions
are split as SEC splits a long history: the newest RECENT_FILINGS filings stay in
`filings.recent`, the older ones move to CIK##########-submissions-001.json, which `filings.files`
names. The same arguments write byte-identical archives.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

FIRST_CIK = 9_000_001
RECENT_FILINGS = 800
STAMP = (2026, 11, 1, 0, 0, 0)  # every member's time in the archive: the output does not depend on when it ran
PLACEHOLDER = "__CIK__"


def template(path: Path) -> tuple[dict, bytes]:
    """The payload at `path` and its minified JSON with the `cik` value left as a placeholder."""
    data = json.loads(path.read_bytes())
    return data, json.dumps({**data, "cik": PLACEHOLDER}, separators=(",", ":")).encode()


def with_cik(body: bytes, cik: str | int) -> bytes:
    return body.replace(json.dumps(PLACEHOLDER).encode(), json.dumps(cik).encode(), 1)


def split_submissions(data: dict, cik: int) -> tuple[dict, dict | None]:
    """The submissions with only the newest RECENT_FILINGS in `recent`, and the archive file
    holding the rest (None when there is no rest)."""
    recent = data["filings"]["recent"]
    count = len(recent["accessionNumber"])
    if count <= RECENT_FILINGS:
        return {**data, "filings": {"recent": recent, "files": []}}, None
    older = {field: values[RECENT_FILINGS:] for field, values in recent.items()}
    name = f"CIK{cik:010d}-submissions-001.json"
    listed = {
        "name": name,
        "filingCount": count - RECENT_FILINGS,
        "filingFrom": min(older["filingDate"]),
        "filingTo": max(older["filingDate"]),
    }
    newest = {field: values[:RECENT_FILINGS] for field, values in recent.items()}
    return {**data, "filings": {"recent": newest, "files": [listed]}}, older


def add(archive: zipfile.ZipFile, name: str, body: bytes) -> None:
    archive.writestr(zipfile.ZipInfo(name, STAMP), body, zipfile.ZIP_DEFLATED, compresslevel=1)


def write_bulk_zips(out_dir: Path, companies: int, realdata: Path) -> list[int]:
    """Write OUT_DIR/companyfacts.zip and OUT_DIR/submissions.zip for `companies` companies; their CIKs."""
    facts = [template(p) for p in sorted((realdata / "sec" / "companyfacts").glob("CIK*.json"))]
    submissions = [json.loads(p.read_bytes()) for p in sorted((realdata / "sec" / "submissions").glob("CIK*.json"))]
    if not facts or not submissions:
        raise SystemExit(f"{realdata / 'sec'} has no companyfacts/CIK*.json or submissions/CIK*.json to build from")
    ciks = [FIRST_CIK + i for i in range(companies)]
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_dir / "companyfacts.zip", "w") as archive:
        for i, cik in enumerate(ciks):
            data, body = facts[i % len(facts)]
            stated = f"{cik:010d}" if isinstance(data["cik"], str) else cik  # as the real payload types it
            add(archive, f"CIK{cik:010d}.json", with_cik(body, stated))
    with zipfile.ZipFile(out_dir / "submissions.zip", "w") as archive:
        for i, cik in enumerate(ciks):
            data = submissions[i % len(submissions)]
            main, older = split_submissions(data, cik)
            stated = f"{cik:010d}" if isinstance(data["cik"], str) else cik
            add(archive, f"CIK{cik:010d}.json", json.dumps({**main, "cik": stated}, separators=(",", ":")).encode())
            if older is not None:
                add(archive, f"CIK{cik:010d}-submissions-001.json", json.dumps(older, separators=(",", ":")).encode())
    return ciks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--realdata", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "realdata")
    args = parser.parse_args()
    ciks = write_bulk_zips(args.out_dir, args.companies, args.realdata)
    print(f"{args.out_dir}: companyfacts.zip and submissions.zip, {len(ciks)} companies, CIK {ciks[0]} .. {ciks[-1]}")


if __name__ == "__main__":
    main()
