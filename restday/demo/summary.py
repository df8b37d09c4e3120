"""The single runner's story begins with what runs and whose days it replays (`header`), and ends
with the final recommendation (`final`): in full, as `restday status` prints it, with
`restday demo --full`; else its status, readiness and top reasons in the runner's words.
"""

from __future__ import annotations

import textwrap

from restday.cli.report import STATUS_LINE, status_text
from restday.demo.data import REPLAY_DAYS
from restday.demo.sample import SAMPLE_WEEKS
from restday.demo.screen import RULE, WIDTH, Screen
from restday.models import Recommendation

TOP_REASONS = 3  # as many as a notification spells out
REASON_INDENT = " " * 4  # a reason's wrapped lines


def header(screen: Screen, broker_line: str, full: bool) -> None:
    """What is running and whose days it replays; what the arrows mean."""
    screen.line("restday demo: ten weeks of a sample runner, replayed through the real service.")
    screen.line(broker_line)
    if full:
        screen.line("  → what the sleep tracker, the scale, Strava and Home Assistant send restday")
        screen.line("  ← what restday publishes: notifications, and each change of status")
    else:
        synced = SAMPLE_WEEKS - REPLAY_DAYS // 7
        screen.line(
            f"  The runner's first {synced} weeks come in one Strava sync; "
            f"the last {REPLAY_DAYS} days one by one."
        )
        screen.line("  → what the sleep tracker, the scale, Strava and Home Assistant send restday")
        screen.line(
            "  ← what restday tells the runner: the moments that matter (--full: every event)"
        )
    screen.line()


def final(screen: Screen, rec: Recommendation | None, timezone: str, full: bool) -> None:
    """The recommendation the story ends with, between two rules."""
    if rec is None:
        return
    screen.line()
    screen.line(RULE)
    if full:
        screen.line("The final recommendation, as `restday status` and Home Assistant show it:")
        screen.line()
        screen.line(status_text(rec, timezone))
    else:
        for line in _short(rec):
            screen.line(line)
    screen.line(RULE)


def _short(rec: Recommendation) -> list[str]:
    """Status, readiness and the top reasons, each in full (its numbers and the study it
    cites by name); how many more there are, and where to see them."""
    when = rec.evaluated_at
    lines = [
        f"The final recommendation, {when:%a %d %b %H:%M}:",
        f"Status:    {STATUS_LINE[rec.status]}",
        f"Readiness: {rec.readiness}/100",
    ]
    top = rec.reasons[:TOP_REASONS]
    if not top:
        return [*lines, "No warning signs."]
    lines.append(f"Top reasons ({len(top)} of {len(rec.reasons)}), most important first:")
    for f in top:
        lines += textwrap.wrap(
            f"{f.severity.value.upper()} · {f.rule}: {f.message}",
            WIDTH,
            initial_indent="  ",
            subsequent_indent=REASON_INDENT,
        )
    more = len(rec.reasons) - len(top)
    if more:
        lines.append(
            f"  and {more} more: `restday demo --full` prints them all, with values and sources."
        )
    return lines
