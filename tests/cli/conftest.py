"""The commands' tests: no config path or state directory leaks in from the environment."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RESTDAY_CONFIG", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
