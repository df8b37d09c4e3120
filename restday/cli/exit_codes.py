"""The exit codes of every `restday` command (DESIGN.md §3), and the usage error found once the
config is read."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # a runtime failure: an unreadable import file, a failed sync
EXIT_USAGE = 2  # argparse's, and a combination of options that cannot be
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: systemd stops restarting a service that cannot start
EXIT_SIGNAL_BASE = 128  # a command cut short by a signal exits 128 + its number


class UsageError(Exception):
    """Arguments that the config refuses (no `--athlete` with several athletes configured, an
    id it does not have): the command exits 2 with the message."""
