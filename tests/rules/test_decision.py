"""How findings become the day's status, readiness and state payload (RULES.md v2, "Decision").

Rules that read the same signal form a family, and the decision counts families, each once
with its most severe finding. Most tests switch off the rules they do not exercise
(`only(...)`), so a status follows from the findings the history was built to produce; the
whole-catalogue tests say so in their name.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.models import (
    Activity,
    BodyMeasurement,
    Finding,
    History,
    Severity,
    SleepSession,
    Status,
)
from restday.rules import RULE_IDS
from restday.rules.base import finding
from restday.rules.decision import READINESS_PENALTY, decide, deciding, readiness
from restday.rules.engine import NEEDS_SCALE, NEEDS_SLEEP
from restday.rules.families import FAMILY_OF, family_of
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
DEBT_WEEK_H = 6.5  # six such nights and a short one after 8-hour ones: a moderate sleep_debt
CAUTION_WEEK_H = 7.3  # seven such nights after 8-hour ones: 4.9 h of debt, a caution
SLEEP_NIGHTS = 60  # the own need is the median of the last 60 nights
USUAL_KG = 70.0
MODERATE_DROP_KG = 68.25  # 2.5 % under the usual morning weight: a moderate
CAUTION_DROP_KG = 68.95  # 1.5 % under it: a caution

# The state payload of DESIGN.md §5 (v2 adds `silent`; a reason also carries its `family`,
# and a carried one its `run_day`).
PAYLOAD_KEYS = {
    "status",
    "rest_day_recommended",
    "readiness",
    "reasons",
    "metrics",
    "stale",
    "waiting",
    "silent",
    "evaluated_at",
}
REASON_KEYS = {"rule", "family", "severity", "message", "value", "threshold", "unit", "citation"}
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
    last: float = GOOD_NIGHT_H, week: float = GOOD_NIGHT_H, day: date = DAY
) -> list[SleepSession]:
    """60 nights up to `day`: 8 hours each (the athlete's own need), then `week` hours on the
    six nights before last night and `last` hours last night."""
    usual = [night(day - timedelta(days=i), GOOD_NIGHT_H) for i in range(7, SLEEP_NIGHTS)]
    recent = [night(day - timedelta(days=i), week) for i in range(1, 7)]
    return [*usual, *recent, night(day, last)]


def mornings(today_kg: float, day: date = DAY) -> list[BodyMeasurement]:
    """Three mornings at 70 kg, then `today_kg` this morning."""
    return [*(weigh(day - timedelta(days=i), USUAL_KG) for i in (3, 2, 1)), weigh(day, today_kg)]


def rules_of(findings: tuple[Finding, ...]) -> dict[str, Severity]:
    return {f.rule: f.severity for f in findings}


# --- status -----------------------------------------------------------------------------------

SLEEP = only("sleep_short", "sleep_debt")
SLEEP_AND_BODY = only("sleep_short", "sleep_debt", "weight_drop_morning")


def test_one_moderate_finding_gives_an_easy_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=SLEEP)
    assert rules_of(rec.reasons) == {"sleep_short": Severity.MODERATE}
    assert rec.status is Status.EASY
    assert not rec.rest_day_recommended
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.MODERATE]


def test_two_moderate_findings_from_one_family_make_an_easy_day() -> None:
    # v1 counted a short night and the sleep debt it belongs to as two moderates: a rest day.
    history = History.of(training(), nights(last=SHORT_NIGHT_H, week=DEBT_WEEK_H))
    rec = evaluate_on(history, rules=SLEEP)
    assert rules_of(rec.reasons) == {
        "sleep_short": Severity.MODERATE,
        "sleep_debt": Severity.MODERATE,
    }
    assert {f.family for f in rec.reasons} == {"sleep"}
    assert rec.status is Status.EASY
    assert not rec.rest_day_recommended
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.MODERATE]


def test_moderate_findings_from_two_families_recommend_a_rest_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H), mornings(MODERATE_DROP_KG))
    rec = evaluate_on(history, rules=SLEEP_AND_BODY)
    assert rules_of(rec.reasons) == {
        "sleep_short": Severity.MODERATE,
        "weight_drop_morning": Severity.MODERATE,
    }
    assert rec.status is Status.REST
    assert rec.rest_day_recommended
    assert rec.readiness == 100 - 2 * READINESS_PENALTY[Severity.MODERATE]


def test_a_lone_caution_is_shown_but_leaves_a_training_day() -> None:
    # v1 made every caution an easy day.
    history = History.of(training(), nights(), mornings(CAUTION_DROP_KG))
    rec = evaluate_on(history, rules=SLEEP_AND_BODY)
    assert rules_of(rec.reasons) == {"weight_drop_morning": Severity.CAUTION}
    assert rec.reasons[0].message  # shown with its advice
    assert rec.status is Status.TRAIN
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.CAUTION]


def test_cautions_from_two_families_make_an_easy_day() -> None:
    history = History.of(
        training(), nights(last=CAUTION_WEEK_H, week=CAUTION_WEEK_H), mornings(CAUTION_DROP_KG)
    )
    rec = evaluate_on(history, rules=SLEEP_AND_BODY)
    assert rules_of(rec.reasons) == {
        "sleep_debt": Severity.CAUTION,
        "weight_drop_morning": Severity.CAUTION,
    }
    assert rec.status is Status.EASY
    assert rec.readiness == 100 - 2 * READINESS_PENALTY[Severity.CAUTION]


def test_configured_caution_for_easy_of_one_makes_a_lone_caution_an_easy_day() -> None:
    history = History.of(training(), nights(), mornings(CAUTION_DROP_KG))
    decision = DecisionConfig(caution_for_easy=1)
    rec = evaluate_on(history, rules=SLEEP_AND_BODY, decision=decision)
    assert rules_of(rec.reasons) == {"weight_drop_morning": Severity.CAUTION}
    assert rec.status is Status.EASY


def test_configured_caution_for_easy_of_three_keeps_two_families_of_cautions_training() -> None:
    history = History.of(
        training(), nights(last=CAUTION_WEEK_H, week=CAUTION_WEEK_H), mornings(CAUTION_DROP_KG)
    )
    rec = evaluate_on(history, rules=SLEEP_AND_BODY, decision=DecisionConfig(caution_for_easy=3))
    assert len(rec.reasons) == 2
    assert rec.status is Status.TRAIN


def test_configured_three_families_for_rest_turns_two_moderate_families_into_an_easy_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H), mornings(MODERATE_DROP_KG))
    decision = DecisionConfig(moderate_for_rest=3)
    rec = evaluate_on(history, rules=SLEEP_AND_BODY, decision=decision)
    assert len(rec.reasons) == 2
    assert rec.status is Status.EASY
    assert not rec.rest_day_recommended


def test_configured_one_family_for_rest_makes_a_lone_moderate_a_rest_day() -> None:
    history = History.of(training(), nights(last=SHORT_NIGHT_H))
    rec = evaluate_on(history, rules=SLEEP, decision=DecisionConfig(moderate_for_rest=1))
    assert rules_of(rec.reasons) == {"sleep_short": Severity.MODERATE}
    assert rec.status is Status.REST


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


def test_readiness_counts_a_family_once_with_its_most_severe_finding() -> None:
    # A very short night (strong) inside a sleep debt (moderate): one family, one penalty.
    history = History.of(training(), nights(last=VERY_SHORT_NIGHT_H, week=DEBT_WEEK_H))
    rec = evaluate_on(history, rules=SLEEP)
    assert rules_of(rec.reasons) == {
        "sleep_short": Severity.STRONG,
        "sleep_debt": Severity.MODERATE,
    }
    assert rec.readiness == 100 - READINESS_PENALTY[Severity.STRONG]


def test_readiness_is_floored_at_zero() -> None:
    # strong pain + a strong short night + a moderate weight drop = 115 points of penalty.
    history = History.of(
        training(),
        nights(last=VERY_SHORT_NIGHT_H),
        mornings(MODERATE_DROP_KG),
        pains=[pain(DAY, 6)],
    )
    rec = evaluate_on(history, rules=only("pain", "sleep_short", "weight_drop_morning"))
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
        nights(last=VERY_SHORT_NIGHT_H, week=DEBT_WEEK_H),
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


def test_every_finding_carries_the_family_of_its_rule() -> None:
    history = History.of(
        training(),
        nights(last=VERY_SHORT_NIGHT_H, week=DEBT_WEEK_H),
        mornings(CAUTION_DROP_KG),
        pains=[pain(DAY, 2)],
        gear=[shoe("Pegasus 40", 900.0)],
    )
    rec = evaluate_on(history)
    assert rec.reasons
    for f in rec.reasons:
        assert f.family == FAMILY_OF[f.rule].value, f


def test_every_rule_of_the_catalogue_has_a_family() -> None:
    assert set(FAMILY_OF) == set(RULE_IDS)
    assert family_of("no_such_rule") == ""


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


def test_whole_catalogue_short_history_waits_on_every_load_rule_but_long_effort() -> None:
    rec = evaluate_on(History.of(short_history(10)))
    assert rec.waiting == LOAD_RULES
    assert "long_effort" not in rec.waiting
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


def test_a_lone_caution_during_calibration_stays_calibrating() -> None:
    history = History.of(short_history(10), body=mornings(CAUTION_DROP_KG))
    rec = evaluate_on(history, rules=only("weight_drop_morning", *LOAD_RULES))
    assert rules_of(rec.reasons) == {"weight_drop_morning": Severity.CAUTION}
    assert rec.status is Status.CALIBRATING


def test_a_strong_finding_during_calibration_still_recommends_rest() -> None:
    history = History.of(short_history(10), pains=[pain(DAY, 6)])
    rec = evaluate_on(history, rules=only("pain", *LOAD_RULES))
    assert rec.status is Status.REST
    assert rec.waiting == LOAD_RULES


def test_a_moderate_finding_during_calibration_gives_an_easy_day() -> None:
    history = History.of(short_history(10), [night(DAY, SHORT_NIGHT_H)])
    rec = evaluate_on(history, rules=only("sleep_short", *LOAD_RULES))
    assert rec.status is Status.EASY


# --- stale and silent inputs ------------------------------------------------------------------

SCALE = Profile(timezone=TZ, has_scale=True)
SLEEP_TRACKER = Profile(timezone=TZ, has_sleep=True)
BOTH = Profile(timezone=TZ, has_scale=True, has_sleep=True)


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


def test_no_activity_for_seven_days_is_named_stale() -> None:
    rec = evaluate_on(History.of([run(DAY - timedelta(days=7), 8)]), rules=only())
    assert "no activity for 7 days" in rec.stale


def test_no_activity_for_twelve_days_names_the_twelve() -> None:
    rec = evaluate_on(History.of([run(DAY - timedelta(days=12), 8)]), rules=only())
    assert "no activity for 12 days" in rec.stale


def test_an_activity_six_days_ago_is_not_stale() -> None:
    rec = evaluate_on(History.of([run(DAY - timedelta(days=6), 8)]), rules=only())
    assert not any("activit" in note for note in rec.stale)


def test_no_activities_at_all_are_named() -> None:
    assert "no activities yet" in evaluate_on(History(), rules=only()).stale


def test_without_sleep_source_and_scale_their_rules_are_listed_as_silent() -> None:
    rec = evaluate_on(History.of(training()), profile=PROFILE)
    assert rec.silent == (*NEEDS_SLEEP, *NEEDS_SCALE)
    assert set(rec.silent) == {
        "sleep_short",
        "sleep_debt",
        "hrv",
        "resting_hr",
        "dehydration_post_run",
        "weight_drop_morning",
    }


def test_a_sleep_source_alone_leaves_only_the_weight_rules_silent() -> None:
    rec = evaluate_on(History.of(training()), profile=SLEEP_TRACKER)
    assert rec.silent == ("dehydration_post_run", "weight_drop_morning")


def test_a_scale_alone_leaves_only_the_sleep_rules_silent() -> None:
    rec = evaluate_on(History.of(training()), profile=SCALE)
    assert rec.silent == ("sleep_short", "sleep_debt", "hrv", "resting_hr")


def test_with_every_input_configured_nothing_is_silent() -> None:
    assert evaluate_on(History.of(training()), profile=BOTH).silent == ()


def test_a_disabled_rule_is_not_listed_as_silent() -> None:
    rules = RulesConfig.model_validate({"hrv": {"enabled": False}})
    rec = evaluate_on(History.of(training()), profile=SCALE, rules=rules)
    assert rec.silent == ("sleep_short", "sleep_debt", "resting_hr")


def test_without_heart_rate_settings_no_load_rule_is_silent() -> None:
    rec = evaluate_on(History.of(training()), profile=BOTH)
    assert not set(rec.silent) & {*LOAD_RULES, "long_effort"}


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
    return evaluate_on(history, day, hour=EVALUATED_HOUR, profile=BOTH).to_payload()


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
    assert payload["silent"] == []


def test_state_payload_names_the_silent_rules() -> None:
    payload = evaluate_on(History.of(training()), profile=SCALE).to_payload()
    assert payload["silent"] == ["sleep_short", "sleep_debt", "hrv", "resting_hr"]


def test_state_payload_reasons_carry_rule_family_severity_numbers_and_citation() -> None:
    reasons = full_payload()["reasons"]
    assert isinstance(reasons, list)
    assert reasons
    by_rule = {r["rule"]: r for r in reasons}
    for reason in reasons:
        # DESIGN §5's keys and the family, plus a shoe's id (and a carried run's day)
        assert set(reason) - {"subject", "run_day"} == REASON_KEYS
        assert reason["severity"] in {s.value for s in Severity}
        assert reason["family"] == family_of(reason["rule"])
    assert by_rule["shoe_mileage"]["value"] == 812.0
    assert by_rule["shoe_mileage"]["threshold"] == 800.0
    assert by_rule["shoe_mileage"]["unit"] == "km"
    assert by_rule["shoe_mileage"]["family"] == "habits"
    assert by_rule["sleep_short"]["family"] == "sleep"
    assert by_rule["pain"]["severity"] == "info"
    assert "run_day" not in by_rule["sleep_short"]


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


# --- decide(), deciding() and readiness() directly --------------------------------------------


def made(severity: Severity, rule: str = "acwr") -> Finding:
    """A finding of `rule` (and so of its family) at `severity`."""
    return finding(rule, severity, "m", value=None, threshold=None, unit="", citation="")


DEFAULT = DecisionConfig()
# One rule of each family, to put findings in distinct families.
ONE_PER_FAMILY = (
    "acwr",
    "run_spike",
    "sleep_short",
    "hrv",
    "weight_drop_morning",
    "pain",
    "no_rest_day",
)


def test_a_caution_alone_leaves_the_day_train_or_calibrating() -> None:
    assert decide([made(Severity.CAUTION)], DEFAULT, calibrating=False) is Status.TRAIN
    assert decide([made(Severity.CAUTION)], DEFAULT, calibrating=True) is Status.CALIBRATING


def test_two_cautions_from_one_family_leave_a_training_day() -> None:
    findings = [made(Severity.CAUTION, "acwr"), made(Severity.CAUTION, "tsb")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.TRAIN


def test_cautions_from_two_families_make_an_easy_day_even_while_calibrating() -> None:
    findings = [made(Severity.CAUTION, "acwr"), made(Severity.CAUTION, "resting_hr")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.EASY
    assert decide(findings, DEFAULT, calibrating=True) is Status.EASY


def test_a_moderate_and_a_caution_from_one_family_make_an_easy_day() -> None:
    findings = [made(Severity.MODERATE, "run_spike"), made(Severity.CAUTION, "long_effort")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.EASY


def test_two_moderates_from_one_family_make_an_easy_day() -> None:
    findings = [made(Severity.MODERATE, "acwr"), made(Severity.MODERATE, "weekly_increase")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.EASY


def test_moderates_from_two_families_make_a_rest_day() -> None:
    findings = [made(Severity.MODERATE, "acwr"), made(Severity.MODERATE, "run_spike")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.REST


def test_a_strong_and_a_moderate_of_another_family_is_a_rest_day() -> None:
    findings = [made(Severity.STRONG, "long_effort"), made(Severity.MODERATE, "sleep_debt")]
    assert decide(findings, DEFAULT, calibrating=False) is Status.REST


def test_a_doctor_finding_outweighs_everything() -> None:
    findings = [made(Severity.STRONG, "long_effort"), made(Severity.DOCTOR, "pain")]
    assert decide(findings, DEFAULT, calibrating=True) is Status.SEE_DOCTOR


def test_no_findings_trains_or_calibrates() -> None:
    assert decide([], DEFAULT, calibrating=False) is Status.TRAIN
    assert decide([], DEFAULT, calibrating=True) is Status.CALIBRATING


def test_infos_from_every_family_still_train() -> None:
    findings = [made(Severity.INFO, rule) for rule in ONE_PER_FAMILY]
    assert decide(findings, DEFAULT, calibrating=False) is Status.TRAIN
    assert readiness(findings) == 100


_I, _C, _M, _S, _D = (
    Severity.INFO,
    Severity.CAUTION,
    Severity.MODERATE,
    Severity.STRONG,
    Severity.DOCTOR,
)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        # one family each
        ([(_C, rule) for rule in ONE_PER_FAMILY[:5]], 50),
        ([(_S, "pain"), (_M, "acwr")], 30),
        ([(_S, "pain"), (_S, "sleep_short"), (_C, "hrv")], 0),
        ([(_I, "cadence")] * 3, 100),
        # one family, many findings: its most severe counts once
        ([(_C, "acwr"), (_C, "tsb"), (_C, "monotony")], 90),
        ([(_M, "acwr"), (_C, "tsb")], 75),
        ([(_S, "sleep_short"), (_M, "sleep_debt")], 55),
        ([(_D, "pain")], 0),
    ],
)
def test_readiness_is_100_minus_one_penalty_per_family(
    found: list[tuple[Severity, str]], expected: int
) -> None:
    assert readiness([made(s, rule) for s, rule in found]) == expected


def test_deciding_names_nothing_on_a_training_day() -> None:
    findings = [made(Severity.CAUTION, "acwr"), made(Severity.INFO, "cadence")]
    assert deciding(findings, Status.TRAIN, DEFAULT) == []
    assert deciding([], Status.CALIBRATING, DEFAULT) == []


def test_deciding_names_the_moderate_family_of_an_easy_day() -> None:
    top = made(Severity.MODERATE, "sleep_short")
    findings = [top, made(Severity.CAUTION, "sleep_debt"), made(Severity.INFO, "cadence")]
    assert deciding(findings, Status.EASY, DEFAULT) == [top]


def test_deciding_names_both_cautions_of_an_easy_day_from_two_families() -> None:
    acwr, rhr = made(Severity.CAUTION, "acwr"), made(Severity.CAUTION, "resting_hr")
    findings = [acwr, made(Severity.CAUTION, "tsb"), rhr]
    assert deciding(findings, Status.EASY, DEFAULT) == [acwr, rhr]


def test_deciding_names_the_two_moderate_families_of_a_rest_day() -> None:
    spike, short = made(Severity.MODERATE, "run_spike"), made(Severity.MODERATE, "sleep_short")
    findings = [spike, short, made(Severity.CAUTION, "acwr")]
    assert deciding(findings, Status.REST, DEFAULT) == [spike, short]


def test_deciding_names_the_strong_finding_of_a_rest_day_and_not_a_lone_moderate() -> None:
    strong = made(Severity.STRONG, "long_effort")
    findings = [strong, made(Severity.MODERATE, "run_spike"), made(Severity.CAUTION, "acwr")]
    assert deciding(findings, Status.REST, DEFAULT) == [strong]
    findings = [strong, made(Severity.CAUTION, "acwr")]
    assert deciding(findings, Status.REST, DEFAULT) == [strong]


def test_deciding_names_the_doctor_finding() -> None:
    doctor = made(Severity.DOCTOR, "pain")
    findings = [made(Severity.STRONG, "sleep_short"), doctor]
    assert deciding(findings, Status.SEE_DOCTOR, DEFAULT) == [doctor]


def test_deciding_follows_the_configured_family_counts() -> None:
    acwr = made(Severity.CAUTION, "acwr")
    assert deciding([acwr], Status.EASY, DecisionConfig(caution_for_easy=1)) == [acwr]
    spike = made(Severity.MODERATE, "run_spike")
    assert deciding([spike], Status.REST, DecisionConfig(moderate_for_rest=1)) == [spike]


severities = st.sampled_from(list(Severity))
found = st.tuples(severities, st.sampled_from(RULE_IDS))


@given(
    before=st.lists(found, max_size=8),
    extra=found,
    moderate_for_rest=st.integers(1, 4),
    caution_for_easy=st.integers(1, 4),
    calibrating=st.booleans(),
)
def test_adding_a_finding_never_raises_readiness_nor_calms_the_status(
    before: list[tuple[Severity, str]],
    extra: tuple[Severity, str],
    moderate_for_rest: int,
    caution_for_easy: int,
    calibrating: bool,
) -> None:
    config = DecisionConfig(moderate_for_rest=moderate_for_rest, caution_for_easy=caution_for_easy)
    old = [made(s, rule) for s, rule in before]
    new = [*old, made(*extra)]
    assert readiness(new) <= readiness(old)
    assert 0 <= readiness(new) <= 100
    old_status = decide(old, config, calibrating=calibrating)
    new_status = decide(new, config, calibrating=calibrating)
    assert STATUS_ORDER[new_status] >= STATUS_ORDER[old_status]
    if extra[0].rank >= Severity.MODERATE.rank:
        assert new_status not in (Status.TRAIN, Status.CALIBRATING)
    for f in deciding(new, new_status, config):  # what decided the day is among the findings
        assert f in new
        assert f.severity.rank >= Severity.CAUTION.rank
