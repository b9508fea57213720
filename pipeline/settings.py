"""Every setting the pipeline reads, in one typed object.

Only `Settings.from_env` looks at the environment; everything else receives a `Settings`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "THESIS_"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
CLAIMS = SEEDS / "claims.yml"


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    tickers: tuple[str, ...] = ("NVDA", "ORCL")
    benchmark: str = "^SOX"
    anchor_date: dt.date = dt.date(2025, 8, 1)
    # First day fetched for a ticker the warehouse has never seen: 252 sessions before the anchor.
    history_start: dt.date = dt.date(2024, 7, 1)
    # Calendar days re-fetched before the last stored date, so revised bars and the partial
    # intraday bar are replaced.
    lookback_days: int = 10
    fetch_timeout_seconds: float = 60.0
    fetch_retries: int = 3
    retry_backoff_seconds: float = 20.0
    # File-name stems that name a ticker Yahoo spells differently (see README, "Replaying files").
    ticker_aliases: Mapping[str, str] = field(
        default_factory=lambda: {"SOX_index": "^SOX", "SOX": "^SOX"}
    )
    # SEC asks every client to declare itself as "Name email"; live SEC runs refuse to start without it.
    sec_user_agent: str | None = None
    # The companies whose capex guidance the ledger tracks; the configured tickers count too.
    hyperscalers: tuple[str, ...] = ("MSFT", "GOOGL", "AMZN", "META", "ORCL")
    guidance_ledger: Path = SEEDS / "capex_guidance.csv"
    # SEC allows 10 requests/second per client; stay below it.
    sec_requests_per_second: float = 8.0
    # How long SEC throttling (403 "Request Rate Threshold Exceeded", 429) is waited out in total
    # before the run fails: SEC's block lasts about 10 minutes and retrying early extends it.
    sec_max_wait_seconds: float = 900.0
    sec_timeout_seconds: float = 30.0
    # The committed curated inputs: companies.csv and concept_map.csv.
    seeds_dir: Path = SEEDS
    claims: Path = CLAIMS
    # The date the scorecard is evaluated as of: rows dated later are not seen. None: all the data.
    as_of: dt.date | None = None

    @property
    def universe(self) -> tuple[str, ...]:
        """Every ticker priced: the configured ones and the benchmark."""
        return tuple(dict.fromkeys((*self.tickers, self.benchmark)))

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def publish_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def analyst_db_path(self) -> Path:
        return self.publish_dir / "thesis.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.publish_dir / "parquet"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def companies_csv(self) -> Path:
        return self.seeds_dir / "companies.csv"

    @property
    def concept_map_csv(self) -> Path:
        return self.seeds_dir / "concept_map.csv"

    @property
    def report_path(self) -> Path:
        return self.publish_dir / "report.html"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def replace(self, **changes: object) -> Settings:
        """A copy with `changes` applied; None values are ignored, so CLI flags can pass through."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `THESIS_*` variables, falling back to the defaults above."""
        env = os.environ if environ is None else environ
        parsers = {
            "data_dir": Path,
            "tickers": parse_tickers,
            "benchmark": str.strip,
            "anchor_date": parse_date,
            "history_start": parse_date,
            "lookback_days": int,
            "fetch_timeout_seconds": float,
            "fetch_retries": int,
            "retry_backoff_seconds": float,
            "ticker_aliases": parse_aliases,
            "sec_user_agent": str.strip,
            "hyperscalers": parse_tickers,
            "guidance_ledger": Path,
            "sec_requests_per_second": float,
            "sec_max_wait_seconds": float,
            "sec_timeout_seconds": float,
            "seeds_dir": Path,
            "claims": Path,
            "as_of": parse_date,
        }
        values = {}
        for name, parse in parsers.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None or raw.strip() == "":
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid: {exc}") from None
        return cls(**values)


def parse_tickers(raw: str) -> tuple[str, ...]:
    tickers = tuple(t.strip().upper() for t in raw.split(",") if t.strip())
    if not tickers:
        raise ValueError("expected a comma-separated list of tickers")
    return tickers


def parse_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD") from None


def parse_aliases(raw: str) -> dict[str, str]:
    """`SOX_index=^SOX,SOXX=SOXX` -> {"SOX_index": "^SOX", "SOXX": "SOXX"}."""
    pairs = [p.split("=", 1) for p in raw.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError("expected NAME=TICKER pairs separated by commas")
    return {name.strip(): ticker.strip().upper() for name, ticker in pairs}
