"""A good run repairs what a bad one left: a payload whose rows pass the raw checks but fail a mart's
suite is taken out of the warehouse (and out of this raw zone), and the next good run succeeds with
no manual step, its marts equal to a clean run's.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.runtime.settings import SAMPLE_DIR
from tests.faults.bad_inputs_prices import replay, sample_table
from tests.faults.harness import in_process, next_run_completes, refused, snapshot, unchanged

MSFT_FACTS = "CIK0000789019.json"
# MSFT's capex of fiscal 2023 Q1 (July to September 2022: calendar 2022Q3), made negative.
NEGATIVE_CAPEX_LINE = (
    "thesis: error: validation of capex_slope failed: capex >= 0 failed on 1 row: MSFT 2022Q3; the payload(s) "
    "loaded since the last published run holding rows of MSFT are taken out of the warehouse: CIK0000789019.json"
)
COMPARED_MARTS = ("relative_performance", "capex_slope", "leverage", "capex_guidance")


def negative_capex(folder: Path) -> Path:
    """The sample's MSFT companyfacts with its first capex fact (fiscal 2023 Q1) made negative, in folder."""
    body = json.loads((SAMPLE_DIR / "sec" / "companyfacts" / MSFT_FACTS).read_text())
    facts = body["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    assert (facts[0]["start"], facts[0]["end"], facts[0]["val"]) == ("2022-07-01", "2022-09-30", 6300000000)
    facts[0]["val"] = -6300000000
    path = folder / "sec" / "companyfacts" / MSFT_FACTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return path


def marts(data_dir: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return {name: con.sql(f"select * from marts.{name} order by all").df() for name in COMPARED_MARTS}


def same_marts(got: Path, clean: Path) -> None:
    want = marts(clean)
    for name, frame in marts(got).items():
        pd.testing.assert_frame_equal(frame, want[name], obj=f"marts.{name}")


def fails_then_repairs(request, capsys, data_dir: Path, clean: Path, args: list[str], line: str) -> str:
    """`thesis ARGS` exits 1 with one line starting `line`, the exports as they were; the next
    replay of the sample exits 0 with the marts of a clean run."""
    published = snapshot(data_dir / "published")
    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))
    got = refused(request, code, err, line)
    assert got.startswith(line), got
    unchanged(request, published, data_dir / "published")
    next_run_completes(request, *in_process(capsys, "run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)))
    same_marts(data_dir, clean)
    return got


def test_a_replayed_negative_capex_fails_once_and_the_next_good_run_succeeds(
    request, capsys, data_dir, good_run, tmp_path
):
    """The replayed folder is not this raw zone: nothing is moved, the payload's rows are removed,
    and the sample's own MSFT companyfacts (skipped before as loaded) loads again."""
    negative_capex(tmp_path / "bad")
    line = fails_then_repairs(
        request, capsys, data_dir, good_run, ["run", "--from", str(tmp_path / "bad")], NEGATIVE_CAPEX_LINE
    )
    assert "; the next run loads without them (report: " in line
    assert "moved to" not in line


def test_a_negative_capex_in_the_raw_zone_is_quarantined(request, capsys, data_dir, good_run):
    """A payload of this raw zone is moved to _quarantine/ beside its note; a replay of the raw zone
    no longer reads it, and the sample's run then succeeds."""
    bad = negative_capex(data_dir / "raw")
    line = fails_then_repairs(
        request,
        capsys,
        data_dir,
        good_run,
        ["run", "--from", str(data_dir / "raw")],
        NEGATIVE_CAPEX_LINE + f"; moved to {data_dir / 'raw' / '_quarantine' / 'sec' / 'companyfacts'}: {MSFT_FACTS}",
    )
    assert not bad.exists()
    held = data_dir / "raw" / "_quarantine" / "sec" / "companyfacts" / MSFT_FACTS
    assert held.exists()
    assert "capex_slope failed on rows of MSFT" in held.with_name(MSFT_FACTS + ".why.txt").read_text()
    assert "; the next run loads without them (report: " in line
    assert in_process(capsys, "run", "--from", str(data_dir / "raw"), "--data-dir", str(data_dir))[0] == 0


def test_two_files_disagreeing_on_a_close_are_refused_naming_both(request, capsys, data_dir, good_run, tmp_path):
    """Two NVDA files replayed together with no receive time: nothing says which is later. The
    second holds 1234.5 for the close of row 100 (2025-05-29); the first, the sample's close."""
    first = sample_table()
    close = float(first.rows[100][first.header.index("Close")])
    args = replay(tmp_path, {"NVDA.csv": first, "NVDA.vendor2.csv": sample_table().set(100, "Close", "1234.5")})
    line = (
        f"thesis: error: NVDA.csv and NVDA.vendor2.csv disagree on NVDA's close of 2025-05-29 ({close:g} against "
        "1234.5; THESIS_DISAGREEMENT_TOLERANCE is 0.1%) and nothing says which is later: give only the right one; "
        "nothing was loaded"
    )
    assert fails_then_repairs(request, capsys, data_dir, good_run, args, line) == line


def test_files_received_one_after_the_other_may_differ_and_the_later_wins(request, capsys, data_dir, tmp_path):
    """The same two files with receive times (the second a day later) load: the later one's close wins."""
    args = replay(tmp_path, {"NVDA.csv": sample_table(), "NVDA.vendor2.csv": sample_table().set(100, "Close", "135.5")})
    prices = tmp_path / "replay" / "prices"
    for name, received in (
        ("NVDA.csv", "2026-03-06T23:00:00+00:00"),
        ("NVDA.vendor2.csv", "2026-03-07T23:00:00+00:00"),
    ):
        (prices / (name + ".meta.json")).write_text(json.dumps({"source": "file", "received_at": received}))
    code, err = in_process(capsys, *args, "--data-dir", str(data_dir))
    assert code == 0, err
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [[close]] = con.execute("select close from raw.prices where ticker = 'NVDA' and date = '2025-05-29'").fetchall()
    assert close == 135.5


def replay_received(tmp: Path, name: str, table, received: str) -> list[str]:
    """`run --from` a folder holding the sample's other payloads and one NVDA file received at `received`."""
    args = replay(tmp, {name: table})
    meta = {"source": "file", "received_at": received}
    (tmp / "replay" / "prices" / (name + ".meta.json")).write_text(json.dumps(meta))
    return args


def stored_close(data_dir: Path, day: str) -> float:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        [[close]] = con.execute("select close from raw.prices where ticker = 'NVDA' and date = ?", [day]).fetchall()
    return close


def test_an_older_file_loaded_after_a_newer_one_leaves_the_newer_bars(capsys, data_dir, tmp_path):
    """The later file wins whichever loads last: a file received on 2026-03-09 holds 135.5 for
    2025-05-29; one received on 2026-03-08, loaded after it, holds the sample's close there."""
    newer = replay_received(
        tmp_path / "a", "NVDA.vendor2.csv", sample_table().set(100, "Close", "135.5"), "2026-03-09T23:00:00+00:00"
    )
    assert in_process(capsys, *newer, "--data-dir", str(data_dir))[0] == 0
    older = sample_table().set(99, "Close", "130.25")  # new bytes: loaded, but not over the newer bar
    assert (
        in_process(
            capsys,
            *replay_received(tmp_path / "b", "NVDA.csv", older, "2026-03-08T23:00:00+00:00"),
            "--data-dir",
            str(data_dir),
        )[0]
        == 0
    )
    assert stored_close(data_dir, "2025-05-29") == 135.5
    # Its own day, which the newer file holds too with the sample's close: the newer file's bar stays.
    assert stored_close(data_dir, "2025-05-28") == float(sample_table().rows[99][sample_table().header.index("Close")])


def test_a_good_file_received_again_replaces_a_bad_one_whatever_its_hash(capsys, data_dir, tmp_path):
    """The sample's NVDA closes as a file received on 2026-03-08; a file received on 2026-03-09 with
    135.5 for 2025-05-29 (plausible, so it loads); then the first file's very bytes received again on
    2026-03-10: they are the ticker's latest word and load again, though their hash was loaded."""
    good = sample_table()
    close = float(good.rows[100][good.header.index("Close")])
    assert close != 135.5
    first = replay_received(tmp_path / "a", "NVDA.csv", good, "2026-03-08T23:00:00+00:00")
    assert in_process(capsys, *first, "--data-dir", str(data_dir))[0] == 0
    bad = replay_received(
        tmp_path / "b", "NVDA.csv", sample_table().set(100, "Close", "135.5"), "2026-03-09T23:00:00+00:00"
    )
    assert in_process(capsys, *bad, "--data-dir", str(data_dir))[0] == 0
    assert stored_close(data_dir, "2025-05-29") == 135.5
    again = replay_received(tmp_path / "c", "NVDA.csv", good, "2026-03-10T23:00:00+00:00")
    assert in_process(capsys, *again, "--data-dir", str(data_dir))[0] == 0
    assert stored_close(data_dir, "2025-05-29") == close
    # A replay of the same three folders in their order again changes nothing: each is skipped.
    assert in_process(capsys, *again, "--data-dir", str(data_dir))[0] == 0
    assert stored_close(data_dir, "2025-05-29") == close


def msft_facts(folder: Path, capex: int, received: str) -> list[str]:
    """`run --from` a folder holding only the sample's MSFT companyfacts (re-serialised: bytes of
    its own), its first capex fact set to `capex`, received at `received`."""
    body = json.loads((SAMPLE_DIR / "sec" / "companyfacts" / MSFT_FACTS).read_text())
    facts = body["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    facts[0]["val"] = capex
    path = folder / "sec" / "companyfacts" / MSFT_FACTS
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(body))
    path.with_name(MSFT_FACTS + ".meta.json").write_text(json.dumps({"received_at": received}))
    return ["run", "--from", str(folder)]


def msft_capex(data_dir: Path) -> list[float]:
    """MSFT's stored capex values for July to September 2022 (one per filing that reports it)."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select distinct val from raw.xbrl_facts where cik = 789019 and start = '2022-07-01' "
            "and \"end\" = '2022-09-30' and concept = 'PaymentsToAcquirePropertyPlantAndEquipment'"
        ).fetchall()
    return sorted(v for (v,) in rows)


def test_a_good_sec_body_received_again_replaces_a_bad_one_whatever_its_hash(capsys, data_dir, tmp_path):
    """MSFT's fiscal 2023 Q1 capex, 6,300,000,000 in its 10-Q, stated as 6,400,000,000 by a body
    received between two receipts of the same good body: the second receipt loads again."""
    good = msft_facts(tmp_path / "a", 6_300_000_000, "2026-03-08T23:00:00+00:00")
    assert in_process(capsys, *good, "--data-dir", str(data_dir))[0] == 0
    bad = msft_facts(tmp_path / "b", 6_400_000_000, "2026-03-09T23:00:00+00:00")
    assert in_process(capsys, *bad, "--data-dir", str(data_dir))[0] == 0
    assert 6_400_000_000 in msft_capex(data_dir)
    (tmp_path / "a" / "sec" / "companyfacts" / (MSFT_FACTS + ".meta.json")).write_text(
        json.dumps({"received_at": "2026-03-10T23:00:00+00:00"})
    )
    assert in_process(capsys, *good, "--data-dir", str(data_dir))[0] == 0
    assert 6_400_000_000 not in msft_capex(data_dir)
    assert 6_300_000_000 in msft_capex(data_dir)
