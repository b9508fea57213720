"""Every setting the pipeline reads, in one typed object.

Only `Settings` reads the environment (`THESIS_*` variables); everything else receives a
`Settings`. Command-line flags and flow parameters are passed to it as keyword arguments and
win over the environment. A bad value is refused with one line naming the variable or flag.
`PrefectApi` reads the PREFECT_* variables that say whether a Prefect API is configured.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pipeline.runtime.clock import Clock, moment
from pipeline.runtime.data_dir import DataDir
from pipeline.runtime.errors import SettingsError

ENV_PREFIX = "THESIS_"
PROJECT = Path(__file__).resolve().parents[2]
SEEDS = PROJECT / "seeds"
CLAIMS = SEEDS / "claims.yml"
SAMPLE_DIR = PROJECT / "sample"  # the bundled sample raw zone
ALL_DATA = dt.date(9999, 12, 31)  # the as-of date of a build that sees everything
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A Yahoo symbol: ASCII letters and digits, `.` `-` `=` inside (BRK-B, 0700.HK, EURUSD=X), `^`
# only in front of an index (^SOX). Nothing else reaches a query, a file name or Yahoo.
SYMBOL = re.compile(r"\^?[A-Z0-9][A-Z0-9.=-]{0,14}")

# Comma-separated in the environment, lists in code and in flow parameters.
TickerList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid")

    data_dir: Path = Path("var")
    tickers: TickerList = ("NVDA", "ORCL")
    benchmark: str = "^SOX"
    # A CSV of the tickers, one per row, with an optional `benchmark` column naming the index each
    # is measured against (blank: `benchmark`); when set, it replaces `tickers` (see README).
    tickers_file: Path | None = None
    # Ticker -> the benchmark it is measured against, where it is not `benchmark` (from tickers_file).
    ticker_benchmarks: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    anchor_date: dt.date = dt.date(2025, 8, 1)
    # First day fetched for a ticker the warehouse has never seen: 252 sessions before the anchor.
    history_start: dt.date = dt.date(2024, 7, 1)
    # Calendar days re-fetched before the last stored date, so revised bars are replaced.
    lookback_days: int = Field(10, ge=0, le=366)
    # Minutes after a session's close before its bar counts as final: Yahoo's daily bar settles to
    # the official close a few minutes after the bell. Until then the session is in progress.
    session_settle_minutes: int = Field(30, ge=0, le=720)
    # Upper bounds on durations: a value past them is a typo, and they keep out `inf`.
    fetch_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    fetch_retries: int = Field(3, ge=0, le=10)
    retry_backoff_seconds: float = Field(20.0, ge=0, le=3600)
    # File-name stems that name a ticker Yahoo spells differently (see README, "Replaying files").
    ticker_aliases: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"SOX_index": "^SOX", "SOX": "^SOX"}
    )
    # SEC asks every client to declare itself as "Name email"; live SEC runs refuse to start without it.
    sec_user_agent: SecretStr | None = None
    # The companies whose capex guidance the ledger tracks; the configured tickers count too.
    hyperscalers: TickerList = ("MSFT", "GOOGL", "AMZN", "META", "ORCL")
    guidance_ledger: Path = SEEDS / "capex_guidance.csv"
    # SEC allows 10 requests/second per client; stay below it.
    sec_requests_per_second: float = Field(8.0, gt=0, le=10)
    # How long SEC throttling (403 "Request Rate Threshold Exceeded", 429) is waited out in total
    # before the run fails: SEC's block lasts about 10 minutes and retrying early extends it.
    sec_max_wait_seconds: float = Field(900.0, ge=0, le=86400)
    sec_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    # Every SEC filer from SEC's nightly bulk archives instead of the company list's per-company API.
    sec_bulk: bool = False
    # How long a run waits for another run on the same data directory to end before it gives up
    # with one line naming it. 0: at once, so a run started by hand by mistake says so instead of
    # hanging; a setup whose schedule can meet a run started by hand sets it to a run's length.
    lock_wait_seconds: float = Field(0.0, ge=0, le=86400)
    # The committed curated inputs: companies.csv and concept_map.csv.
    seeds_dir: Path = SEEDS
    claims: Path = CLAIMS
    # The date the build is evaluated as of: rows dated later are not seen. None: all the data.
    as_of: dt.date | None = None
    # Where the flows' mapped tasks run: `threads` in the flow's process, or `dask`: a local
    # cluster of `dask_workers` processes, or the running cluster at `dask_address`.
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None
    dask_workers: int = Field(2, ge=1, le=512)
    # A scheduler that answers at all does so in well under a second; Dask's own 30 s default
    # leaves a run with a wrong or stopped address silent for half a minute before it says so.
    dask_connect_timeout_seconds: float = Field(10.0, gt=0, le=600)
    # `thesis alerts`: a run of `daily` not ended this long after it was due notifies. A run takes
    # 1-2 minutes on the real data; a live one that meets Yahoo's throttling (3 retries from 20 s,
    # doubling) or SEC's 10-minute block takes a quarter of an hour: an hour is surely stuck or never
    # started, and still leaves the evening to fix it. Prefect's lateness triggers need 10 s at least.
    alert_late_after_minutes: float = Field(60.0, ge=1, le=1440)
    # Tickers per yfinance multi-ticker download (one task each), and Yahoo's request rate shared
    # by every worker of a run: Yahoo throttles a client that asks much faster.
    price_chunk_size: int = Field(100, ge=1, le=2000)
    yahoo_requests_per_second: float = Field(2.0, gt=0, le=50)
    # Rebuild every mart from scratch instead of only what new rows change (`thesis build --full`).
    full_build: bool = False
    # The moment a run works for (pipeline/runtime/clock.py): a date (that day at 17:00 in New York) or an
    # ISO date-time. None: the real time.
    today: dt.datetime | None = None
    # Freshness (pipeline/build/freshness.py): the age at which a source warns, and at which it is an
    # error, as dbt's source freshness has it. Prices age in NYSE sessions after a ticker's last bar:
    # a daily run that missed the last closed session warns; a week of sessions missed is no longer
    # the market as it is. SEC filings age in days since a company's latest 10-Q or 10-K: they come a
    # quarter (about 91 days) apart, so 100 says the next is late; 140, a quarter plus the 45-day
    # 10-Q deadline, that one is missing.
    price_warn_after_sessions: int = Field(1, ge=1, le=2520)
    price_error_after_sessions: int = Field(5, ge=1, le=2520)
    # Median relative difference of a price file's adjusted closes from those stored for its ticker
    # (on the dates both hold) above which the file is another ticker's: a dividend or a revision
    # moves a year of adjusted closes by a few percent, another ticker's differ by tens (ORCL from
    # NVDA: about 21%).
    identity_tolerance: float = Field(0.10, gt=0, le=1)
    # The relative difference of two closes of one (ticker, date), in payloads of one batch whose
    # order is unknown, above which they disagree: vendors' rounding moves a close by far less
    # than 0.1%, another day's or another vendor's revised close by more.
    disagreement_tolerance: float = Field(0.001, gt=0, le=1)
    # The report draws every configured ticker up to twice this many; more is a screen, whose charts
    # draw its top and bottom this many by excess return since the anchor: a chart of thousands of
    # lines says nothing, and the whole universe is in the parquet and the analyst copy.
    report_top_bottom: int = Field(5, ge=1, le=50)
    filing_warn_after_days: int = Field(100, ge=1, le=3660)
    filing_error_after_days: int = Field(140, ge=1, le=3660)
    # A guidance figure (US$ billions) above which the ledger line loads flagged, and above which it
    # is refused: the largest annual capex any company has guided is about $220B, so $500B is
    # likely a slip (millions typed for billions lands far higher); $5T exceeds what any company
    # spends at all.
    guidance_warn_above_usd_bn: float = Field(500.0, gt=0)
    guidance_error_above_usd_bn: float = Field(5000.0, gt=0)
    # Each claim's metric query runs under these bounds (pipeline/build/scorecard.py): the heaviest
    # metric reads one mart and ends in well under a second, so a query still running after 60 s
    # is a runaway (a recursive CTE that never ends), stopped before it holds the run lock for
    # ever; and one that needs more than 2GB of memory would starve the build that shares it.
    claim_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    query_memory_limit: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")
    # Each SQL model's query (transforms/, reading the seeds and the settings' variables) runs under
    # these bounds. A model builds a whole mart (millions of rows at universe scale:
    # benchmarks/scale.py's full build of 5,000 tickers x 10 years peaks at 6.6 GiB and takes under a
    # minute), far more than a metric reads, so the claims' 60 s and 2GB would stop a sound build: a
    # model still running after 30 minutes, or needing more than 12GB (half these 24 GiB machines;
    # DuckDB spills to disk before that), is a runaway, stopped before it holds the run lock for ever.
    model_timeout_seconds: float = Field(1800.0, gt=0, le=86400)
    model_memory_limit: str = Field("12GB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")
    # Plausibility (expectations/raw_prices.py, raw_xbrl_facts.py): a value past a bound cannot be
    # true and is refused, except max_volume, past which a bar loads flagged.
    # The adjusted close is the close scaled down for later dividends (and, beside a file's raw
    # close, for later splits): above the close by half it cannot be; 1/1000 of it is NVDA's splits
    # since 1999 (480 to 1) and its dividends twice over.
    min_adj_close_ratio: float = Field(0.001, gt=0, le=1)
    max_adj_close_ratio: float = Field(1.5, ge=1, le=100)
    # Shares traded in a day: NVDA's busiest split-adjusted days are a few billion; 1e11 is flagged.
    max_volume: float = Field(1e11, gt=0, le=2**63 - 1)
    # No bar or fact is older: Yahoo's daily history starts in 1927, EDGAR's filings in 1993.
    earliest_date: dt.date = dt.date(1900, 1, 1)
    # A money fact (a currency unit, or one per share) larger than this cannot be true: won and
    # rupiah totals reach 1e15, and a filer's scale error 2.76e16 USD (a public float; flagged,
    # above 2^53, and loaded), so the bound sits above both.
    max_money: float = Field(1e18, gt=0)
    # How far past the run date a fact's period may end: real 10-Q and 10-K facts end up to 333 days
    # after they are filed (a hedge gain to be reclassified within twelve months).
    fact_lookahead_days: int = Field(731, ge=0, le=36600)

    @field_validator("tickers", "hyperscalers", mode="before")
    @classmethod
    def _ticker_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            tickers = tuple(symbol(str(t)) for t in value if str(t).strip())
            if not tickers:
                raise ValueError("expected a comma-separated list of tickers")
            return tickers
        return value

    @field_validator("benchmark", mode="before")
    @classmethod
    def _ticker(cls, value: Any) -> Any:
        return symbol(value) if isinstance(value, str) else value

    @field_validator("benchmark")
    @classmethod
    def _not_measured(cls, value: str, info: ValidationInfo) -> str:
        # A ticker measured against itself shows no relative move at all, whatever it did.
        if value in info.data.get("tickers", ()):
            raise ValueError(f"{value} is also a measured ticker; a ticker cannot be its own benchmark")
        return value

    @field_validator("anchor_date", "history_start", "as_of", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not ISO_DATE.fullmatch(value.strip()):
                raise ValueError("expected a date as YYYY-MM-DD")
            return dt.date.fromisoformat(value.strip())
        return value

    @field_validator("price_error_after_sessions", "filing_error_after_days")
    @classmethod
    def _error_after_warn(cls, value: int, info: ValidationInfo) -> int:
        assert info.field_name  # set for a field validator
        warn = info.field_name.replace("_error_", "_warn_")
        if warn in info.data and value < info.data[warn]:
            raise ValueError(f"must be at least {ENV_PREFIX}{warn.upper()} ({info.data[warn]})")
        return value

    @field_validator("today", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        return moment(value) if isinstance(value, str | dt.date) else value

    @model_validator(mode="before")
    @classmethod
    def _tickers_from_file(cls, data: Any) -> Any:
        """`tickers` and `ticker_benchmarks` read from `tickers_file`, where one is given."""
        if not isinstance(data, dict) or not data.get("tickers_file"):
            return data
        tickers, benchmarks = read_tickers_file(Path(data["tickers_file"]))
        return {**data, "tickers": tickers, "ticker_benchmarks": benchmarks}

    @field_validator("ticker_aliases", "ticker_benchmarks", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        """`SOX_index=^SOX,SOXX=SOXX` -> {"SOX_index": "^SOX", "SOXX": "SOXX"}."""
        if not isinstance(value, str):
            return value
        pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ValueError("expected NAME=TICKER pairs separated by commas")
        return {name.strip(): symbol(ticker) for name, ticker in pairs}

    @field_validator("sec_user_agent", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def clock(self) -> Clock:
        return Clock(self.today)

    @property
    def last_session(self) -> dt.date:
        """The last NYSE session closed (and settled) by the clock: what a live run fetches up to."""
        from pipeline.runtime import trading_calendar  # builds a calendar: only where a session is asked for

        return trading_calendar.last_closed(self.clock.now(), dt.timedelta(minutes=self.session_settle_minutes))

    @property
    def universe(self) -> tuple[str, ...]:
        """Every ticker priced: the configured ones and every benchmark."""
        return tuple(dict.fromkeys((*self.tickers, self.benchmark, *self.ticker_benchmarks.values())))

    def benchmark_of(self, ticker: str) -> str:
        return self.ticker_benchmarks.get(ticker, self.benchmark)

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """Every index some ticker is measured against."""
        return tuple(dict.fromkeys(self.benchmark_of(t) for t in self.tickers))

    @property
    def paths(self) -> DataDir:
        """Where each thing lives in the data directory."""
        return DataDir(self.data_dir)

    @property
    def user_agent(self) -> str | None:
        return self.sec_user_agent.get_secret_value() if self.sec_user_agent else None

    @property
    def companies_csv(self) -> Path:
        return self.seeds_dir / "companies.csv"

    @property
    def concept_map_csv(self) -> Path:
        return self.seeds_dir / "concept_map.csv"

    def variables(self) -> dict[str, object]:
        """The values the SQL models read with getvariable(): as_of through staging.known_by()."""
        return {
            "anchor_date": self.anchor_date,
            "benchmark": self.benchmark,
            "tickers": list(self.tickers),
            # Each ticker with the index it is measured against: what relative_performance pairs.
            "measured": [{"ticker": t, "benchmark": self.benchmark_of(t)} for t in self.tickers],
            "hyperscalers": list(self.hyperscalers),
            "as_of": self.as_of or ALL_DATA,
        }

    def parameters(self) -> str:
        """What a run was asked to build, as JSON for meta.runs: the report and `status` read it back."""
        return json.dumps(
            {
                "tickers": list(self.tickers),
                "benchmark": self.benchmark,
                "ticker_benchmarks": self.ticker_benchmarks,
                "anchor_date": self.anchor_date.isoformat(),
                "hyperscalers": list(self.hyperscalers),
                "as_of": self.as_of.isoformat() if self.as_of else None,
            }
        )

    def replace(self, **changes: object) -> Settings:
        """A validated copy with `changes` applied; None values are ignored, so flags can pass through."""
        given = {k: v for k, v in changes.items() if v is not None}
        return settings_from(lambda: type(self).model_validate({**dict(self), **given}), flags=given)


class PrefectApi(BaseSettings):
    """PREFECT_API_URL as Prefect 3 resolves it (prefect/settings/sources.py), read without importing
    Prefect, which takes about a second: the variable, else the active profile's. The profile is
    PREFECT_PROFILE, else the profiles file's `active`; the file is PREFECT_PROFILES_PATH, else
    PREFECT_HOME/profiles.toml, else ~/.prefect/profiles.toml where it exists, else the one bundled
    with Prefect; where the file is missing or lacks the profile, the bundled file's active one.
    Prefect's other sources (./.env, ./prefect.toml, pyproject.toml's [tool.prefect]) are not read:
    this project uses none of them."""

    model_config = SettingsConfigDict(env_prefix="PREFECT_", extra="ignore", frozen=True)

    api_url: str | None = None
    # Prefect reads these three with os.getenv: an empty one counts as unset.
    profile: str | None = None
    profiles_path: str | None = None
    home: str | None = None

    def url(self) -> str | None:
        if self.api_url is not None:  # even empty, as Prefect takes it
            return self.api_url
        bundled = toml_file(prefect_profiles())
        default = bundled["profiles"].get(bundled["active"], {})
        path = self.profiles_file()
        try:
            chosen = toml_file(path) if path.exists() else {}
        except tomllib.TOMLDecodeError:  # Prefect warns and reads no profile at all
            return None
        found = chosen.get("profiles", {}).get(self.profile or chosen.get("active"), default)
        url = found.get("PREFECT_API_URL")
        return None if url is None else str(url)

    def profiles_file(self) -> Path:
        if self.profiles_path:
            return Path(self.profiles_path)
        if self.home:
            return Path(self.home) / "profiles.toml"
        default = Path.home() / ".prefect" / "profiles.toml"
        return default if default.exists() else prefect_profiles()


def toml_file(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def prefect_profiles() -> Path:
    """The profiles file Prefect ships, found without importing Prefect."""
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.origin is not None, "Prefect is a dependency"
    return Path(spec.origin).parent / "settings" / "profiles.toml"


def symbol(text: str) -> str:
    """A ticker as given (any case, spaces around), checked: ValueError saying what is wrong."""
    stripped = text.strip()
    foreign = [c for c in stripped if not c.isascii()]
    if foreign:
        # Before upper(): it maps some non-ASCII letters to ASCII ones (the long s to S).
        codes = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(foreign))
        raise ValueError(f"ticker {stripped!r} holds non-ASCII characters: {codes}")
    if not SYMBOL.fullmatch(stripped.upper()):
        raise ValueError(
            f"ticker {stripped!r} is not a Yahoo symbol: up to 15 letters, digits, '.', '-' or '=', "
            "after a '^' for an index"
        )
    return stripped.upper()


def read_tickers_file(path: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    """The tickers of a CSV with a `ticker` column and an optional `benchmark` column (a file with
    no header is one ticker per line), and each ticker's benchmark where one is named. ValueError
    naming the file and line of the first bad row."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    rows = [(n, [cell.strip() for cell in line.split(",")]) for n, line in enumerate(lines, 1) if line.strip()]
    header = [cell.lower() for cell in rows[0][1]] if rows else []
    if "ticker" in header:
        rows = rows[1:]
    else:
        header = ["ticker", "benchmark"]
    at = {name: header.index(name) for name in ("ticker", "benchmark") if name in header}
    tickers: dict[str, None] = {}
    benchmarks: dict[str, str] = {}
    for n, cells in rows:
        try:
            ticker = symbol(cells[at["ticker"]])
            named = cells[at["benchmark"]] if "benchmark" in at and at["benchmark"] < len(cells) else ""
            index = symbol(named) if named else None
            if ticker in tickers and benchmarks.get(ticker) != index:
                raise ValueError(f"{ticker} is listed again with another benchmark")
            if index:
                benchmarks[ticker] = index
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{path} line {n}: {exc}") from None
        tickers[ticker] = None
    if not tickers:
        raise ValueError(f"{path} names no tickers")
    for ticker, index in benchmarks.items():
        if index in tickers:
            raise ValueError(f"{path}: {index} is the benchmark of {ticker} and also a measured ticker")
    return tuple(tickers), benchmarks


def load_settings(**flags: object) -> Settings:
    """Settings from the environment, with `flags` (command-line flags, flow parameters; None
    values ignored) over it. A bad value raises SettingsError naming the variable or flag."""
    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}  # Settings validates each
    return settings_from(lambda: Settings(**given), flags=given)


def settings_from(make, flags: Mapping[str, object]) -> Settings:
    try:
        return make()
    except ValidationError as exc:
        error = exc.errors()[0]
        # The one model-level check reads tickers_file; every other error names its field.
        name = str(error["loc"][0]) if error["loc"] else "tickers_file"
        where = f"--{name.replace('_', '-')}" if name in flags else f"{ENV_PREFIX}{name.upper()}"
        reason = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        shown = "" if isinstance(value, Mapping) or name in ("sec_user_agent", "tickers_file") else f"={value!r}"
        raise SettingsError(f"{where}{shown} is not valid: {reason}") from None
