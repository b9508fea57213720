"""The committed curated inputs in seeds/: the company list and the concept map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.errors import SeedError

COMPANY_COLUMNS = ("ticker", "cik", "name", "fiscal_year_end")
CONCEPT_COLUMNS = ("metric", "period", "priority", "taxonomy", "concept")


def read_seed(path: Path, columns: tuple[str, ...], key: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise SeedError(f"{path}: unreadable ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SeedError(f"{path}: no column(s) {', '.join(missing)} (expected {', '.join(columns)})")
    frame = frame.loc[:, list(columns)].apply(lambda column: column.str.strip())
    blank = frame.index[(frame == "").any(axis=1)]
    if len(blank):
        raise SeedError(f"{path}: line {blank[0] + 2} has an empty field")
    repeated = frame[frame.duplicated(key)]
    if len(repeated):
        raise SeedError(f"{path}: {' '.join(repeated.iloc[0][key])} appears twice")
    return frame


def read_companies(path: Path) -> pd.DataFrame:
    """ticker, cik, name, fiscal_year_end (MMDD); one line per company."""
    frame = read_seed(path, COMPANY_COLUMNS, ["ticker"])
    bad = frame[~frame["cik"].str.fullmatch(r"\d{1,10}") | ~frame["fiscal_year_end"].str.fullmatch(r"(0\d|1[0-2])[0-3]\d")]
    if len(bad):
        raise SeedError(f"{path}: {bad.iloc[0]['ticker']} needs a numeric cik and a fiscal_year_end as MMDD")
    return frame.assign(ticker=frame["ticker"].str.upper(), cik=frame["cik"].astype("int64"))


def read_concept_map(path: Path) -> pd.DataFrame:
    """metric, period (duration or instant), priority (lower wins), taxonomy, concept."""
    frame = read_seed(path, CONCEPT_COLUMNS, ["metric", "priority"])
    bad = frame[~frame["priority"].str.fullmatch(r"\d+") | ~frame["period"].isin(["duration", "instant"])]
    if len(bad):
        raise SeedError(f"{path}: {bad.iloc[0]['metric']} {bad.iloc[0]['concept']} needs an integer priority "
                        "and a period of duration or instant")
    return frame.assign(priority=frame["priority"].astype("int64"))
