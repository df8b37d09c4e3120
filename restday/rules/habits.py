"""Pain and habit rules: `pain`, `shoe_mileage`, `cadence`, `strength` (RULES.md)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta

from restday.models import Finding, Severity, SportKind
from restday.rules import settings
from restday.rules.base import finding, over, under
from restday.rules.context import Context
from restday.rules.sources import LEGS_ACHING, POST_RUN_ACHES, RUN_WITH_SORE_LEGS, SORE_LEGS, cite

WEEK_DAYS = 7  # "the last 7 days": today and the 6 before it
PAIN_UNIT = "/10"
SHOE_UNIT = "km"
CADENCE_UNIT = "spm"
STRENGTH_UNIT = "sessions"
CADENCE_STEP_UP_MIN = 0.05  # Heiderscheit et al.: +5 % steps per minute …
CADENCE_STEP_UP_MAX = 0.10  # … to +10 % lowers the load on knee and hip

PAIN_CITATION = (
    f"{RUN_WITH_SORE_LEGS} (pain scale 1–3 / 4–7 / 8–10, > 3 days); "
    f"{LEGS_ACHING} (> 1 week); Silbernagel et al., AJSM 2007;35:897"
)
SHOE_CITATION = cite(LEGS_ACHING, SORE_LEGS + " (300–500 miles)", "Cook et al., AJSM 1985;13:248")
CADENCE_CITATION = cite(POST_RUN_ACHES, "Heiderscheit et al., MSSE 2011;43:296")
STRENGTH_CITATION = cite(LEGS_ACHING, POST_RUN_ACHES, "Lauersen et al., BJSM 2014;48:871")


def _week_start(ctx: Context) -> date:
    return ctx.today - timedelta(days=WEEK_DAYS - 1)


# --- pain -------------------------------------------------------------------------------


PAIN_CARRY_DAYS = 2  # with no report today, the latest of the 2 days before counts …
_CARRIED = {Severity.DOCTOR: Severity.STRONG, Severity.STRONG: Severity.MODERATE}  # … lower


def _report_days(ctx: Context) -> list[tuple[date, int]]:
    """(day, level of its last report) of the latest report days, newest first."""
    return [(ctx.local_date(r.time), r.level) for r in reversed(ctx.pains)]


def _graded_pain(
    days: list[tuple[date, int]], thresholds: settings.Pain
) -> tuple[Severity, int, int] | None:
    """The severity of the newest of `days` (newest first), its threshold and the streak of
    report days at the rest level (days without a report neither break nor extend it)."""
    level = days[0][1]
    streak = 0
    for _, earlier in days:
        if earlier < thresholds.rest_min:
            break
        streak += 1
    if level >= thresholds.doctor_min:
        return Severity.DOCTOR, thresholds.doctor_min, streak
    if streak > thresholds.persist_days:
        return Severity.DOCTOR, thresholds.rest_min, streak
    if level >= thresholds.rest_min:
        return Severity.STRONG, thresholds.rest_min, streak
    if level >= 1:
        return Severity.INFO, thresholds.rest_min, streak
    return None


def pain(ctx: Context, thresholds: settings.Pain) -> Sequence[Finding]:
    """The latest pain report of today on the 0–10 scale of "Should You Go Running With Sore
    Legs?"; with none today, the latest of the two days before, one step lower."""
    days = _report_days(ctx)
    if not days:
        return []
    day = days[0][0]
    back = (ctx.today - day).days
    if back > PAIN_CARRY_DAYS:
        return []
    graded = _graded_pain(days, thresholds)
    if graded is None:
        return []
    severity, threshold, _ = graded
    level = days[0][1]
    if back:
        carried = _CARRIED.get(severity)
        if carried is None:  # a green-zone report is not carried
            return []
        when = "yesterday" if back == 1 else f"on {day:%A}"
        message = (
            f"Pain {level}/10 {when}, and no report since: until you say it has eased, "
            + (
                "keep it to easy movement or rest."
                if carried is Severity.MODERATE
                else "don't run, and have it checked by a doctor or physiotherapist."
            )
            + " Report today's pain to update this."
        )
        severity = carried
    elif severity is Severity.DOCTOR and level >= thresholds.doctor_min:
        message = (
            f"Pain {level}/10 today ({thresholds.doctor_min} or more): don't run, "
            "and see a doctor or physiotherapist to find the cause."
        )
    elif severity is Severity.DOCTOR:
        message = (
            f"Pain {level}/10 today, at {thresholds.rest_min} or more on more than "
            f"{thresholds.persist_days} report days in a row: don't run, and have it checked "
            "by a doctor or "
            "physiotherapist (training soreness fades within about three days)."
        )
    elif severity is Severity.STRONG:
        message = (
            f"Pain {level}/10 today ({thresholds.rest_min} or more): take a rest day rather than "
            "running through it. Tendon rehab under a physio may allow up to 5/10, "
            "but not on your own."
        )
    else:
        message = (
            f"Pain {level}/10 today (green zone, under {thresholds.rest_min}): an easy run is "
            "fine. Stop if it gets sharper, and rest if it reaches "
            f"{thresholds.rest_min}/10 or lasts more than a few days."
        )
    return [
        finding(
            "pain",
            severity,
            message,
            value=level,
            threshold=threshold,
            unit=PAIN_UNIT,
            citation=PAIN_CITATION,
        )
    ]


# --- shoes ------------------------------------------------------------------------------


def shoe_mileage(ctx: Context, thresholds: settings.ShoeMileage) -> Sequence[Finding]:
    """One info per active pair of shoes past a threshold (Strava lists shoes as gear)."""
    out: list[Finding] = []
    for gear in ctx.gear:
        if gear.retired:
            continue
        distance = gear.distance_km
        if over(distance, thresholds.replace_km):
            threshold = thresholds.replace_km
            message = (
                f"{gear.name}: {distance:.0f} km (over {thresholds.replace_km:.0f} km). "
                "Time to replace them: worn cushioning passes more shock to your legs."
            )
        elif over(distance, thresholds.warn_km):
            threshold = thresholds.warn_km
            message = (
                f"{gear.name}: {distance:.0f} km (over {thresholds.warn_km:.0f} km). "
                f"Plan a new pair before {thresholds.replace_km:.0f} km."
            )
        else:
            continue
        out.append(
            finding(
                "shoe_mileage",
                Severity.INFO,
                message,
                value=distance,
                threshold=threshold,
                unit=SHOE_UNIT,
                citation=SHOE_CITATION,
                subject=gear.id,
            )
        )
    return out


# --- cadence ----------------------------------------------------------------------------


def cadence_7d(ctx: Context) -> float | None:
    """Mean steps per minute of the runs of the last 7 days that recorded cadence."""
    values = [
        a.cadence_spm
        for a in ctx.activities_between(_week_start(ctx), ctx.today)
        if a.is_run and a.cadence_spm  # 0 means the watch recorded none
    ]
    return statistics.fmean(values) if values else None


def cadence(ctx: Context, thresholds: settings.Cadence) -> Sequence[Finding]:
    mean = cadence_7d(ctx)
    if mean is None or not under(mean, thresholds.min_spm):
        return []
    low = mean * (1 + CADENCE_STEP_UP_MIN)
    high = mean * (1 + CADENCE_STEP_UP_MAX)
    message = (
        f"Your runs this week averaged {mean:.0f} steps/min (under {thresholds.min_spm:.0f}). "
        f"Try 5–10 % quicker, shorter steps (about {low:.0f}–{high:.0f}): that lowers the "
        "load on knees and hips; the evidence backs that step-up, not a fixed number."
    )
    return [
        finding(
            "cadence",
            Severity.INFO,
            message,
            value=mean,
            threshold=thresholds.min_spm,
            unit=CADENCE_UNIT,
            citation=CADENCE_CITATION,
        )
    ]


# --- strength ---------------------------------------------------------------------------


def strength_sessions_7d(ctx: Context) -> int:
    """Strength sessions in the last 7 days (today included)."""
    week = ctx.activities_between(_week_start(ctx), ctx.today)
    return sum(1 for a in week if a.kind is SportKind.STRENGTH)


def strength(ctx: Context, thresholds: settings.Strength) -> Sequence[Finding]:
    """Too few strength sessions for someone who is running (silent in a week off)."""
    week = ctx.activities_between(_week_start(ctx), ctx.today)
    if not any(a.is_run for a in week):
        return []
    count = strength_sessions_7d(ctx)
    if not count < thresholds.min_sessions:
        return []
    sessions = "session" if count == 1 else "sessions"
    message = (
        f"{count} strength {sessions} in the last 7 days (under {thresholds.min_sessions}). "
        "Add calf raises, single-leg squats and hip work twice a week: "
        "strength training almost halves overuse injuries."
    )
    return [
        finding(
            "strength",
            Severity.INFO,
            message,
            value=count,
            threshold=thresholds.min_sessions,
            unit=STRENGTH_UNIT,
            citation=STRENGTH_CITATION,
        )
    ]
