"""Plain-text views of recommendations for the terminal (`restday status`, `restday history`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from restday.cli.backtest import Backtest
from restday.models import Finding, Recommendation, Severity, Status

STATUS_LINE: dict[Status, str] = {
    Status.TRAIN: "TRAIN — good to go as planned",
    Status.EASY: "EASY — keep today easy or short",
    Status.REST: "REST — rest day recommended",
    Status.SEE_DOCTOR: "SEE A DOCTOR — rest, and have the pain looked at",
    Status.CALIBRATING: "CALIBRATING — learning your baseline (fewer than 28 days of history)",
}

_INDENT = " " * 4
TEXT_WIDTH = 96  # characters per line of wrapped finding text

# What a runner would have to connect for the rules in `silent` to run (RULES.md, `silent`).
NOT_TRACKED: dict[str, str] = {
    "sleep_short": "sleep",
    "sleep_debt": "sleep",
    "hrv": "sleep",
    "resting_hr": "sleep",
    "dehydration_post_run": "weight",
    "weight_drop_morning": "weight",
}


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip() if unit not in ("", "ratio") else text


def _finding_lines(f: Finding) -> list[str]:
    numbers = f"value {_number(f.value, f.unit)}"
    if f.threshold is not None:
        numbers += f" · threshold {_number(f.threshold, f.unit)}"
    body = textwrap.wrap(f.message, TEXT_WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT)
    source = textwrap.wrap(
        f"{numbers} · source: {f.citation}",
        TEXT_WIDTH,
        initial_indent=_INDENT,
        subsequent_indent=_INDENT + "  ",
    )
    head = f"  {f.severity.value.upper()} · {f.rule}"
    if f.family:
        head += f" ({f.family})"
    if f.run_day is not None:
        head += f" · from the run of {f.run_day:%a %Y-%m-%d}"
    return [head, *body, *source]


def not_tracked(silent: Sequence[str]) -> list[str]:
    """The inputs behind the silent rules, once each, in order: ["sleep", "weight"]."""
    return list(dict.fromkeys(NOT_TRACKED.get(rule, rule) for rule in silent))


def status_text(rec: Recommendation, timezone_name: str, *, athlete: str | None = None) -> str:
    """The readable form of a recommendation: status, readiness, findings, metrics; `athlete`:
    the name to head it with (a household's)."""
    day = rec.evaluated_at
    whose = f"{athlete} — " if athlete else ""
    lines = [
        f"restday — {whose}{day:%a %Y-%m-%d %H:%M} ({timezone_name})",
        f"Status:    {STATUS_LINE[rec.status]}",
        f"Readiness: {rec.readiness}/100",
        "",
    ]
    if rec.reasons:
        lines.append(f"Findings ({len(rec.reasons)}), most important first:")
        for f in rec.reasons:
            lines.extend(_finding_lines(f))
            lines.append("")
    else:
        lines.append("Findings: none.")
    m = rec.metrics
    lines += ["", "Metrics:"]
    lines.append(
        f"  running   {m.week_km:.1f} km in 7 days (the 7 before: {m.prev_week_km:.1f} km); "
        f"longest in 30 days before today: {_number(m.longest_run_30d_km, 'km')}"
    )
    lines.append(
        f"  load      today {m.today_load:.0f} · acute {_number(m.acute_load, '')} · "
        f"chronic {_number(m.chronic_load, '')} · ACWR {_number(m.acwr, '')} ({m.load_source})"
    )
    lines.append(f"  rest      {m.days_since_rest} days since a rest day")
    lines.append(
        f"  sleep     last night {_number(m.last_sleep_h, 'h')} · "
        f"debt over 7 nights {_number(m.sleep_debt_h, 'h')}"
    )
    lines.append(f"  weight    {_number(m.weight_kg, 'kg')}")
    for shoe in m.shoes:
        lines.append(f"  shoe      {shoe.name}: {shoe.km:.0f} km")
    if rec.stale:
        lines += ["", "Missing or old inputs: " + "; ".join(rec.stale)]
    if rec.waiting:
        lines += ["", "Waiting for 28 days of history: " + ", ".join(rec.waiting)]
    if rec.silent:
        lines += ["", _not_tracked_line(rec.silent)]
    return "\n".join(lines)


def _not_tracked_line(silent: Sequence[str]) -> str:
    inputs = not_tracked(silent)
    them = "them" if len(inputs) > 1 else "it"
    why = f"no source configured, so restday did not look at {them}"
    return f"Not tracked: {', '.join(inputs)} ({why})"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    day: date
    rec: Recommendation


HISTORY_HEADER = (
    f"{'date':<16}{'status':<13}{'ready':>6}{'load':>7}{'ACWR':>6}"
    f"{'km':>7}{'7d km':>7}{'sleep':>7}{'kg':>7}  reasons"
)


def history_text(rows: Sequence[HistoryRow]) -> str:
    """One line a day: status, readiness, load, ACWR, km, sleep, weight, the rules that fired."""
    lines = [HISTORY_HEADER]
    for row in rows:
        m = row.rec.metrics
        fired = ", ".join(f.rule for f in row.rec.reasons if f.severity.rank > 0)
        lines.append(
            f"{row.day:%a %Y-%m-%d}".ljust(16)
            + f"{row.rec.status.value:<13}{row.rec.readiness:>6}{m.today_load:>7.0f}"
            + f"{_cell(m.acwr, 2):>6}{_cell(m.today_run_km, 1):>7}{m.week_km:>7.1f}"
            + f"{_cell(m.last_sleep_h, 1):>7}{_cell(m.weight_kg, 1):>7}  {fired}"
        )
    return "\n".join(lines)


def _cell(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summary_text(backtest: Backtest) -> str:
    """`history --summary`: the days by status, then per rule the days it fired at each
    severity and the easy/rest days it decided."""
    days = backtest.days
    span = f" · {backtest.first} to {backtest.last}" if backtest.first else ""
    lines = [f"{days} days{span}", "", f"  {'status':<14}{'days':>6}{'%':>8}"]
    for status in Status:
        n = backtest.by_status[status]
        share = 100 * n / days if days else 0.0
        lines.append(f"  {status.value:<14}{n:>6}{share:>8.1f}")
    lines.append("")
    if not backtest.rules:
        lines.append("No rule fired.")
    else:
        severities = "".join(f"{s.value:>9}" for s in Severity)
        lines.append(f"  {'rule':<22}{severities}{'decided':>9}")
        for rule, count in backtest.ordered_rules():
            cells = "".join(f"{count.fired[s]:>9}" for s in Severity)
            lines.append(f"  {rule:<22}{cells}{count.decided:>9}")
        lines += [
            "",
            "Days each rule fired, at its most severe that day; decided: the easy, rest and",
            "see-a-doctor days on which it was a finding that set the status.",
        ]
    if backtest.silent:
        lines += ["", _not_tracked_line(backtest.silent)]
    return "\n".join(lines)
