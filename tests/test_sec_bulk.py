"""SEC bulk mode: synthetic companyfacts.zip and submissions.zip built from ../shared/realdata/sec
(sample/generate_bulk.py), read member by member with the Direct steps, no Prefect.

Expected counts are read from the real JSON payloads here with json, never from the pipeline.
"""

from __future__ import annotations

import json
import shutil
import threading
import zipfile
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest

from pipeline.ingest.bulk import groups, ingest_sec_bulk
from pipeline.ingest.bulk_members import Member
from pipeline.runtime.settings import Settings
from pipeline.sources.bulk import LiveSecBulk, ReplaySecBulk
from pipeline.sources.sec import LiveSecClient
from sample.generate_bulk import FIRST_CIK, RECENT_FILINGS, write_bulk_zips
from tests.conftest import summary_lines

pytestmark = pytest.mark.slow  # twenty companies' bulk archives written and loaded

COMPANIES = 20
USER_AGENT = "Bulk Test bulk-test@example.com"
NEW_ACCN = "0009999999-26-000001"


def distinct_facts(path: Path) -> int:
    """Facts in a companyfacts file, a row repeated word for word counted once."""
    data = json.loads(path.read_bytes())
    return len(
        {
            (taxonomy, concept, unit, json.dumps(row, sort_keys=True))
            for taxonomy, concepts in data["facts"].items()
            for concept, body in concepts.items()
            for unit, rows in body["units"].items()
            for row in rows
        }
    )


def expected_per_company(realdata: Path, companies: int) -> tuple[dict[int, int], dict[int, int]]:
    """CIK -> facts and CIK -> filings, as the builder documents its cycling through the real files."""
    facts = [distinct_facts(p) for p in sorted((realdata / "sec" / "companyfacts").glob("CIK*.json"))]
    filings = [
        len(set(json.loads(p.read_bytes())["filings"]["recent"]["accessionNumber"]))
        for p in sorted((realdata / "sec" / "submissions").glob("CIK*.json"))
    ]
    ciks = range(FIRST_CIK, FIRST_CIK + companies)
    return (
        {cik: facts[i % len(facts)] for i, cik in enumerate(ciks)},
        {cik: filings[i % len(filings)] for i, cik in enumerate(ciks)},
    )


@pytest.fixture(scope="module")
def bulk_set(realdata, tmp_path_factory) -> Path:
    """A replay folder holding sec/bulk/companyfacts.zip and submissions.zip for 20 companies."""
    folder = tmp_path_factory.mktemp("bulk-set")
    write_bulk_zips(folder / "sec" / "bulk", COMPANIES, realdata)
    return folder


@pytest.fixture(scope="module")
def first_run(bulk_set, tmp_path_factory):
    """The bulk set loaded once into an empty warehouse: (its settings, the result)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("first-run") / "var")
    return settings, ingest_sec_bulk(settings, ReplaySecBulk(bulk_set))


def copied(settings: Settings, tmp_path: Path) -> Settings:
    """The first run's data directory, copied, for a test that runs again on it."""
    shutil.copytree(settings.data_dir, tmp_path / "var")
    return Settings(data_dir=tmp_path / "var")


def rewritten(folder: Path, target: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of the replay folder `folder` at `target` whose companyfacts.zip is written anew,
    the members named in `changes` changed by them."""
    shutil.copytree(folder, target)
    archive = target / "sec" / "bulk" / "companyfacts.zip"
    with (
        zipfile.ZipFile(folder / "sec" / "bulk" / "companyfacts.zip") as old,
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            body = old.read(info)
            new.writestr(info.filename, changes[info.filename](body) if info.filename in changes else body)
    return target


def member(cik: int) -> str:
    return f"CIK{cik:010d}.json"


def with_new_version(body: bytes) -> bytes:
    """One more version of the first USD fact of the first concept: a restatement filed later."""
    data = json.loads(body)
    concept = next(iter(data["facts"]["us-gaap"].values()))
    first = concept["units"]["USD"][0]
    concept["units"]["USD"].append({**first, "accn": NEW_ACCN, "val": 123_456_789, "filed": "2026-11-02"})
    return json.dumps(data).encode()


def counts(settings: Settings, table: str) -> dict[int, int]:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return dict(con.execute(f"select cik, count(*) from {table} group by cik").fetchall())


def manifest(settings: Settings) -> dict[tuple[str, str], str]:
    """(archive, member) -> the run that last loaded it."""
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        rows = con.execute("select archive, member, run_id from meta.bulk_members").fetchall()
    return {(archive, name): run_id for archive, name, run_id in rows}


def test_a_bulk_run_loads_every_company(first_run, realdata):
    settings, result = first_run
    facts, filings = expected_per_company(realdata, COMPANIES)
    assert counts(settings, "raw.xbrl_facts") == facts
    assert counts(settings, "raw.filings") == filings
    assert (result.facts, result.filings, result.failed) == (sum(facts.values()), sum(filings.values()), {})
    # Every company's submissions outgrow `recent`, so each has an older-filings member too.
    assert result.members == len(manifest(settings)) == 3 * COMPANIES
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        # NVIDIA's FY2026 capex (the realdata README), under the second company's CIK.
        capex = con.execute(
            "select val, payload_sha256 from raw.xbrl_facts where cik = ? and concept = ? and period = ? and form = ?",
            [FIRST_CIK + 1, "PaymentsToAcquireProductiveAssets", "2025-01-27/2026-01-25", "10-K"],
        ).fetchall()
    assert [val for val, _ in capex] == [6042e6]
    assert capex[0][1].startswith(f"bulk:companyfacts.zip/{member(FIRST_CIK + 1)}@")
    bucket = f"bucket={(FIRST_CIK + 1) % 100:02d}"
    assert (settings.paths.staged / "xbrl_facts" / bucket / f"CIK{FIRST_CIK + 1:010d}.parquet").is_file()
    assert (settings.paths.staged / "filings" / bucket / f"CIK{FIRST_CIK + 1:010d}-submissions-001.parquet").is_file()
    assert filings[FIRST_CIK] > RECENT_FILINGS


def test_a_later_run_parses_only_the_changed_members(first_run, bulk_set, realdata, tmp_path):
    settings = copied(first_run[0], tmp_path)
    first = manifest(settings)
    changed = {member(FIRST_CIK + 1): with_new_version, member(FIRST_CIK + 4): with_new_version}
    folder = rewritten(bulk_set, tmp_path / "next-night", changed)
    result = ingest_sec_bulk(settings, ReplaySecBulk(folder))
    assert sorted(r.member for r in result.parsed) == sorted(changed)
    facts, _ = expected_per_company(realdata, COMPANIES)
    assert counts(settings, "raw.xbrl_facts") == {
        cik: n + (cik in (FIRST_CIK + 1, FIRST_CIK + 4)) for cik, n in facts.items()
    }
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        restated = con.execute("select cik, val from raw.xbrl_facts where accn = ? order by cik", [NEW_ACCN]).fetchall()
    assert restated == [(FIRST_CIK + 1, 123_456_789.0), (FIRST_CIK + 4, 123_456_789.0)]
    after = manifest(settings)
    assert {key for key in after if after[key] != first[key]} == {("companyfacts.zip", name) for name in changed}
    assert {after[("companyfacts.zip", name)] for name in changed} == {result.run_id}


def test_an_unchanged_run_parses_nothing(first_run, bulk_set, tmp_path, monkeypatch):
    settings = copied(first_run[0], tmp_path)
    before = counts(settings, "raw.xbrl_facts")

    def unread(member):
        raise AssertionError(f"{member.name} was read")

    monkeypatch.setattr("pipeline.ingest.bulk_members.read_member", unread)
    result = ingest_sec_bulk(settings, ReplaySecBulk(bulk_set))
    assert (result.parsed, result.facts, result.filings) == ((), 0, 0)
    assert counts(settings, "raw.xbrl_facts") == before
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        message = con.execute("select message from meta.runs where run_id = ?", [result.run_id]).fetchone()[0]
    assert message.endswith(f"; {3 * COMPANIES} unchanged member(s) skipped")


def test_a_broken_member_is_named_and_the_others_load(bulk_set, realdata, tmp_path):
    broken = member(FIRST_CIK + 2)
    folder = rewritten(bulk_set, tmp_path / "broken", {broken: lambda body: body[: len(body) // 2]})
    settings = Settings(data_dir=tmp_path / "var")
    result = ingest_sec_bulk(settings, ReplaySecBulk(folder))
    [(item, why)] = result.failed.items()
    assert item == f"companyfacts.zip/{broken}"
    assert why.startswith(f"{broken}: not valid JSON")
    assert why in result.notes
    facts, _ = expected_per_company(realdata, COMPANIES)
    del facts[FIRST_CIK + 2]
    assert counts(settings, "raw.xbrl_facts") == facts
    assert ("companyfacts.zip", broken) not in manifest(settings)  # tried again next time
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        status, message, failed = con.execute(
            "select status, message, failed from meta.runs where run_id = ?", [result.run_id]
        ).fetchone()
        validated = con.execute(
            "select success, failed from meta.validations where run_id = ?", [result.run_id]
        ).fetchone()
    assert (status, json.loads(failed)) == ("partial", {item: why})
    assert message.endswith(f"; 1 member(s) not loaded: companyfacts.zip/{broken}")
    assert validated == (False, 1)


def with_infinite_value(body: bytes) -> bytes:
    """The first USD fact's value written as 1e999: JSON that reads as infinity, not a number SEC serves."""
    data = json.loads(body)
    concept = next(iter(data["facts"]["us-gaap"].values()))
    concept["units"]["USD"][0]["val"] = 424242
    return json.dumps(data).replace("424242", "1e999", 1).encode()


def test_the_command_names_a_broken_member_and_exits_3(bulk_set, realdata, tmp_path, capsys):
    """A bulk replay with no prices: every member but the broken one loads, the SEC marts build and
    publish, and `thesis run` ends with the member named in one line and exit status 3."""
    from cli.main import main

    broken = member(FIRST_CIK + 5)
    folder = rewritten(bulk_set, tmp_path / "night", {broken: with_infinite_value})
    data_dir = tmp_path / "var"
    capsys.readouterr()
    assert main(["run", "--sec-bulk", "--from", str(folder), "--data-dir", str(data_dir)]) == 3
    out, err = capsys.readouterr()
    item = f"companyfacts.zip/{broken}"
    why = f"{broken}: a fact's `val` is inf, not a finite number ("
    [line] = err.splitlines()
    assert line.startswith(f"failed: {item} ({why}")
    lines = summary_lines(out)
    assert lines[1].endswith(" loaded with 1 failure (see Failed below).")
    assert lines[lines.index("Failed (not loaded; the rest was):") + 1].startswith(f"  {item} {why}")
    settings = Settings(data_dir=data_dir)
    facts, _ = expected_per_company(realdata, COMPANIES)
    del facts[FIRST_CIK + 5]
    assert counts(settings, "raw.xbrl_facts") == facts
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        [(status, failed)] = con.execute("select status, failed from meta.runs").fetchall()
    assert status == "partial" and list(json.loads(failed)) == [item]
    assert json.loads(failed)[item].startswith(why)
    with duckdb.connect(str(settings.paths.analyst_copy), read_only=True) as con:  # the published copy says so too
        assert con.execute("select status, failed from meta.runs").fetchall() == [(status, failed)]


class BulkServer(BaseHTTPRequestHandler):
    """Serves `files` with an ETag each, answering 304 to a matching If-None-Match; notes every request."""

    files: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("User-Agent"), self.headers.get("If-None-Match")))
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = f'"{len(body)}-{zlib.crc32(body)}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_live_source_downloads_once_and_asks_conditionally(realdata, tmp_path):
    write_bulk_zips(tmp_path / "served", 1, realdata)
    BulkServer.files = {f"/bulk/{name}": (tmp_path / "served" / name).read_bytes() for name in ("companyfacts.zip",)}
    BulkServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BulkServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/bulk/companyfacts.zip"
        source = LiveSecBulk(LiveSecClient(USER_AGENT), {"companyfacts.zip": url})
        settings = Settings(data_dir=tmp_path / "var", fetch_retries=0)
        first = ingest_sec_bulk(settings, source)
        stored = settings.paths.raw / "sec" / "bulk" / "companyfacts.zip"
        assert stored.read_bytes() == BulkServer.files["/bulk/companyfacts.zip"]
        assert json.loads((stored.parent / "companyfacts.zip.meta.json").read_text())["url"] == url
        stamp = stored.stat().st_mtime_ns
        second = ingest_sec_bulk(settings, source)
    finally:
        server.shutdown()
        server.server_close()
    facts, _ = expected_per_company(realdata, 1)
    assert (first.facts, [r.member for r in first.parsed]) == (facts[FIRST_CIK], [member(FIRST_CIK)])
    assert (second.facts, second.parsed) == (0, ())
    assert second.notes == (f"companyfacts.zip: unchanged at {url} since it was downloaded to {stored}",)
    assert stored.stat().st_mtime_ns == stamp
    etag = (
        f'"{len(BulkServer.files["/bulk/companyfacts.zip"])}-{zlib.crc32(BulkServer.files["/bulk/companyfacts.zip"])}"'
    )
    assert BulkServer.seen == [
        ("/bulk/companyfacts.zip", USER_AGENT, None),
        ("/bulk/companyfacts.zip", USER_AGENT, etag),
    ]


def test_the_flag_chooses_bulk_mode_and_leaves_the_setting_alone_when_absent(tmp_path, monkeypatch):
    from cli.main import parser, settings_from
    from pipeline.daily import filing_source
    from pipeline.sources.filings import ReplaySecFilings

    flagged = settings_from(parser().parse_args(["run", "--sec-bulk", "--data-dir", str(tmp_path)]))
    assert isinstance(filing_source(flagged, tmp_path), ReplaySecBulk)
    unflagged = settings_from(parser().parse_args(["run", "--data-dir", str(tmp_path)]))
    assert isinstance(filing_source(unflagged, tmp_path), ReplaySecFilings)
    monkeypatch.setenv("THESIS_SEC_BULK", "true")
    assert settings_from(parser().parse_args(["run", "--data-dir", str(tmp_path)])).sec_bulk is True


def test_members_are_staged_in_groups_of_25_or_32_mib():
    def member(i: int, size: int) -> Member:
        return Member("companyfacts.zip", f"CIK{i:010d}.json", size, 0, 0, size, zipfile.ZIP_DEFLATED)

    small = [member(i, 1_000) for i in range(60)]
    assert [len(g) for g in groups(small)] == [25, 25, 10]
    mib = 1 << 20
    large = [member(i, size * mib) for i, size in enumerate([12, 12, 12, 40, 1, 31, 1])]
    # 12 + 12 = 24 MiB; a third would be 36 > 32. 40 MiB stands alone; 1 + 31 = 32 fits; the last starts anew.
    assert [[m.size // mib for m in g] for g in groups(large)] == [[12, 12], [12], [40], [1, 31], [1]]
    assert groups([]) == []


@pytest.mark.parametrize(("schema_name", "table"), [("FACTS_SCHEMA", "xbrl_facts"), ("FILINGS_SCHEMA", "filings")])
def test_a_staged_partition_has_its_tables_columns_and_types(tmp_path, schema_name, table):
    """The staged schemas restate raw.xbrl_facts and raw.filings for workers that never open the
    warehouse: they must not drift from the migrations. DuckDB reads an empty table of each schema,
    and its types must be the table's, column for column (all but the load's run_id and loaded_at)."""
    import pyarrow as pa

    from pipeline.ingest import bulk_members
    from warehouse.connection import connect

    with connect(tmp_path / "warehouse.duckdb") as con:
        wanted = con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = 'raw' and table_name = ? "
            "and column_name not in ('run_id', 'loaded_at') order by column_index",
            [table],
        ).fetchall()
        staged = pa.Table.from_pylist([], schema=getattr(bulk_members, schema_name))
        con.register("staged", staged)
        described = con.execute("select column_name, column_type from (describe staged)").fetchall()
    assert sorted(described) == sorted(wanted)


def test_when_no_member_loads_the_run_fails_naming_them(tmp_path):
    """Two filers' companyfacts, both cut short: nothing to load, so the run fails in one line
    naming the first member's fault and the other member."""
    from pipeline.runtime.errors import PayloadError

    archive = tmp_path / "night" / "sec" / "bulk" / "companyfacts.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for cik in (FIRST_CIK, FIRST_CIK + 1):
            zipped.writestr(member(cik), b'{"cik": %d, "facts": {' % cik)
    settings = Settings(data_dir=tmp_path / "var")
    with pytest.raises(PayloadError) as failed:
        ingest_sec_bulk(settings, ReplaySecBulk(tmp_path / "night"))
    assert str(failed.value).startswith(f"{member(FIRST_CIK)}: not valid JSON, perhaps truncated (")
    assert str(failed.value).endswith(
        f"; no SEC bulk member was loaded (companyfacts.zip/{member(FIRST_CIK + 1)} failed too)"
    )
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        [(status, failed_items)] = con.execute("select status, failed from meta.runs").fetchall()
    assert status == "failed"
    assert sorted(json.loads(failed_items)) == [f"companyfacts.zip/{member(c)}" for c in (FIRST_CIK, FIRST_CIK + 1)]
