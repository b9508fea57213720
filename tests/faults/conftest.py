"""Every test here is a fault case, counted in the tally tests/conftest.py prints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _counted(request: pytest.FixtureRequest) -> None:
    """Each case is tried, in the category its file names (test_identity.py: identity)."""
    request.node.user_properties.append(("fault", "tried"))
    category = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    request.node.user_properties.append(("fault category", category))


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    """A data directory the bundled sample was run and published into, once per module."""
    from cli.main import main
    from pipeline.runtime.settings import SAMPLE_DIR

    data_dir = tmp_path_factory.mktemp("good") / "var"
    assert main(["run", "--from", str(SAMPLE_DIR), "--data-dir", str(data_dir)]) == 0
    return data_dir


@pytest.fixture
def data_dir(good_run: Path, tmp_path: Path) -> Path:
    """This case's copy of the good run's data directory, to break as it likes."""
    copy = tmp_path / "var"
    shutil.copytree(good_run, copy, symlinks=True)  # a link in published/ stays a link
    return copy
