"""Every test here is a fault case, counted in the tally tests/conftest.py prints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import built_once, copied


@pytest.fixture(autouse=True)
def _counted(request: pytest.FixtureRequest) -> None:
    """Each case is tried, in the category its file names (test_identity.py: identity)."""
    request.node.user_properties.append(("fault", "tried"))
    category = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    request.node.user_properties.append(("fault category", category))


@pytest.fixture
def data_dir(good_run: Path, tmp_path: Path) -> Path:
    """This case's copy of the good run's data directory (tests/conftest.py), to break as it likes."""
    return copied(good_run, tmp_path / "var")


@pytest.fixture(scope="session")
def own_raw(tmp_path_factory) -> Path:
    """A data directory whose raw zone holds the sample, run once from that raw zone (what `thesis
    rebuild` rebuilds from), once per pytest run. Copy it (`copied`) to change it."""
    from cli.main import main
    from pipeline.runtime.settings import SAMPLE_DIR

    def run(folder: Path) -> None:
        var = folder / "var"
        for part in ("prices", "sec"):
            shutil.copytree(SAMPLE_DIR / part, var / "raw" / part)
        assert main(["run", "--from", str(var / "raw"), "--data-dir", str(var)]) == 0

    folder, _ = built_once(tmp_path_factory, "own-raw", run)
    return folder / "var"
