"""The layering of DESIGN.md §1, checked on the source: one module per outside world."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "restday"


def imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def importers(prefix: str) -> set[str]:
    return {
        str(path.relative_to(PACKAGE.parent))
        for path in modules()
        if any(name == prefix or name.startswith(prefix + ".") for name in imports(path))
    }


@pytest.mark.parametrize(
    ("library", "only"),
    [
        ("paho", {"restday/integrations/mqtt.py"}),
        (
            "sqlite3",
            {f"restday/store/{m}.py" for m in ("errors", "rows", "schema", "sleep", "store")},
        ),
        ("apscheduler", {"restday/daemon/schedule.py"}),
        ("stravalib", {"restday/integrations/strava.py"}),
        ("requests", {"restday/integrations/strava.py"}),
        ("matplotlib", {"restday/plot.py"}),
    ],
)
def test_each_outside_world_has_exactly_one_module(library: str, only: set[str]) -> None:
    assert importers(library) == only


def test_rules_are_pure() -> None:
    for path in (PACKAGE / "rules").rglob("*.py"):
        for name in imports(path):
            assert not name.startswith(
                ("restday.integrations", "restday.store", "restday.daemon", "restday.clock",
                 "restday.config", "socket", "sqlite3", "time", "urllib", "http")
            ), f"{path.name} imports {name}"  # fmt: skip


def test_integrations_do_not_reach_into_the_daemon() -> None:
    for path in (PACKAGE / "integrations").rglob("*.py"):
        assert not any(n.startswith("restday.daemon") for n in imports(path)), path.name


def test_the_store_imports_nothing_from_integrations_rules_or_the_daemon() -> None:
    """The store knows only SQL: what parses raw JSON again is passed in (`Parsers`). Of
    restday it imports its own modules and the domain types, nothing else."""
    for path in (PACKAGE / "store").rglob("*.py"):
        for name in imports(path):
            if name == "restday" or name.startswith("restday."):
                own = name == "restday.store" or name.startswith("restday.store.")
                assert own or name == "restday.models", f"store/{path.name} imports {name}"
