"""Evaluate one day: every enabled rule over the history, then the decision and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo

from restday.models import Finding, History, Metrics, Recommendation, ShoeMetric
from restday.rules import RULES, body, guard, habits, sleep, training
from restday.rules.context import Context
from restday.rules.decision import decide, readiness
from restday.rules.prepared import Prepared
from restday.rules.settings import DecisionConfig, Profile, RulesConfig

SPIKE_BASELINE_DAYS = 30  # run_spike compares with the longest run of the 30 days before today
WEIGHT_STALE_DAYS = 2  # a scale that has been silent this many days is named in `stale`
ACTIVITY_STALE_DAYS = 7  # so is Strava once the newest activity is this old


def evaluate(
    history: History,
    now: datetime,
    profile: Profile,
    rules: RulesConfig | None = None,
    decision: DecisionConfig | None = None,
) -> Recommendation:
    """The recommendation for the local day that contains `now`, from what happened by then."""
    return evaluate_context(Context.build(history, now, profile), rules, decision)


def evaluate_context(
    ctx: Context, rules: RulesConfig | None = None, decision: DecisionConfig | None = None
) -> Recommendation:
    """The recommendation for a prepared evaluation (`Context.build` or `Context.at`)."""
    rules = rules or RulesConfig()
    decision = decision or DecisionConfig()

    findings: list[Finding] = []
    waiting: list[str] = []
    for spec in RULES:
        thresholds = getattr(rules, spec.id)
        if not thresholds.enabled:
            continue
        if spec.needs_history and ctx.calibrating:
            waiting.append(spec.id)
            continue
        findings.extend(spec.fn(ctx, thresholds))
    usual = guard.usual_week_load(ctx)
    findings = guard.cap_load_family(findings, ctx, rules, usual)
    # Most severe first; equal severities keep the catalogue order.
    findings.sort(key=lambda f: -f.severity.rank)

    return Recommendation(
        status=decide(findings, decision, calibrating=ctx.calibrating),
        readiness=readiness(findings),
        reasons=tuple(findings),
        metrics=metrics(ctx, rules, usual),
        stale=stale(ctx),
        waiting=tuple(waiting),
        evaluated_at=ctx.now.astimezone(ctx.tz),
        silent=silent(ctx.profile, rules),
    )


# The rules that cannot run without a configured input (RULES.md v2, `silent`).
NEEDS_SLEEP = ("sleep_short", "sleep_debt", "hrv", "resting_hr")
NEEDS_SCALE = ("dehydration_post_run", "weight_drop_morning")


def silent(profile: Profile, rules: RulesConfig) -> tuple[str, ...]:
    """The enabled rules whose input is not configured at all (no sleep source, no scale)."""
    out = [] if profile.has_sleep else list(NEEDS_SLEEP)
    out += [] if profile.has_scale else NEEDS_SCALE
    return tuple(rule for rule in out if getattr(rules, rule).enabled)


def evaluate_days(
    history: History,
    first: date,
    last: date,
    now: datetime,
    profile: Profile,
    rules: RulesConfig | None = None,
    decision: DecisionConfig | None = None,
) -> Iterator[tuple[date, Recommendation]]:
    """Each day from `first` to `last` (oldest first) as `status --date D` sees it: a past day
    evaluated at its end, the day that contains `now` evaluated at `now`."""
    tz = profile.timezone
    today = now.astimezone(tz).date()
    if last > today:
        raise ValueError(f"{last} is after today ({today})")
    prepared = Prepared.of(history, now, profile, many_days=True)  # one pass for every day
    day = first
    while day <= last:
        moment = now if day == today else _end_of(day, tz)
        yield day, evaluate_context(Context.at(prepared, moment), rules, decision)
        day += timedelta(days=1)


def metrics(ctx: Context, rules: RulesConfig, usual_week_load: float | None) -> Metrics:
    today = ctx.today
    week_start = today - timedelta(days=6)
    need = sleep.need(ctx, rules.sleep_debt.need_hours)
    debt, missing = sleep.debt(ctx, need)
    return Metrics(
        acute_load=ctx.acute_load,
        chronic_load=ctx.chronic_load,
        acwr=ctx.acwr,
        week_km=ctx.run_km_between(week_start, today),
        prev_week_km=ctx.run_km_between(week_start - timedelta(days=7), today - timedelta(days=7)),
        longest_run_30d_km=ctx.longest_run_between(
            today - timedelta(days=SPIKE_BASELINE_DAYS), today - timedelta(days=1)
        ),
        last_sleep_h=ctx.last_night_hours(),
        sleep_debt_h=None if debt is None else max(0.0, debt),
        sleep_nights_missing=missing,
        sleep_need_h=need,
        usual_week_load=usual_week_load,
        weight_kg=body.latest_weight(ctx),
        days_since_rest=ctx.rest_streak(rules.no_rest_day.min_minutes),
        load_source=ctx.load_source.value,
        tsb_pct=training.tsb_pct(ctx),
        monotony=training.monotony_value(ctx),
        cadence_spm=habits.cadence_7d(ctx),
        strength_sessions_7d=habits.strength_sessions_7d(ctx),
        today_load=ctx.load_on(today),
        today_run_km=ctx.run_km_by_day.get(today, 0.0),
        shoes=tuple(
            ShoeMetric(id=g.id, name=g.name, km=g.distance_km) for g in ctx.gear if not g.retired
        ),
    )


def stale(ctx: Context) -> tuple[str, ...]:
    """Configured inputs that are missing or old, as short phrases for people."""
    notes: list[str] = []
    if not ctx.activities:
        notes.append("no activities yet")
    else:
        idle = (ctx.today - ctx.activity_days[-1]).days
        if idle >= ACTIVITY_STALE_DAYS:
            notes.append(f"no activity for {idle} days")
    if ctx.profile.has_scale:
        if not ctx.body:
            notes.append("no weigh-in yet")
        else:
            days = (ctx.today - ctx.local_date(ctx.body[-1].time)).days
            if days >= WEIGHT_STALE_DAYS:
                notes.append(f"no weigh-in for {days} days")
    if ctx.profile.has_sleep and ctx.last_night_hours() is None:
        notes.append("sleep not tracked last night")
    return tuple(notes)


def _end_of(day: date, tz: tzinfo) -> datetime:
    """The last instant of a local day (as `restday status --date` evaluates it)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
