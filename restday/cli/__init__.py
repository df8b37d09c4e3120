"""The `restday` command line (DESIGN.md §3): thin commands over config, store and rules.

With several athletes configured (a household, DESIGN.md §7), `status`, `history`, `import`
and `strava auth|sync` are for the one named by `--athlete ID` (`athletes`), and
`restday assign` gives a shared scale's unassigned weigh-in to its athlete (`assign`).

Exit codes: 0 ok, 1 a runtime failure, 2 usage, 78 a configuration error (EX_CONFIG, so
systemd stops restarting a service that cannot start).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from restday import __version__
from restday.cli import assign, init
from restday.cli.athletes import chosen, open_store, read_history, several
from restday.cli.backtest import Backtest
from restday.cli.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from restday.cli.report import HistoryRow, history_text, status_text, summary_text
from restday.clock import Clock, SystemClock, end_of_day
from restday.config import MAX_PORT, Config, ConfigError, load_config, resolve_config_path
from restday.rules.engine import evaluate, evaluate_days
from restday.store import StoreError
from restday.sync import ImportFileError, ingest_activities, read_activity_file

MAX_HISTORY_DAYS = 3650


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for chatty in ("stravalib", "apscheduler"):  # every request, every job at INFO: noise
        logging.getLogger(chatty).setLevel(logging.NOTSET if args.verbose else logging.WARNING)
    usage_check: Callable[[argparse.Namespace], str | None] | None = args.usage_check
    problem = usage_check(args) if usage_check else None
    if problem is not None:  # before the config: a usage error is exit 2 whatever the config
        print(f"restday {_name(args)}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.standalone:  # the demo brings its own config: none of the user's applies
        standalone: Callable[[argparse.Namespace], int] = args.handler
        return standalone(args)
    command: Callable[[argparse.Namespace, Config, Clock], int] = args.handler
    try:
        path, explicit = resolve_config_path(args.config)
        config = load_config(path, explicit=explicit)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"restday: configuration error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return command(args, config, clock or SystemClock())
    except UsageError as exc:  # arguments the config refuses: `--athlete`
        print(f"restday {_name(args)}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ImportFileError, StoreError) as exc:
        print(f"restday: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # `restday history | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


# --- commands -------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    athlete = chosen(config, args.athlete)
    items = read_activity_file(Path(args.file))
    with open_store(config, writes=True) as store:
        try:
            report = ingest_activities(store, items, athlete=athlete)
        except ValueError as exc:  # an activity stored for another athlete: nothing stored
            print(f"restday: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    whose = f" for {athlete}" if several(config) else ""
    print(f"Imported {report.summary()}{whose} into {config.store_path()}.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    athlete = chosen(config, args.athlete)
    profile = config.profile(athlete)
    now = end_of_day(args.date, profile.timezone) if args.date else clock.now()
    history = read_history(config, athlete)
    rec = evaluate(history, now, profile, config.rules_for(athlete), config.decision)
    if args.json:
        print(json.dumps(rec.to_payload(), ensure_ascii=False))
    else:
        who = config.athlete_config(athlete)
        print(status_text(rec, who.timezone, athlete=who.name if several(config) else None))
    return EXIT_OK


def cmd_history(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    athlete = chosen(config, args.athlete)
    profile = config.profile(athlete)
    now = clock.now()
    today = now.astimezone(profile.timezone).date()
    last = args.until or today
    if last > today:
        print(
            f"restday history: error: --until {last} is after today "
            f"({today} in {profile.timezone}): there is no history after today",
            file=sys.stderr,
        )
        return EXIT_USAGE
    history = read_history(config, athlete)
    days = evaluate_days(
        history,
        last - timedelta(days=args.days - 1),
        last,
        now,
        profile,
        config.rules_for(athlete),
        config.decision,
    )
    if args.summary:
        backtest = Backtest.of(days, config.decision)
        if args.json:
            print(json.dumps(backtest.to_payload(), ensure_ascii=False))
        else:
            print(summary_text(backtest))
        return EXIT_OK
    if args.json:  # JSON Lines, one a day as it is evaluated: `| head` stops early
        for day, rec in days:
            print(json.dumps({"day": day.isoformat(), **rec.to_payload()}, ensure_ascii=False))
        return EXIT_OK
    rows = [HistoryRow(day=day, rec=rec) for day, rec in days]
    if args.plot is not None:
        from restday.cli.plot import (
            write_history_chart,  # matplotlib only when a chart is asked for
        )

        name = config.athlete_config(athlete).name
        return write_history_chart(args.plot, rows, history, name)
    print(history_text(rows))
    return EXIT_OK


def _history_usage(args: argparse.Namespace) -> str | None:
    """`--plot` draws the rows: it combines with neither `--json` nor `--summary`."""
    if args.plot is not None:
        for flag in ("json", "summary"):
            if getattr(args, flag):
                return f"--plot cannot be combined with --{flag} (a chart is drawn from the rows)"
    return None


def cmd_run(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from restday.daemon.service import run  # the service's imports, only when it runs

    return run(config, clock=clock)


def cmd_demo(args: argparse.Namespace) -> int:
    from restday.demo import run as demo  # the demo's broker and story, only when it runs

    return demo.main(args)


def cmd_strava_auth(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from restday.cli import strava as strava_commands  # stravalib only when one runs

    athlete = chosen(config, args.athlete)
    return strava_commands.authorize(config, clock, athlete=athlete, code=args.code, port=args.port)


def cmd_strava_sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from restday.cli import strava as strava_commands

    return strava_commands.sync(config, clock, athlete=chosen(config, args.athlete), days=args.days)


def cmd_assign(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    if args.list:
        return assign.list_unassigned(config)
    return assign.assign(config, args.time, args.athlete)


def cmd_check_config(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from restday.cli.checks import check_config

    return check_config(config, connect=not args.no_connect)


# --- helpers --------------------------------------------------------------------------------


def _name(args: argparse.Namespace) -> str:
    """The command as typed: "status", "strava sync"."""
    sub = getattr(args, "strava_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_HISTORY_DAYS}")
    return days


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to {MAX_PORT}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $RESTDAY_CONFIG, ./restday.toml, the platform config dir)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    whose = argparse.ArgumentParser(add_help=False)  # a household's commands for one athlete
    whose.add_argument(
        "--athlete",
        metavar="ID",
        help="the athlete's id from the config (required when several are configured)",
    )

    parser = argparse.ArgumentParser(
        prog="restday",
        description="A recovery coach for runners: tells you (and Home Assistant) when to rest.",
    )
    parser.add_argument("--version", action="version", version=f"restday {__version__}")
    # every command but demo and init reads the user's config; a command may check its arguments
    parser.set_defaults(standalone=False, usage_check=None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="the service: MQTT in and out, until stopped")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("demo", help="try restday on a sample runner: no broker, account or config")
    p.add_argument("--keep", action="store_true", help="keep broker and service up until Ctrl-C")
    p.add_argument("--household", action="store_true", help="two runners sharing one scale")
    p.add_argument(
        "--full",
        action="store_true",
        help="print every event (default: the moments that matter)",
    )
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "amqtt"),
        help="the broker to run (default: $RESTDAY_DEMO_BROKER, else auto: "
        "mosquitto if installed, else amqtt)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    p.set_defaults(handler=cmd_demo, standalone=True)

    p = sub.add_parser(
        "init",
        help="write a starter config: the commented example, with this host's time zone",
        description="Write the commented example config, with this host's time zone as the "
        "athlete's, to start from. An existing file is not overwritten (exit 1); the new one "
        "is readable by you only (mode 0600), as it will hold secrets.",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="where to write it (default: $RESTDAY_CONFIG, else the platform config dir, "
        "e.g. ~/.config/restday/restday.toml)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    p.set_defaults(handler=init.run, standalone=True)

    p = sub.add_parser("status", parents=[common, whose], help="today's recommendation and why")
    p.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="evaluate the end of that day")
    p.add_argument("--json", action="store_true", help="print the MQTT state payload")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser(
        "history", parents=[common, whose], help="one row a day: status, load, sleep"
    )
    p.add_argument("--days", type=_days, default=14, metavar="N", help="how many days (14)")
    p.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="the last day (today)")
    p.add_argument(
        "--json",
        action="store_true",
        help="one state payload a day (JSON Lines), each with its day",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="days by status; per rule, days fired and days decided",
    )
    p.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="a PNG chart instead of the table (needs restday[plot])",
    )
    p.set_defaults(handler=cmd_history, usage_check=_history_usage)

    strava = sub.add_parser("strava", help="authorise restday with Strava, or sync now")
    strava_sub = strava.add_subparsers(dest="strava_command", required=True, metavar="COMMAND")
    p = strava_sub.add_parser("auth", parents=[common, whose], help="authorise restday (OAuth)")
    p.add_argument("--code", help="exchange a code pasted from the browser (headless hosts)")
    p.add_argument("--port", type=_port, default=0, help="redirect port on 127.0.0.1 (random)")
    p.set_defaults(handler=cmd_strava_auth)
    p = strava_sub.add_parser("sync", parents=[common, whose], help="one sync now")
    p.add_argument("--days", type=_days, metavar="N", help="backfill N days")
    p.set_defaults(handler=cmd_strava_sync)

    p = sub.add_parser(
        "import", parents=[common, whose], help="import a JSON file of Strava activities"
    )
    p.add_argument("file", metavar="FILE", help="a JSON array of Strava activity objects")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser(
        "assign",
        parents=[common],
        help="give a shared scale's unassigned weigh-in to its athlete",
        description="Give the weigh-in a shared scale could not assign (the unassigned_weigh_in "
        "notification) to its athlete, or list those kept unassigned.",
    )
    p.add_argument(
        "time",
        nargs="?",
        type=assign.instant,
        metavar="TIME",
        help="the weigh-in's time as the notification sent it (ISO 8601 with its zone)",
    )
    p.add_argument("athlete", nargs="?", metavar="ATHLETE", help="the athlete's id")
    p.add_argument(
        "--list", action="store_true", help="list the unassigned weigh-ins, with their TIME"
    )
    p.set_defaults(handler=cmd_assign, usage_check=assign.usage)

    p = sub.add_parser("check-config", parents=[common], help="validate, show and try the config")
    p.add_argument("--no-connect", action="store_true", help="do not try the broker")
    p.set_defaults(handler=cmd_check_config)
    return parser
