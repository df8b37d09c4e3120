"""`python -m restday.addon`: what the add-on's run.sh starts.

Reads the options (/data/options.json) and the Supervisor's MQTT service (JSON on stdin, as
run.sh fetched it with bashio), writes restday's configuration to /data/restday.toml (mode
0600) with the optional /config/restday.toml merged over it, exchanges a pasted Strava code
once, then becomes `restday run --config /data/restday.toml`. A configuration problem is one
line per problem and exit code 78, as for restday itself. The paths are arguments, for tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from restday import __version__
from restday.addon.configure import AddonConfigError, Configured, configure
from restday.addon.strava_code import settle_strava
from restday.cli.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from restday.clock import Clock, SystemClock
from restday.config import CONFIG_FILE_NAME

log = logging.getLogger("restday.addon")

DATA_DIR = Path("/data")  # the add-on's own, backed up with it
OPTIONS_FILE = DATA_DIR / "options.json"  # written by the Supervisor from the add-on's form
USER_FILE = Path("/config") / CONFIG_FILE_NAME  # the add-on's config folder (addon_config)
STDIN = "-"

Exec = Callable[[str, list[str]], object]


def main(
    argv: Sequence[str] | None = None, *, run: Exec = os.execv, clock: Clock | None = None
) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    data_dir: Path = args.data.absolute()
    target: Path = (args.config or data_dir / CONFIG_FILE_NAME).absolute()
    try:
        options = _json_object(_read(str(args.options)), f"the options ({args.options})")
        service = _json_object(_read(args.mqtt_service), "the Supervisor's MQTT service")
    except ValueError as exc:
        print(f"restday add-on: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        configured = configure(
            options, service, data_dir=data_dir, target=target, user_file=args.user_config
        )
    except AddonConfigError as exc:
        for line in exc.errors:
            print(f"restday add-on: configuration error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    log.info("%s", summary(configured, service))
    settle_strava(configured.config, configured.translation.codes, data_dir, clock or SystemClock())
    command = [sys.executable, "-m", "restday", "run", "--config", str(target)]
    if configured.translation.debug:
        command.append("--verbose")
    if args.no_run:
        print(shlex.join(command))
        return EXIT_OK
    sys.stdout.flush()
    sys.stderr.flush()
    run(command[0], command)  # os.execv: restday replaces this process
    return EXIT_OK


def summary(configured: Configured, service: Mapping[str, Any]) -> str:
    """One line for the log: who, which broker and where from, which inputs, which files."""
    config = configured.config
    mqtt = config.mqtt
    login = f" as {mqtt.username}" if mqtt.username else ""
    source = "the Supervisor's" if service.get("host") == mqtt.host else "the TOML file's"
    merged = f", {configured.user_file} merged over the options" if configured.user_file else ""
    return (
        f"restday {__version__}: {len(config.athletes)} athlete(s) "
        f"({', '.join(config.athlete_ids())}); broker {mqtt.host}:{mqtt.port}{login} "
        f"({source}{', TLS' if mqtt.tls else ''}); {len(config.scale)} scale and "
        f"{len(config.sleep)} sleep input(s); store {config.store_path()}{merged}; "
        f"config {configured.path}"
    )


def _read(source: str) -> str:
    """stdin or a file's text; ValueError saying why it cannot be read."""
    if source == STDIN:
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"{source} cannot be read: {reason}") from None


def _json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object ({} for empty text: no service); ValueError naming `what` otherwise."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object")
    return data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m restday.addon",
        description="Configure restday from the Home Assistant add-on's options, then run it.",
    )
    parser.add_argument("--options", type=Path, default=OPTIONS_FILE, help="the options JSON")
    parser.add_argument(
        "--mqtt-service",
        default=STDIN,
        metavar="PATH",
        help="the Supervisor's MQTT service as JSON (- for stdin, the default)",
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="store, tokens, config")
    parser.add_argument("--config", type=Path, help="the config to write (DATA/restday.toml)")
    parser.add_argument(
        "--user-config", type=Path, default=USER_FILE, help="TOML merged over the options"
    )
    parser.add_argument(
        "--no-run", action="store_true", help="print the restday command instead of running it"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
