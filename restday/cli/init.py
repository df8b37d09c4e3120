"""`restday init`: write the commented example config, with this host's time zone, to start from.

It runs before any config exists, so it reads none (DESIGN.md §7): the file goes to `--config
PATH`, else `$RESTDAY_CONFIG`, else the platform config dir, where the other commands look for
it. An existing file is never overwritten, and the new one is private (mode 0600): it will
hold secrets. The example is the package's `restday/config/example.toml` (the repository's
`config.example.toml`), so an installed wheel has it too.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from importlib.resources import files
from pathlib import Path

import platformdirs

from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.config import APP_NAME, CONFIG_FILE_NAME, resolve_config_path
from restday.config.timezones import host_timezone

EXAMPLE_RESOURCE = "example.toml"  # in the restday.config package
FILE_MODE = 0o600
# The [athlete] table's `timezone = "..."   # comment` line: the first one at a line's start.
ATHLETE_TIMEZONE = re.compile(r'^timezone = "(?P<zone>[^"]*)"(?P<pad> *)#', re.MULTILINE)


def example_config() -> str:
    """The commented example config shipped with the package."""
    return files("restday.config").joinpath(EXAMPLE_RESOURCE).read_text(encoding="utf-8")


def with_timezone(text: str, zone: str) -> str:
    """`text` with the [athlete] table's time zone set to `zone`, its comment kept in place."""
    found = ATHLETE_TIMEZONE.search(text)
    if found is None:
        raise ValueError("the example config has no `timezone = ...` line for [athlete]")
    width = len(found["zone"]) + len(found["pad"])
    value = f'"{zone}"'
    line = f"timezone = {value}{' ' * max(1, width + 2 - len(value))}#"
    return text[: found.start()] + line + text[found.end() :]


def target(cli_path: str | None) -> Path:
    """Where to write: `--config PATH`, else $RESTDAY_CONFIG, else the platform config dir."""
    path, explicit = resolve_config_path(cli_path)
    if explicit and path is not None:
        return path
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def write_new(path: Path, text: str) -> None:
    """Create `path` with `text`, mode 0600; FileExistsError if anything is there already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)  # never overwrites
    try:
        os.fchmod(fd, FILE_MODE)  # whatever the umask
        with open(fd, "wb", closefd=False) as out:
            out.write(text.encode("utf-8"))
        os.fsync(fd)
    except BaseException:
        path.unlink(missing_ok=True)  # ours, just created: no half-written config left behind
        raise
    finally:
        os.close(fd)


def run(args: argparse.Namespace) -> int:
    """The command: exit 0 with the file written, 1 if it exists or cannot be written."""
    path = target(args.config)
    zone = host_timezone()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_new(path, with_timezone(example_config(), zone))
    except FileExistsError as exc:
        if exc.filename != str(path):  # the folder's name is taken by a file
            print(f"restday init: cannot create the folder {exc.filename}", file=sys.stderr)
        else:
            print(f"restday init: {path} exists; not overwritten", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"restday init: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(next_steps(path, zone, named=args.config is not None))
    return EXIT_OK


def next_steps(path: Path, zone: str, *, named: bool) -> str:
    """What `init` says after writing: the file, and what to do with it."""
    found, _ = resolve_config_path(None)
    found_anyway = found is not None and found.resolve() == path.resolve()
    config = "" if found_anyway else f" --config {shlex.quote(str(path))}"
    lines = [
        f"Wrote {path} (mode 0600), with this host's time zone {zone} for the athlete.",
        "Next:",
        "  1. Edit it: every key is there with its default and what it means. Set at least",
        "     your broker [mqtt], your Strava application [strava] and your [[scale]] and",
        "     [[sleep]] inputs. Secrets may stay in it (only you can read it) or go in the",
        "     environment: RESTDAY_MQTT__PASSWORD, RESTDAY_STRAVA__CLIENT_SECRET.",
        f"  2. Check it: restday check-config{config}",
        f"  3. Authorise Strava: restday strava auth{config}",
        f"  4. Start the service: restday run{config}",
    ]
    if found is not None and not found_anyway and not named:  # the default path, shadowed
        lines.append(f"Commands run in this folder read {found} first.")
    return "\n".join(lines)
