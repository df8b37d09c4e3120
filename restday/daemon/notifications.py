"""Which notifications a new evaluation calls for (RULES.md, "Notifications"). Pure.

Each notification carries a `key` naming its cause; the worker records the keys it sent in
the store and never sends one twice, across restarts too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from restday.cli.report import STATUS_LINE
from restday.models import Finding, Recommendation, Severity, Status
from restday.rules.body import fluid_advice
from restday.rules.post_run import RunNews

TOP_REASONS = 3  # how many reasons a notification spells out

_TITLES: dict[Status, str] = {
    Status.TRAIN: "Good to train",
    Status.EASY: "Keep it easy today",
    Status.REST: "Rest day recommended",
    Status.SEE_DOCTOR: "Rest, and see a doctor",
    Status.CALIBRATING: "Learning your baseline",
}


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for the notification topic (DESIGN.md §5)."""

    key: str  # its cause: the same key is never sent twice
    event_type: str
    title: str
    message: str
    data: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "event_type": self.event_type,
                "title": self.title,
                "message": self.message,
                "data": self.data,
            },
            ensure_ascii=False,
        )


def _reasons_text(reasons: Sequence[Finding]) -> str:
    weighty = [f for f in reasons if f.severity.rank > Severity.INFO.rank][:TOP_REASONS]
    return " ".join(f.message for f in weighty)


def _summary(rec: Recommendation) -> dict[str, object]:
    return {
        "status": rec.status.value,
        "readiness": rec.readiness,
        "rest_day_recommended": rec.rest_day_recommended,
        "reasons": [f.rule for f in rec.reasons if f.severity.rank > Severity.INFO.rank],
    }


def morning(rec: Recommendation, today: date) -> Notification:
    """The daily report: the status and its reasons."""
    reasons = _reasons_text(rec.reasons)
    message = f"{STATUS_LINE[rec.status]}. Readiness {rec.readiness}/100."
    message += f" {reasons}" if reasons else " No warning signs."
    return Notification(
        key=f"morning:{today.isoformat()}",
        event_type="morning",
        title=f"restday: {_TITLES[rec.status].lower()}",
        message=message,
        data=_summary(rec),
    )


def due(rec: Recommendation, today: date) -> list[Notification]:
    """Notifications that this evaluation of `today` calls for (before de-duplication)."""
    out: list[Notification] = []
    if rec.rest_day_recommended:
        out.append(
            Notification(
                key=f"rest_day:{today.isoformat()}",
                event_type="rest_day",
                title=_TITLES[rec.status],
                message=_reasons_text(rec.reasons),
                data=_summary(rec),
            )
        )
    for f in rec.reasons:
        note = _from_finding(f, today)
        if note is not None:
            out.append(note)
    return out


def _from_finding(f: Finding, today: date) -> Notification | None:
    data: dict[str, object] = {"rule": f.rule, "value": f.value, "threshold": f.threshold}
    if f.rule == "dehydration_post_run":
        return Notification(
            key=f"hydration:{f.subject}:{f.severity.value}",  # once per run (and severity)
            event_type="hydration",
            title="Drink up" if f.severity is Severity.INFO else "You ran yourself dry",
            message=f.message,
            data=data,
        )
    if f.rule == "pain" and f.severity.rank >= Severity.STRONG.rank:
        return Notification(
            key=f"pain:{today.isoformat()}:{f.severity.value}",
            event_type="pain",
            title="See a doctor" if f.severity is Severity.DOCTOR else "Pain: rest today",
            message=f.message,
            data=data,
        )
    if f.rule == "shoe_mileage" and f.subject is not None:
        return Notification(
            key=f"shoe:{f.subject}:{f.threshold}",
            event_type="shoe",
            title="Time for new shoes",
            message=f.message,
            data={**data, "gear_id": f.subject},
        )
    return None


REFUEL = (
    "Refuel within 30–60 min: carbohydrate and protein at about 3:1 to 4:1 "
    "(a banana and a yoghurt, or chocolate milk)."
)
REFUEL_AGAIN = "Refuel after this one too."  # later runs of a day: a reminder, not REFUEL


def post_run_key(activity_id: int) -> str:
    """The cause of a run's post-run notification (one per run)."""
    return f"post_run:{activity_id}"


def post_run(news: RunNews, rec: Recommendation) -> Notification:
    """A new run: distance, load, today's status, refuel and fluid advice.

    On a day restday advises against training (`easy`, `rest`, `see_doctor`) it opens with
    the distance and the advice, not with congratulations. The refuel advice is spelled out
    in the day's first post-run notification; later runs get a reminder.
    """
    activity = news.activity
    name = activity.name or "run"
    done = f"{_duration(activity.moving_time_s)}, load {news.load:.0f} ({news.load_source})"
    if rec.status in (Status.TRAIN, Status.CALIBRATING):
        title = f"Nice {name}"
        lines = [
            f"{activity.distance_km:.1f} km in {done}.",
            f"Today: {STATUS_LINE[rec.status]}.",
        ]
    else:
        title = f"{name}: {_TITLES[rec.status].lower()}"
        reasons = _reasons_text(rec.reasons)
        advice = f"{_TITLES[rec.status]}: {reasons}" if reasons else f"{_TITLES[rec.status]}."
        lines = [f"{activity.distance_km:.1f} km logged. {advice}", f"The run: {done}."]
    lines.append(REFUEL if news.first_of_day else REFUEL_AGAIN)
    data: dict[str, object] = {
        "activity_id": int(activity.id),
        "distance_km": round(activity.distance_km, 2),
        "load": round(news.load, 1),
        "load_source": news.load_source,
        **_summary(rec),
    }
    loss, litres = news.loss_kg, news.fluid_l
    if loss is not None and litres is not None:
        lines.append(f"You lost {max(loss, 0):.1f} kg on the run: {fluid_advice(loss)}.")
        data["fluid_l"] = [round(litres[0], 1), round(litres[1], 1)]
    elif news.pre_kg is not None:
        lines.append("Step on the scale within 3 h of finishing to learn how much to drink.")
    return Notification(
        key=post_run_key(int(activity.id)),
        event_type="post_run",
        title=title,
        message=" ".join(lines),
        data=data,
    )


def auth_required(since: str, message: str) -> Notification:
    """Strava refused restday's tokens: the runner must authorise again."""
    return Notification(
        key=f"auth_required:{since}",
        event_type="auth_required",
        title="Strava needs you to sign in again",
        message=f"{message} Until then restday keeps working on your other inputs.",
        data={"since": since},
    )


def unassigned_weigh_in(
    weight_kg: float,
    time: str,
    local_time: str,
    candidates: Sequence[str],
    athlete: str,
    assign_topic: str,
) -> Notification:
    """To `athlete`: a shared scale's weigh-in that restday would have to guess whose it is
    (DESIGN.md §7), kept aside until someone says. `time` is the weigh-in's as the store keeps
    it: what `assign_topic` (the athlete's own) and `restday assign` take."""
    who = " or ".join(candidates) if candidates else "nobody's weight band"
    return Notification(
        key=f"unassigned_weigh_in:{time}",
        event_type="unassigned_weigh_in",
        title=f"Whose weigh-in was {weight_kg:.1f} kg?",
        message=(
            f"The scale measured {weight_kg:.1f} kg at {local_time}, which fits {who}; "
            f"restday does not guess. If it was yours, send {time} to {assign_topic} "
            f"(or run: restday assign {time} {athlete})."
        ),
        data={"weight_kg": weight_kg, "time": time, "candidates": list(candidates)},
    )


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
