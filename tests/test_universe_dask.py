"""Universe mode on a local Dask cluster: 200 tickers and a 20-company bulk SEC set, fanned out on
two worker processes through prefect-dask, give the same warehouse as the default thread pool."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.ingest.bulk import groups
from pipeline.ingest.bulk_members import list_members
from pipeline.runtime import trading_calendar
from sample.generate_bulk import write_bulk_zips
from tests.test_flows import task_runs

pytestmark = [
    pytest.mark.xdist_group("prefect"),  # the session's Prefect server lives on one xdist worker
    pytest.mark.slow,  # a Dask cluster
]

TICKERS = [f"U{i:03d}" for i in range(200)]
INDEX = "^UNIV"
SESSIONS = pd.DatetimeIndex(trading_calendar.sessions(dt.date(2025, 1, 2), dt.date(2025, 12, 31)))
COMPARED = (
    "raw.prices",
    "raw.xbrl_facts",
    "raw.filings",
    "marts.relative_performance",
    "intermediate.metric_quarters",
    "marts.leverage",
    "marts.capex_slope",
)
# Company i of the bulk set files real company i % 2's facts: MSFT's (June year end), then NVIDIA's.
FISCAL_YEAR_ENDS = ("0630", "0131")


def yfinance_csv(path, seed: int) -> None:
    closes = 50 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, len(SESSIONS))))
    frame = pd.DataFrame(
        {
            "Date": SESSIONS.strftime("%Y-%m-%d"),
            "Open": closes,
            "High": closes * 1.01,
            "Low": closes * 0.99,
            "Close": closes,
            "Adj Close": closes,
            "Volume": 1000,
        }
    )
    frame.to_csv(path, index=False)


@pytest.fixture(scope="module")
def universe(tmp_path_factory, realdata):
    """A replay folder (200 tickers and the index as yfinance CSVs, the bulk archives), its tickers
    file, and a seeds folder listing the 20 bulk companies."""
    root = tmp_path_factory.mktemp("universe")
    prices = root / "replay" / "prices"
    prices.mkdir(parents=True)
    for seed, ticker in enumerate([*TICKERS, INDEX]):
        yfinance_csv(prices / f"{ticker}.csv", seed)
    ciks = write_bulk_zips(root / "replay" / "sec" / "bulk", 20, realdata)
    (root / "tickers.csv").write_text("ticker,benchmark\n" + "".join(f"{t},{INDEX}\n" for t in TICKERS))
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy("seeds/concept_map.csv", seeds)
    rows = [f"C{cik},{cik},Synthetic {cik},{FISCAL_YEAR_ENDS[i % 2]}\n" for i, cik in enumerate(ciks)]
    (seeds / "companies.csv").write_text("ticker,cik,name,fiscal_year_end\n" + "".join(rows))
    return root


def run_daily(universe, data_dir, monkeypatch, runner: str, address: str | None = None):
    from flows.daily import daily

    monkeypatch.setenv("THESIS_SEEDS_DIR", str(universe / "seeds"))
    monkeypatch.setenv("THESIS_DASK_WORKERS", "2")
    return daily(
        data_dir=str(data_dir),
        replay_from=str(universe / "replay"),
        tickers_file=str(universe / "tickers.csv"),
        benchmark=INDEX,
        anchor_date="2025-03-03",
        sec_bulk=True,
        task_runner=runner,
        dask_address=address,
        return_state=True,
    )


def contents(data_dir) -> dict[str, list[tuple]]:
    """Every compared table's rows, without the columns that name the run or when it loaded."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        tables = {}
        for table in COMPARED:
            schema, name = table.split(".")
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, name],
                ).fetchall()
                if c not in ("run_id", "loaded_at")
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            tables[table] = con.execute(f"select {quoted} from {table} order by all").fetchall()
        return tables


def test_dask_workers_build_the_same_warehouse_as_the_thread_pool(prefect_api, universe, tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    threads = run_daily(universe, tmp_path / "threads", monkeypatch, "threads")
    # A cluster of two worker processes, reached by its scheduler's address as a real one would be;
    # then asked what its workers did.
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        dask = run_daily(universe, tmp_path / "dask", monkeypatch, "dask", cluster.scheduler_address)
        worked = client.run(lambda dask_worker: (os.getpid(), dask_worker.state.transition_counter))
    assert len(worked) == 2
    assert all(pid != os.getpid() and transitions > 0 for pid, transitions in worked.values())
    assert threads.is_completed() and dask.is_completed()

    on_threads, on_dask = contents(tmp_path / "threads"), contents(tmp_path / "dask")
    assert on_dask == on_threads
    # Every ticker measured on every session of the year; every bulk company's facts loaded.
    assert {row[1] for row in on_dask["marts.relative_performance"]} == set(TICKERS)
    assert len(on_dask["marts.relative_performance"]) == len(TICKERS) * len(SESSIONS)
    assert len({row[0] for row in on_dask["raw.xbrl_facts"]}) == 20
    assert {row[1] for row in on_dask["marts.leverage"]} >= {9_000_001, 9_000_002}

    # The fan-out ran on the Dask cluster: a task run per chunk of 100 price files and per group of
    # bulk members.
    flow_run_id = dask.state_details.flow_run_id
    members = [m for z in sorted((universe / "replay" / "sec" / "bulk").glob("*.zip")) for m in list_members(z)[0]]
    tasks = 3 + len(groups(members))
    names = [r.name.rsplit("-", 1)[0] for r in task_runs(flow_run_id, tasks)]
    assert names.count("stage_files") == 3  # 201 files in chunks of 100
    assert names.count("stage_members") == len(groups(members)) > 2
