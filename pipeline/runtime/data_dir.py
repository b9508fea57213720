"""The data directory's layout: one object, `Settings.paths`, names every place a run reads or
writes under THESIS_DATA_DIR.

    raw/          the raw zone: every payload as received (pipeline/payloads/raw_zone.py)
    staged/       bars parsed by mapped tasks, before the single writer loads them
    warehouse.duckdb, run.lock
    published/    versions/<run_id>/ (parquet/, report.html, thesis.duckdb), and `current`, the
                  link readers follow (warehouse/publish.py)
    reports/      validation reports, by run
    logs/, cache/
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def staged(self) -> Path:
        """Parquet written by the mapped tasks (one partition per item), loaded by the single writer."""
        return self.root / "staged"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def current(self) -> Path:
        """The published version readers see: a symlink switched to each new version (warehouse/publish.py)."""
        return self.published / "current"

    def version(self, run_id: str) -> Path:
        """Where run `run_id` writes its exports before they become current."""
        return self.published / "versions" / run_id

    @property
    def analyst_copy(self) -> Path:
        return self.current / "thesis.duckdb"

    @property
    def parquet(self) -> Path:
        return self.current / "parquet"

    @property
    def report(self) -> Path:
        return self.current / "report.html"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"
