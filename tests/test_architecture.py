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
        ("paho", {"restday/integrations/mqtt/client.py"}),
        (
            "sqlite3",
            {f"restday/store/{m}.py" for m in ("durable", "errors", "rows", "schema", "sleep")},
        ),
        ("apscheduler", {"restday/daemon/schedule.py"}),
        (
            "stravalib",
            {f"restday/integrations/strava/{m}.py" for m in ("client", "session")},
        ),
        ("requests", {"restday/integrations/strava/session.py"}),
        ("matplotlib", {"restday/cli/plot.py"}),
    ],
)
def test_each_outside_world_has_exactly_one_module(library: str, only: set[str]) -> None:
    assert importers(library) == only


# DESIGN.md §1, every "never" in one table: a part (a package or a module of restday) and the
# modules it must not import. A name matches itself and everything below it ("restday.store"
# also bans "restday.store.rows").
NEVERS: dict[str, tuple[str, ...]] = {
    # Pure rules: history + now + thresholds in, findings out; no I/O and no clock.
    "rules": (
        "restday.integrations",
        "restday.store",
        "restday.daemon",
        "restday.clock",
        "restday.config",
        "restday.sync",
        "restday.sync",
        "socket",
        "sqlite3",
        "time",
        "urllib",
        "http",
        "requests",
        "paho",
    ),
    # One module per outside world; none reaches into the store, the rules or the daemon.
    "integrations": ("restday.store", "restday.sync", "restday.rules", "restday.daemon"),
    # The store knows only SQL: what parses raw JSON again is passed in (`Parsers`).
    "store": ("restday.integrations", "restday.rules", "restday.daemon", "restday.sync"),
    # The sync joins HTTP and SQL data; the daemon runs it, never the other way round.
    "sync": ("restday.daemon", "restday.cli", "stravalib", "requests"),
    # The domain types: plain values that everything else builds on.
    "models": ("restday",),
    # The add-on only translates options into a config and starts restday: the broker comes
    # from the Supervisor through run.sh, and its only HTTP is Strava's, through the client.
    "addon": (
        "paho",
        "sqlite3",
        "socket",
        "http",
        "urllib.request",
        "requests",
        "stravalib",
        "restday.store",
        "restday.rules",
    ),
}


def part_files(part: str) -> list[Path]:
    folder = PACKAGE / part
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{part}.py"]


def banned(name: str, nevers: tuple[str, ...]) -> bool:
    return any(name == n or name.startswith(n + ".") for n in nevers)


@pytest.mark.parametrize("part", sorted(NEVERS))
def test_no_part_imports_what_the_design_rules_out(part: str) -> None:
    files = part_files(part)
    assert files, f"no module for {part}"
    found = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(imports(path))
        if banned(name, NEVERS[part])
    ]
    assert found == []


def test_the_table_catches_a_part_reaching_where_it_must_not() -> None:
    """The check itself can fail: each part's first ban matches an import of it."""
    for part, nevers in NEVERS.items():
        assert banned(nevers[0] + ".anything", nevers), part
    assert not banned("restday.models", NEVERS["rules"])
    assert not banned("restday.storex", NEVERS["store"])  # a prefix of a name is not a match
