"""Every test here is a fault case, counted in the tally tests/conftest.py prints."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _counted(request: pytest.FixtureRequest) -> None:
    request.node.user_properties.append(("fault", "tried"))
