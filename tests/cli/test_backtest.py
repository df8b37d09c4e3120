"""`history --summary`'s counting, on hand-made days (independent of which rules fire when)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from restday.cli.backtest import Backtest
from restday.cli.report import summary_text
from restday.models import Finding, Metrics, Recommendation, Severity, Status
from restday.rules.settings import DecisionConfig
from tests.factories import DAY, TZ

INFO, CAUTION, MODERATE, STRONG, DOCTOR = Severity


def finding(rule: str, family: str, severity: Severity, subject: str | None = None) -> Finding:
    return Finding(rule, severity, f"{rule} says so", 1.0, 1.0, "", "a study", subject, family)


def day(status: Status, *findings: Finding, silent: tuple[str, ...] = ()) -> Recommendation:
    at = datetime(DAY.year, DAY.month, DAY.day, 23, 59, tzinfo=TZ)
    ordered = tuple(sorted(findings, key=lambda f: -f.severity.rank))
    return Recommendation(status, 50, ordered, Metrics(), (), (), at, silent)


def days_from(start: date, *recs: Recommendation) -> list[tuple[date, Recommendation]]:
    return [(start + timedelta(days=i), rec) for i, rec in enumerate(recs)]


WEEK = days_from(
    DAY,
    day(Status.TRAIN, finding("cadence", "habits", INFO)),
    # rest: two families at moderate or more decide it; acwr is not its family's most severe
    day(
        Status.REST,
        finding("run_spike", "session", STRONG),
        finding("weekly_increase", "load", MODERATE),
        finding("acwr", "load", CAUTION),
        finding("cadence", "habits", INFO),
    ),
    # easy: two families at caution
    day(Status.EASY, finding("acwr", "load", CAUTION), finding("monotony", "habits", CAUTION)),
    # easy: one moderate family; an info elsewhere decides nothing
    day(
        Status.EASY, finding("no_rest_day", "habits", MODERATE), finding("strength", "habits", INFO)
    ),
    # a rule judging two shoes fires once that day, at its most severe
    day(
        Status.TRAIN,
        finding("shoe_mileage", "habits", INFO, "g1"),
        finding("shoe_mileage", "habits", CAUTION, "g2"),
    ),
    day(Status.SEE_DOCTOR, finding("pain", "pain", DOCTOR)),
    day(Status.CALIBRATING, silent=("sleep_short", "sleep_debt", "weight_drop_morning")),
)


def test_days_are_counted_by_status_with_every_status_listed() -> None:
    payload = Backtest.of(WEEK, DecisionConfig()).to_payload()
    assert payload["days"] == len(WEEK)
    assert payload["by_status"] == {
        "train": 2,
        "easy": 2,
        "rest": 1,
        "see_doctor": 1,
        "calibrating": 1,
    }


def test_each_rule_counts_the_days_it_fired_at_each_severity_and_the_days_it_decided() -> None:
    rules = Backtest.of(WEEK, DecisionConfig()).to_payload()["rules"]
    assert isinstance(rules, dict)

    def fired(rule: str) -> dict[str, int]:
        return {k: v for k, v in rules[rule]["fired"].items() if v}

    assert fired("cadence") == {"info": 2}
    assert fired("acwr") == {"caution": 2}
    assert fired("shoe_mileage") == {"caution": 1}
    assert set(rules["acwr"]["fired"]) == {s.value for s in Severity}  # zeros included
    decided = {rule: counts["decided"] for rule, counts in rules.items()}
    assert decided == {
        "pain": 1,
        "weekly_increase": 1,
        "run_spike": 1,
        "acwr": 1,  # the two-caution easy day only
        "monotony": 1,
        "no_rest_day": 1,
        "shoe_mileage": 0,
        "cadence": 0,
        "strength": 0,
    }
    assert list(rules)[:3] == ["pain", "weekly_increase", "run_spike"]  # the catalogue's order


def test_the_decision_config_sets_what_decided() -> None:
    two_cautions = days_from(
        DAY, day(Status.EASY, finding("acwr", "load", CAUTION), finding("tsb", "load", CAUTION))
    )
    decision = DecisionConfig(caution_for_easy=1)
    rules = Backtest.of(two_cautions, decision).to_payload()["rules"]
    assert isinstance(rules, dict)
    assert rules["acwr"]["decided"] == 1  # its family's most severe (the first listed)
    assert rules["tsb"]["decided"] == 0


def test_no_days_and_no_findings() -> None:
    empty = Backtest.of([], DecisionConfig())
    assert empty.to_payload() == {
        "days": 0,
        "by_status": {status.value: 0 for status in Status},
        "rules": {},
    }
    assert "0 days" in summary_text(empty)


def test_the_summary_table_shows_counts_shares_and_what_was_not_tracked() -> None:
    text = summary_text(Backtest.of(WEEK, DecisionConfig()))
    lines = text.splitlines()
    assert lines[0] == f"7 days · {DAY} to {DAY + timedelta(days=6)}"
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.strip()}
    assert rows["status"] == ["days", "%"]
    assert rows["train"] == ["2", "28.6"]
    assert rows["see_doctor"] == ["1", "14.3"]
    assert rows["calibrating"] == ["1", "14.3"]
    assert rows["rule"] == ["info", "caution", "moderate", "strong", "doctor", "decided"]
    assert rows["acwr"] == ["0", "2", "0", "0", "0", "1"]
    assert rows["shoe_mileage"] == ["0", "1", "0", "0", "0", "0"]
    assert lines[-1].startswith("Not tracked: sleep, weight")
