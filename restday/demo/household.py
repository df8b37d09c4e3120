"""`restday demo --household`: two runners, one service, one bathroom scale between them.

Anna is the sample runner of `restday demo` (her ten weeks, nights, weigh-ins and sore knee);
Ben (`restday.demo.ben`) is a heavier runner with a steadier plan. Both are `[[athlete]]`s of
one configuration, each with a sleep tracker of their own; the scale is shared and gives each
weigh-in to the runner whose weight band (`[scale.assign]`) holds it. Their days are replayed
together. Once, Ben weighs in under his band: restday asks both whose it was
(`unassigned_weigh_in`), the demo answers for him on his assign topic with the time restday
sent, and his state shows the weigh-in. On the last day Anna is told to rest while Ben is told
to train; at the end their statuses stand side by side. That is the short story (the default),
with Anna's rest day and hydration warning as in `restday demo`. With `--full`,
Anna's lines are those of `restday demo --full`; of Ben's, his changes of status, what is not
routine, and all of the last day.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from datetime import date, datetime
from pathlib import Path

from restday.cli.report import STATUS_LINE
from restday.config import (
    AthleteConfig,
    Config,
    MqttConfig,
    ScaleInput,
    ScheduleConfig,
    SleepInput,
    StorageConfig,
    StravaConfig,
)
from restday.daemon.service import Service
from restday.demo import ben as demo_ben
from restday.demo import data as demo_data
from restday.demo.ben import BEN
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ
from restday.demo.screen import RULE, Screen
from restday.demo.story import DemoError, Replay
from restday.demo.watch import MOMENTS, ROUTINE, Verdict, Watcher, verdict_of, verdict_text
from restday.integrations.mqtt.topics import Topics
from restday.models import Recommendation
from restday.rules.settings import DecisionConfig, RulesConfig

ANNA = "anna"
NAMES = {ANNA: "Anna", BEN: "Ben"}
BANDS = {ANNA: (58.0, 76.0), BEN: (80.0, 95.0)}  # kg, the shared scale's [scale.assign]
SCALE_TOPIC = "restday-demo/bathroom_scale"
SLEEP_TOPICS = {a: f"restday-demo/{a}/sleep_tracker" for a in NAMES}
ASKED = "unassigned_weigh_in"
PAIN = "pain"
LABEL_WIDTH = 13  # the side-by-side summary: "top reasons  "
COLUMN_WIDTH = 43  # and a column a runner
TOP_REASONS = 3


def config(host: str, port: int, folder: Path, morning_report: str) -> Config:
    """The household's configuration: every section given, so no file or environment leaks in."""
    tz = str(SAMPLE_TZ)
    return Config(
        athlete=[AthleteConfig(id=a, name=name, timezone=tz) for a, name in NAMES.items()],
        storage=StorageConfig(path=str(folder / "restday.db")),
        mqtt=MqttConfig(host=host, port=port, client_id="restday-demo"),
        strava=StravaConfig(),
        schedule=ScheduleConfig(morning_report=morning_report),
        scale=[ScaleInput(topic=SCALE_TOPIC, assign={a: list(b) for a, b in BANDS.items()})],
        sleep=[SleepInput(topic=topic, athlete=a) for a, topic in SLEEP_TOPICS.items()],
        rules=RulesConfig(),
        decision=DecisionConfig(),
    )


def _band(athlete: str) -> str:
    low, high = BANDS[athlete]
    return f"{NAMES[athlete]} {low:g}–{high:g} kg"


def header(screen: Screen, broker_line: str, full: bool) -> None:
    screen.line("restday demo --household: two runners, one service, one bathroom scale shared.")
    screen.line(broker_line)
    screen.line(
        "  Anna: the sample runner's ten weeks. Ben: his own ten weeks, heavier and steadier."
    )
    screen.line(f"  The scale tells them apart by weight: {_band(ANNA)}, {_band(BEN)}.")
    screen.line("  → what the sleep trackers, the scale, Strava and Home Assistant send restday")
    if full:
        screen.line("  ← what restday publishes for each: notifications, and each change of status")
        screen.line("  Ben's everyday inputs and notifications are shown on the last day only.")
    else:
        screen.line("  ← what restday tells each: the moments that matter (--full: every event)")
    screen.line()


class HouseholdWatcher(Watcher):
    """Names whose each line is. The full story: of Ben's, changes of status (not of readiness
    alone), what is not routine, and everything on the last day. The short one: the moments
    that matter (`worth_telling`). Keeps each runner's last state and the last
    question about a weigh-in they were asked, for the replay."""

    def __init__(
        self, topics: Topics, screen: Screen, hello_topic: str, *, full: bool = False
    ) -> None:
        super().__init__(topics, screen, hello_topic, full=full)
        self._states: dict[str, dict[str, object]] = {}
        self._asked: dict[str, dict[str, object]] = {}  # by athlete: the question's data
        self._asked_titles: set[str] = set()  # a question told once in full, then by title
        self._memo = threading.Lock()

    def who(self, athlete: str | None) -> str:
        return NAMES.get(athlete or ANNA, "")

    def state_of(self, athlete: str) -> dict[str, object]:
        with self._memo:
            return self._states.get(athlete, {})

    def asked(self, athlete: str) -> dict[str, object]:
        """The data of the last `unassigned_weigh_in` notification `athlete` received."""
        with self._memo:
            return self._asked.get(athlete, {})

    def notification(self, athlete: str, when: datetime, data: dict[str, object]) -> None:
        kind = data.get("event_type")
        if kind == ASKED:
            asked = data.get("data")
            with self._memo:
                self._asked[athlete] = asked if isinstance(asked, dict) else {}
            title = str(data.get("title"))
            if title in self._asked_titles:  # the same question, with the runner's own topic
                self.screen.event(when, f"← {kind}", title, who=self.who(athlete))
                return
            self._asked_titles.add(title)
        elif self.full and athlete == BEN and kind in ROUTINE and _day(when) != SAMPLE_END:
            return
        super().notification(athlete, when, data)

    def worth_telling(self, athlete: str, when: datetime, data: dict[str, object]) -> bool:
        """The `MOMENTS` (but Anna's pain, told in her own demo: this story is the two
        runners'), and the last day's morning reports: the day one rests while the other
        trains."""
        kind = data.get("event_type")
        if kind == "morning":
            return _day(when) == SAMPLE_END
        return kind in MOMENTS and kind != PAIN

    def state(self, athlete: str, when: datetime, data: dict[str, object]) -> None:
        with self._memo:
            self._states[athlete] = data
        super().state(athlete, when, data)

    def shown(self, athlete: str, verdict: Verdict) -> Hashable:
        return verdict[0] if athlete == BEN else verdict


def _day(moment: datetime) -> date:
    return moment.astimezone(SAMPLE_TZ).date()


class HouseholdReplay(Replay):
    """The replay of both runners; Ben's shoes are his own, and he answers restday's question
    about his weigh-in (an "assign" step)."""

    watcher: HouseholdWatcher

    def strava_athlete(self, athlete: str, run_km: float) -> dict[str, object]:
        if athlete == BEN:
            return demo_ben.strava_athlete(run_km)
        return super().strava_athlete(athlete, run_km)

    def begin(self, story: demo_data.Story) -> Sequence[demo_data.Step]:
        """Anna's first sync, then Ben's; their steps in time order (Anna's first at a tie)."""
        annas = super().begin(story)
        bens = demo_ben.ben_activities()
        self.backfill(demo_ben.history(bens), BEN)
        note = "in nobody's band (" + ", ".join(_band(a) for a in NAMES) + ")"
        return sorted([*annas, *demo_ben.steps(bens, note)], key=lambda step: step.at)

    def play(self, step: demo_data.Step) -> None:
        if step.kind != "assign" or step.athlete is None:
            super().play(step)
            return
        self.clock.set(step.at)
        whose = step.athlete
        asked = self.watcher.asked(whose).get("time")
        if not isinstance(asked, str):
            raise DemoError("restday did not ask whose the weigh-in that fits no band was")
        topic = self.topics.of_athlete(whose).assign_set
        self.tell(step.at, whose, "→ assign", f"{asked} to {topic}")
        before = self.watcher.state_of(whose)
        self.publish(topic, asked.encode(), "scale", "an assignment")
        after = self.watcher.state_of(whose)
        text = f"{_weight(after)} kg is his now (was {_weight(before)} kg)"
        self.tell(step.at, whose, "← state", f"{text}: {verdict_text(verdict_of(after))}")


def _weight(state: dict[str, object]) -> str:
    metrics = state.get("metrics")
    kg = metrics.get("weight_kg") if isinstance(metrics, dict) else None
    return f"{kg:.1f}" if isinstance(kg, int | float) else "none"


def summary(screen: Screen, service: Service) -> None:
    """Both runners' recommendations side by side: status, readiness, the top reasons."""
    recs = [service.worker.athletes[a].recommendation for a in NAMES]
    if any(rec is None for rec in recs):
        return
    shown = [rec for rec in recs if rec is not None]
    screen.line()
    screen.line(RULE)
    screen.line(
        "Both runners at the end, as `restday status --athlete ID` and Home Assistant show them:"
    )
    screen.line()
    rows = [("", list(NAMES.values()))]
    rows.append(("status", [_fit(STATUS_LINE[rec.status]) for rec in shown]))
    rows.append(("readiness", [f"{rec.readiness}/100" for rec in shown]))
    reasons = [_reasons(rec) for rec in shown]
    for index in range(max(len(each) for each in reasons)):
        label = "top reasons" if index == 0 else ""
        rows.append((label, [each[index] if index < len(each) else "" for each in reasons]))
    for label, cells in rows:
        line = f"{label:<{LABEL_WIDTH}}" + "".join(f"{cell:<{COLUMN_WIDTH}}" for cell in cells)
        screen.line(line.rstrip())
    screen.line(RULE)


def _fit(text: str) -> str:
    """A status line that fits its column, else its first words (`SEE A DOCTOR`)."""
    return text if len(text) < COLUMN_WIDTH else text.split(" — ")[0]


def _reasons(rec: Recommendation) -> list[str]:
    lines = [f"{f.severity.value.upper()} · {f.rule}" for f in rec.reasons[:TOP_REASONS]]
    more = len(rec.reasons) - TOP_REASONS
    if more > 0:
        lines.append(f"and {more} more")
    return lines or ["none: no warning signs"]
