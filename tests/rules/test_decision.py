"""How findings become the day's status, readiness and state payload (RULES.md, "Decision").

Most tests switch off the rules they do not exercise (`only(...)`), so a status follows from
the findings the history was built to produce; the whole-catalogue tests say so in their name.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.models import Activity, Finding, History, Severity, SleepSession, Status
from restday.rules import RULE_IDS
from restday.rules.decision import READINESS_PENALTY, decide, readiness
from restday.rules.settings import DecisionConfig, Profile, RulesConfig
from tests.factories import (
    DAY,
    PROFILE,
    TZ,
    end_of,
    evaluate_on,
    night,
    pain,
    run,
    shoe,
    steady_runs,
    weigh,
    workout,
)

LOAD_RULES = ("weekly_increase", "run_spike", "acwr", "tsb", "monotony", "deload")
WEEKS = 8  # a history well past calibration
STRENGTH_WEEKDAYS = (0, 3)  # Monday and Thursday, on run days: rest days stay rest days
GOOD_NIGHT_H = 8.0
SHORT_NIGHT_H = 5.5  # under 6 h: a moderate sleep_short
VERY_SHORT_NIGHT_H = 4.0  # under 5 h: a strong sleep_short
SLEEP_NIGHTS = 14

# The state payload of DESIGN.md §5.
PAYLOAD_KEYS = {
    "status",
    "rest_day_recommended",
    "readiness",
    "reasons",
    "metrics",
    "stale",
    "waiting",
    "evaluated_at",
}
REASON_KEYS = {"rule", "severity", "message", "value", "threshold", "unit", "citation"}
EXAMPLE_METRIC_KEYS = {
    "acute_load",
    "chronic_load",
    "acwr",
    "week_km",
    "prev_week_km",
    "longest_run_30d_km",
    "last_sleep_h",
    "sleep_debt_h",
    "weight_kg",
    "days_since_rest",
    "load_source",
    "shoes",
}

# train and calibrating are equally calm; the rest rise in this order.
STATUS_ORDER = {
    Status.TRAIN: 0,
    Status.CALIBRATING: 0,
    Status.EASY: 1,
    Status.REST: 2,
    Status.SEE_DOCTOR: 3,
}


def only(*keep: str) -> RulesConfig:
    """The rules config with every rule but `keep` switched off."""
    return RulesConfig.model_validate(
        {rule: {"enabled": False} for rule in RULE_IDS if rule not in keep}
    )


def training(weeks: int = WEEKS, last_day: date = DAY) -> list[Activity]:
    """Steady runs five days a week with two strength sessions on run days."""
    runs = steady_runs(last_day, weeks)
    strength = [
        workout(a.start.astimezone(TZ).date(), 30, hour=18)
        for a in runs
        if a.start.astimezone(TZ).weekday() in STRENGTH_WEEKDAYS
    ]
    return runs + strength


def nights(
    last: float = GOOD_NIGHT_H, before: float = GOOD_NIGHT_H, day: date = DAY
) -> list[SleepSession]:
    """The 14 nights up to `day`: `before` hours each, then `last` hours last night."""
    earlier = [night(day - timedelta(days=i), before) for i in range(1, SLEEP_NIGHTS)]
    return [*earlier, night(day, last)]


def rules_of(findings: tuple[Finding, ...]) -> dict[str, Severity]:
    return {f.rule: f.severity for f in findings}


# --- status -----------------------------------------------------------------------------------

SLEEP = only("sleep_short", "sleep_debt")


def test_one_moderate_finding_gives_an_easy_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=SLEEP)
    assert rules_of(rec.reasons) == {"sleep_short": Severity.MODERATE}
    assert rec.status is Status.EASY
    assert not rec.rest_day_recommended
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.MODERATE]


def test_two_moderate_findings_recommend_a_rest_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H, before=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=SLEEP)
    assert rules_of(rec.reasons) == {
        "sleep_short": Severity.MODERATE,
        "sleep_debt": Severity.MODERATE,
    }
    assert rec.status is Status.REST
    assert rec.rest_day_recommended
    assert rec.readiness == 100 - 2 * READINESS_PENALTY[Severity.MODERATE]


def test_configured_three_moderates_for_rest_turns_two_moderates_into_an_easy_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H, before=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=SLEEP, decision=DecisionConfig(moderate_for_rest=3))
    assert len(rec.reasons) == 2
    assert rec.status is Status.EASY
    assert not rec.rest_day_recommended


def test_a_strong_finding_alone_recommends_a_rest_day() -> None:
    rec = evaluate_on(History.of(training(), pains=[pain(DAY, 5)]), rules=only("pain"))
    assert rules_of(rec.reasons) == {"pain": Severity.STRONG}
    assert rec.status is Status.REST
    assert rec.rest_day_recommended
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.STRONG]


def test_pain_of_eight_means_see_a_doctor_and_rest() -> None:
    rec = evaluate_on(History.of(training(), pains=[pain(DAY, 8)]), rules=only("pain"))
    assert rec.status is Status.SEE_DOCTOR
    assert rec.rest_day_recommended
    assert rec.to_payload()["rest_day_recommended"] is True
    assert rec.readiness == 0


def test_info_findings_alone_leave_a_training_day_at_full_readiness() -> None:
    history = History.of(
        training(),
        pains=[pain(DAY, 2)],
        gear=[shoe("Pegasus 40", 900.0)],
    )
    rec = evaluate_on(history, rules=only("pain", "shoe_mileage", "strength"))
    assert rules_of(rec.reasons) == {"pain": Severity.INFO, "shoe_mileage": Severity.INFO}
    assert rec.status is Status.TRAIN
    assert not rec.rest_day_recommended
    assert rec.readiness == 100


def test_whole_catalogue_steady_runner_with_a_niggle_and_worn_shoes_trains() -> None:
    history = History.of(
        training(),
        nights(),
        pains=[pain(DAY, 2)],
        gear=[shoe("Pegasus 40", 600.0)],
    )
    rec = evaluate_on(history)
    assert {f.severity for f in rec.reasons} == {Severity.INFO}, rec.reasons
    assert {"pain", "shoe_mileage"} <= set(rules_of(rec.reasons))
    assert rec.status is Status.TRAIN
    assert rec.readiness == 100
    assert rec.waiting == ()


def test_a_disabled_rule_gives_no_finding() -> None:
    history = History.of(training(), pains=[pain(DAY, 9)], gear=[shoe("Pegasus 40", 900.0)])
    enabled = evaluate_on(history, rules=only("pain", "shoe_mileage"))
    disabled = evaluate_on(history, rules=only("shoe_mileage"))
    assert "pain" in rules_of(enabled.reasons)
    assert rules_of(disabled.reasons) == {"shoe_mileage": Severity.INFO}
    assert disabled.status is Status.TRAIN


def test_readiness_is_floored_at_zero() -> None:
    # strong pain + strong short sleep + moderate sleep debt = 115 points of penalty.
    history = History.of(
        training(),
        nights(last=VERY_SHORT_NIGHT_H, before=SHORT_NIGHT_H),
        pains=[pain(DAY, 6)],
    )
    rec = evaluate_on(history, rules=only("pain", "sleep_short", "sleep_debt"))
    assert sorted(f.severity.rank for f in rec.reasons) == [
        Severity.MODERATE.rank,
        Severity.STRONG.rank,
        Severity.STRONG.rank,
    ]
    assert rec.readiness == 0
    assert rec.status is Status.REST


def test_reasons_are_listed_most_severe_first_then_in_catalogue_order() -> None:
    history = History.of(
        training(),
        nights(last=VERY_SHORT_NIGHT_H, before=SHORT_NIGHT_H),
        pains=[pain(DAY, 2)],
        gear=[shoe("Pegasus 40", 900.0)],
    )
    rec = evaluate_on(history, rules=only("pain", "sleep_short", "sleep_debt", "shoe_mileage"))
    assert [(f.rule, f.severity) for f in rec.reasons] == [
        ("sleep_short", Severity.STRONG),
        ("sleep_debt", Severity.MODERATE),
        ("pain", Severity.INFO),
        ("shoe_mileage", Severity.INFO),
    ]


# --- calibration ------------------------------------------------------------------------------


def short_history(days: int) -> list[Activity]:
    """A run every day from `days` − 1 days ago to today: `days` days of history."""
    return [run(DAY - timedelta(days=i), 5) for i in range(days)]


def test_a_short_history_is_calibrating_and_names_the_waiting_load_rules() -> None:
    rec = evaluate_on(History.of(short_history(10)), rules=only(*LOAD_RULES))
    assert rec.status is Status.CALIBRATING
    assert rec.waiting == LOAD_RULES
    assert rec.reasons == ()
    assert not rec.rest_day_recommended


def test_whole_catalogue_short_history_waits_on_every_load_rule() -> None:
    rec = evaluate_on(History.of(short_history(10)))
    assert rec.waiting == LOAD_RULES
    assert not set(rules_of(rec.reasons)) & set(LOAD_RULES)


def test_no_activities_at_all_is_calibrating() -> None:
    rec = evaluate_on(History(), rules=only(*LOAD_RULES))
    assert rec.status is Status.CALIBRATING
    assert rec.waiting == LOAD_RULES


def test_calibration_ends_on_the_28th_day_of_history() -> None:
    rules = only(*LOAD_RULES)
    day_27 = evaluate_on(History.of(short_history(27)), rules=rules)
    day_28 = evaluate_on(History.of(short_history(28)), rules=rules)
    assert day_27.status is Status.CALIBRATING
    assert day_27.waiting == LOAD_RULES
    assert day_28.status is not Status.CALIBRATING
    assert day_28.waiting == ()


def test_a_disabled_load_rule_is_not_listed_as_waiting() -> None:
    rules = only(*(r for r in LOAD_RULES if r != "acwr"))
    rec = evaluate_on(History.of(short_history(10)), rules=rules)
    assert rec.waiting == tuple(r for r in LOAD_RULES if r != "acwr")


def test_info_findings_during_calibration_stay_calibrating() -> None:
    history = History.of(short_history(10), gear=[shoe("Pegasus 40", 900.0)])
    rec = evaluate_on(history, rules=only("shoe_mileage", *LOAD_RULES))
    assert rules_of(rec.reasons) == {"shoe_mileage": Severity.INFO}
    assert rec.status is Status.CALIBRATING


def test_a_strong_finding_during_calibration_still_recommends_rest() -> None:
    history = History.of(short_history(10), pains=[pain(DAY, 6)])
    rec = evaluate_on(history, rules=only("pain", *LOAD_RULES))
    assert rec.status is Status.REST
    assert rec.waiting == LOAD_RULES


def test_a_moderate_finding_during_calibration_gives_an_easy_day() -> None:
    history = History.of(short_history(10), nights(last=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=only("sleep_short", *LOAD_RULES))
    assert rec.status is Status.EASY


# --- stale inputs -----------------------------------------------------------------------------

SCALE = Profile(timezone=TZ, has_scale=True)
SLEEP_TRACKER = Profile(timezone=TZ, has_sleep=True)


def test_a_silent_scale_is_named_with_its_days() -> None:
    history = History.of(training(), body=[weigh(DAY - timedelta(days=3), 70.0)])
    rec = evaluate_on(history, profile=SCALE, rules=only())
    assert "no weigh-in for 3 days" in rec.stale


def test_without_a_scale_missing_weigh_ins_are_not_stale() -> None:
    history = History.of(training(), body=[weigh(DAY - timedelta(days=3), 70.0)])
    rec = evaluate_on(history, profile=PROFILE, rules=only())
    assert not any("weigh-in" in note for note in rec.stale)


def test_a_weigh_in_yesterday_is_not_stale() -> None:
    history = History.of(training(), body=[weigh(DAY - timedelta(days=1), 70.0, hour=23.5)])
    rec = evaluate_on(history, profile=SCALE, rules=only())
    assert not any("weigh-in" in note for note in rec.stale)


def test_a_tracker_without_last_night_is_named_stale() -> None:
    history = History.of(training(), [night(DAY - timedelta(days=1), 8.0)])
    rec = evaluate_on(history, profile=SLEEP_TRACKER, rules=only())
    assert "sleep not tracked last night" in rec.stale


def test_an_afternoon_nap_is_not_last_nights_sleep() -> None:
    history = History.of(training(), [night(DAY, 1.0, end_hour=15.5)])
    rec = evaluate_on(history, profile=SLEEP_TRACKER, rules=only())
    assert "sleep not tracked last night" in rec.stale


def test_a_tracked_night_is_not_stale() -> None:
    history = History.of(training(), nights())
    rec = evaluate_on(history, profile=SLEEP_TRACKER, rules=only())
    assert "sleep not tracked last night" not in rec.stale


def test_without_a_sleep_source_no_sleep_is_not_stale() -> None:
    rec = evaluate_on(History.of(training()), profile=PROFILE, rules=only())
    assert not any("sleep" in note for note in rec.stale)


# --- payload ----------------------------------------------------------------------------------


EVALUATED_HOUR = 9.0  # after last night's sleep (ends 07:00) and the pain report (08:00)


def full_payload(day: date = DAY) -> dict[str, object]:
    history = History.of(
        training(last_day=day),
        nights(last=SHORT_NIGHT_H, day=day),
        body=[weigh(day - timedelta(days=3), 70.0)],
        pains=[pain(day, 2)],
        gear=[shoe("Pegasus 40", 812.0, id="g123")],
    )
    profile = Profile(timezone=TZ, has_scale=True, has_sleep=True)
    return evaluate_on(history, day, hour=EVALUATED_HOUR, profile=profile).to_payload()


def test_state_payload_has_exactly_the_contract_keys_and_is_json() -> None:
    payload = full_payload()
    assert set(payload) == PAYLOAD_KEYS
    assert json.loads(json.dumps(payload)) == payload
    assert payload["status"] in {s.value for s in Status}
    assert isinstance(payload["rest_day_recommended"], bool)
    assert isinstance(payload["readiness"], int)
    assert isinstance(payload["stale"], list)
    assert "no weigh-in for 3 days" in payload["stale"]
    assert isinstance(payload["waiting"], list)


def test_state_payload_reasons_carry_rule_severity_numbers_and_citation() -> None:
    reasons = full_payload()["reasons"]
    assert isinstance(reasons, list)
    assert reasons
    by_rule = {r["rule"]: r for r in reasons}
    for reason in reasons:
        assert set(reason) - {"subject"} == REASON_KEYS  # DESIGN §5's keys, plus a shoe's id
        assert reason["severity"] in {s.value for s in Severity}
    assert by_rule["shoe_mileage"]["value"] == 812.0
    assert by_rule["shoe_mileage"]["threshold"] == 800.0
    assert by_rule["shoe_mileage"]["unit"] == "km"
    assert by_rule["pain"]["severity"] == "info"


def test_state_payload_metrics_have_the_example_keys_and_shoes() -> None:
    metrics = full_payload()["metrics"]
    assert isinstance(metrics, dict)
    assert set(metrics) >= EXAMPLE_METRIC_KEYS
    assert metrics["shoes"] == [{"id": "g123", "name": "Pegasus 40", "km": 812.0}]
    assert metrics["last_sleep_h"] == SHORT_NIGHT_H


def test_evaluated_at_is_iso_8601_with_the_athletes_winter_offset() -> None:
    stamp = full_payload()["evaluated_at"]
    assert stamp == "2026-11-20T09:00:00+01:00"


def test_evaluated_at_is_iso_8601_with_the_athletes_summer_offset() -> None:
    stamp = full_payload(date(2026, 7, 10))["evaluated_at"]
    assert isinstance(stamp, str)
    parsed = datetime.fromisoformat(stamp)
    assert stamp.endswith("+02:00")
    assert parsed.hour == EVALUATED_HOUR


def test_evaluated_at_defaults_to_the_end_of_the_local_day() -> None:
    rec = evaluate_on(History.of(training()), rules=only())
    assert rec.evaluated_at == end_of(DAY)
    assert rec.evaluated_at.utcoffset() == timedelta(hours=1)


# --- decide() directly --------------------------------------------------------------------------


def made(severity: Severity, rule: str = "x") -> Finding:
    return Finding(rule, severity, "m", None, None, "", "")


DEFAULT = DecisionConfig()


def test_a_caution_alone_gives_an_easy_day() -> None:
    assert decide([made(Severity.CAUTION)], DEFAULT, calibrating=False) is Status.EASY
    assert decide([made(Severity.CAUTION)], DEFAULT, calibrating=True) is Status.EASY


def test_no_findings_trains_or_calibrates() -> None:
    assert decide([], DEFAULT, calibrating=False) is Status.TRAIN
    assert decide([], DEFAULT, calibrating=True) is Status.CALIBRATING


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ([Severity.CAUTION] * 5, 50),
        ([Severity.STRONG, Severity.MODERATE], 30),
        ([Severity.STRONG, Severity.STRONG, Severity.CAUTION], 0),
        ([Severity.INFO] * 3, 100),
    ],
)
def test_readiness_is_100_minus_the_penalties(severities: list[Severity], expected: int) -> None:
    assert readiness([made(s) for s in severities]) == expected


severities = st.sampled_from(list(Severity))


@given(
    before=st.lists(severities, max_size=8),
    extra=severities,
    moderate_for_rest=st.integers(1, 4),
    calibrating=st.booleans(),
)
def test_adding_a_finding_never_raises_readiness_nor_calms_the_status(
    before: list[Severity], extra: Severity, moderate_for_rest: int, calibrating: bool
) -> None:
    config = DecisionConfig(moderate_for_rest=moderate_for_rest)
    old = [made(s) for s in before]
    new = [*old, made(extra)]
    assert readiness(new) <= readiness(old)
    assert 0 <= readiness(new) <= 100
    old_status = decide(old, config, calibrating=calibrating)
    new_status = decide(new, config, calibrating=calibrating)
    assert STATUS_ORDER[new_status] >= STATUS_ORDER[old_status]
    if extra is not Severity.INFO:
        assert new_status not in (Status.TRAIN, Status.CALIBRATING)
