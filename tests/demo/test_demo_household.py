"""`restday demo --household`: two runners, one shared scale, one service, as a newcomer sees it.

The demo runs in this process (`restday.cli.main`), once on each broker it can bring (the
system's mosquitto and the pure-Python amqtt), and once with `--full` (on amqtt); the tests read
what it printed. Its temporary folder goes under the test's own, so a leftover can be found.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from restday.cli import main
from restday.demo import broker as demo_broker

PORT = re.compile(r"MQTT broker: (\w+) on 127\.0\.0\.1:(\d+)")
EVENT = re.compile(r"^(\w{3} \d\d \w{3}) (\d\d:\d\d)  (Anna|Ben) +([→←]) ?(\w+) +(.*)$")
MAX_LINE = 100
RULE = "=" * MAX_LINE
BEN_LINES = 20  # --full: his first sync and statuses, the weigh-in he is asked about, his last day
SHORT_LINES = 60  # the whole default output, header to goodbye


@dataclass(frozen=True)
class HouseholdRun:
    code: int
    out: str
    err: str
    folder: Path  # where its temporary folder was

    @property
    def port(self) -> int:
        found = PORT.search(self.out)
        assert found, self.out[:500]
        return int(found.group(2))

    @property
    def broker(self) -> str:
        found = PORT.search(self.out)
        assert found, self.out[:500]
        return found.group(1)

    @property
    def story(self) -> list[str]:
        """The replay's lines: between the header and the final block."""
        return self.out.split("\n\n", 1)[1].split(RULE, 1)[0].splitlines()

    @property
    def final(self) -> list[str]:
        return self.out.split(RULE)[1].splitlines()

    def events(self, who: str, kind: str) -> list[tuple[str, str, str]]:
        """(day, time, text) of `who`'s lines of one kind (`status`, `scale`, `morning` …)."""
        found = (EVENT.match(line) for line in self.story)
        return [
            (m.group(1), m.group(2), m.group(6))
            for m in found
            if m and m.group(3) == who and m.group(5) == kind
        ]


@pytest.fixture(scope="module")
def runs() -> dict[str, HouseholdRun]:
    return {}


def run_once(request: pytest.FixtureRequest, broker: str, *flags: str) -> HouseholdRun:
    """`restday demo --household` on `broker` with `flags`, run once for the whole module."""
    runs: dict[str, HouseholdRun] = request.getfixturevalue("runs")
    key = " ".join([broker, *flags])
    if key not in runs:
        if broker == "mosquitto":
            request.getfixturevalue("mosquitto_binary")
        elif not demo_broker.amqtt_installed():
            pytest.fail("amqtt is not installed: `pip install -e '.[dev]'` installs it")
        capsys: pytest.CaptureFixture[str] = request.getfixturevalue("capsys")
        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        folder = factory.mktemp(f"household-{broker}")
        for name in [n for n in os.environ if n.startswith("RESTDAY_")]:
            monkeypatch.delenv(name)  # the developer's settings: the demo must not need them
        monkeypatch.setattr(tempfile, "tempdir", str(folder))
        capsys.readouterr()
        code = main(["demo", "--household", "--broker", broker, *flags])
        out, err = capsys.readouterr()
        runs[key] = HouseholdRun(code, out, err, folder)
    return runs[key]


@pytest.fixture(params=["mosquitto", "amqtt"])
def household(request: pytest.FixtureRequest) -> HouseholdRun:
    """The short story (the default), on each broker."""
    return run_once(request, request.param)


@pytest.fixture(params=["short", "full"])
def either(request: pytest.FixtureRequest) -> HouseholdRun:
    """The short story and the full one (on amqtt): what both tell."""
    return run_once(request, "amqtt", *(["--full"] if request.param == "full" else []))


@pytest.fixture
def full(request: pytest.FixtureRequest) -> HouseholdRun:
    """`restday demo --household --full`, on amqtt."""
    return run_once(request, "amqtt", "--full")


def test_household_demo_ends_by_itself_with_exit_0_and_no_traceback(
    household: HouseholdRun, request: pytest.FixtureRequest
) -> None:
    assert household.code == 0, household.err
    assert household.err == ""  # no warnings either: the story is the whole output
    assert "Traceback" not in household.out
    assert household.out.rstrip().endswith("temporary files removed.")
    assert household.broker == request.node.callspec.params["household"]


def test_household_demo_tells_its_story_in_at_most_60_lines(household: HouseholdRun) -> None:
    assert len(household.out.splitlines()) <= SHORT_LINES, household.out
    assert "--full: every event" in household.out.split("\n\n", 1)[0]
    assert household.events("Anna", "status") == household.events("Ben", "status") == []
    assert household.events("Anna", "post_run") == []
    assert household.events("Ben", "sleep") == []  # his inputs: only the one asked about


def test_household_demo_ends_with_both_runners_statuses_side_by_side(
    either: HouseholdRun,
) -> None:
    table = "\n".join(either.final)
    assert re.search(r"^ +Anna +Ben$", table, re.M)
    assert re.search(r"^status +REST — rest day recommended +TRAIN — good to go as planned$", table,
                     re.M)  # fmt: skip
    assert re.search(r"^readiness +0/100 +\d+/100$", table, re.M)
    assert re.search(r"^top reasons +STRONG · \w+ +\S", table, re.M)


def test_a_weigh_in_that_fits_nobody_is_asked_about_and_assigned_to_ben(
    either: HouseholdRun,
) -> None:
    household = either
    weighed = household.events("Ben", "scale")
    assert ("Sun 15 Nov", "06:10", "79.8 kg: in nobody's band (Anna 58–76 kg, Ben 80–95 kg)") in (
        weighed
    )
    for who in ("Anna", "Ben"):  # fits nobody: both are asked
        asked = household.events(who, "unassigned_weigh_in")
        assert asked == [("Sun 15 Nov", "06:10", "Whose weigh-in was 79.8 kg?")], who
    text = "\n".join(household.story)
    sent = re.search(r"If it was yours,\s+send (\S+) to\s+restday/anna/assign/set", text)
    assert sent, text
    answer = household.events("Ben", "assign")
    assert answer == [("Sun 15 Nov", "06:13", f"{sent.group(1)} to restday/ben/assign/set")]
    assert len(household.events("Ben", "state")) == 1
    state = r"06:13  Ben  ← state +79.8 kg is his now \(was 80\.8 kg\): TRAIN · readiness \d+ ·\s+"
    assert re.search(state + "weight_drop_morning", text)  # under his usual: his rules read it


def test_on_the_last_day_anna_is_told_to_rest_while_ben_is_told_to_train(
    either: HouseholdRun,
) -> None:
    household = either
    assert ("Fri 20 Nov", "05:40", "Rest day recommended") in household.events("Anna", "rest_day")
    mornings = household.events("Ben", "morning")
    assert mornings == [("Fri 20 Nov", "06:15", "restday: good to train")]  # his routine: once
    assert ("Fri 20 Nov", "06:15", "restday: rest day recommended") in household.events(
        "Anna", "morning"
    )


def test_the_short_story_tells_annas_rest_day_why_and_her_hydration_warning(
    household: HouseholdRun,
) -> None:
    assert household.events("Anna", "morning") == [
        ("Fri 20 Nov", "06:15", "restday: rest day recommended")  # the last day's only
    ]
    assert household.events("Anna", "sleep") == [
        ("Fri 20 Nov", "05:40", "5.4 h asleep, 00:01–05:40")
    ]
    text = "\n".join(household.story)
    assert re.search(r"\(Nielsen 2014;\s+not significant\)", text)  # the rest day's why
    assert household.events("Anna", "hydration") == [
        ("Fri 20 Nov", "11:27", "You ran yourself dry")
    ]


def test_full_tells_bens_last_day_in_full(full: HouseholdRun) -> None:
    assert full.code == 0, full.err
    assert full.events("Ben", "sleep")[-1][0] == "Fri 20 Nov"
    assert full.events("Ben", "sleep")[0][0] == "Fri 20 Nov"  # his routine: the last day only
    for kind in ("status", "post_run", "shoe", "pain", "hydration", "strava", "scale"):
        assert full.events("Anna", kind), kind  # Anna's: every event, as `restday demo --full`


def test_bens_status_lines_are_his_changes_of_status_only(full: HouseholdRun) -> None:
    statuses = [text for _, _, text in full.events("Ben", "status")]
    assert statuses[0] == "CALIBRATING · readiness 100"  # an empty store
    assert statuses[1].startswith("TRAIN · readiness")  # after his first sync
    words = [text.split(" · ")[0] for text in statuses]
    assert all(a != b for a, b in itertools.pairwise(words))


def test_bens_part_of_the_full_story_stays_short(full: HouseholdRun) -> None:
    """His everyday inputs and notifications are left out but on the last day."""
    owner, his = "", 0
    for line in full.story:
        found = EVENT.match(line)
        if found or not line.startswith(" "):  # a line of its own, else more of the one before
            owner = found.group(3) if found else ""
        his += owner == "Ben"
    assert 0 < his <= BEN_LINES


def test_household_lines_are_short_and_name_their_runner(either: HouseholdRun) -> None:
    lines = either.out.splitlines()
    assert all(len(line) <= MAX_LINE for line in lines)
    heads = [line for line in either.story if line and not line.startswith(" ")]
    stamped = [line for line in heads if "──" not in line]  # captions name the day only
    assert all(EVENT.match(line) for line in stamped), [h for h in stamped if not EVENT.match(h)]


def test_household_demo_leaves_nothing_running_and_removes_its_files(
    household: HouseholdRun,
) -> None:
    assert not demo_broker.port_open(household.port)
    assert not list(household.folder.glob("restday-demo-*"))
