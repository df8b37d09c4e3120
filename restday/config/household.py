"""A household (DESIGN.md §7): one `[athlete]` table or several `[[athlete]]`, and what that
asks of the rest of the configuration.

`read_athletes` validates the `[[athlete]]` tables (errors at `athlete[1].timezone`);
`check_household` checks what no single table can: the ids are unique, every scale and sleep
input can reach an athlete that exists, and each athlete's `[athlete.rules.<id>]` merged over
the shared `[rules.<id>]` still holds. Errors name their key; the single `[athlete]` form keeps
today's paths (`athlete.rules.sleep_short.min_hours`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails

from restday.config.errors import Location, ids_text, moved, problem
from restday.config.keyed import rule_model
from restday.config.sections import AthleteConfig, ScaleInput, SleepInput
from restday.rules.settings import RulesConfig

ATHLETE_KEY = "athlete"
NO_ATHLETES = "must have at least one athlete"
SAME_ID = 'athlete id "%s" is used twice (%s has it too): each athlete needs their own'
NOT_AN_ATHLETE = "is not a configured athlete (%s)"
SCALE_FOR_NOBODY = (
    'names no athlete: with several athletes, set athlete = "<id>" or give a [scale.assign] '
    "table of weight bands (%s)"
)
SCALE_FOR_BOTH = (
    "sets both athlete and [scale.assign]: athlete for one person's scale, assign for a shared one"
)
SLEEP_FOR_NOBODY = "is required with several athletes: whose nights are these? (%s)"

_ATHLETES = TypeAdapter(tuple[AthleteConfig, ...])


def read_athletes(
    tables: Sequence[object],
) -> tuple[tuple[AthleteConfig, ...], list[InitErrorDetails]]:
    """The `[[athlete]]` tables as athletes, or the errors found in them. An athlete without
    a name is called by their id (not all "Me": each is a Home Assistant device)."""
    if not tables:
        return (), [problem((ATHLETE_KEY,), NO_ATHLETES)]
    named = [
        {"name": table["id"], **table}
        if isinstance(table, dict) and isinstance(table.get("id"), str)
        else table
        for table in tables
    ]
    try:
        return _ATHLETES.validate_python(named), []
    except ValidationError as exc:
        return (), [moved(error, (ATHLETE_KEY, *error["loc"])) for error in exc.errors()]


def athlete_location(index: int, listed: bool) -> Location:
    """Where athlete `index` was written: `athlete[1]`, or `athlete` for the single table."""
    return (ATHLETE_KEY, index) if listed else (ATHLETE_KEY,)


def check_household(
    athletes: tuple[AthleteConfig, ...],
    listed: bool,
    scales: Sequence[ScaleInput],
    sleeps: Sequence[SleepInput],
    shared_rules: RulesConfig,
) -> tuple[dict[str, RulesConfig], list[InitErrorDetails]]:
    """Each athlete's merged rules (only those with overrides), and every problem found."""
    errors = _unique_ids(athletes, listed)
    ids = tuple(athlete.id for athlete in athletes)
    errors += _scale_errors(scales, ids)
    errors += _sleep_errors(sleeps, ids)
    rules: dict[str, RulesConfig] = {}
    for index, athlete in enumerate(athletes):
        merged, rule_errors = merged_rules(shared_rules, athlete, athlete_location(index, listed))
        errors += rule_errors
        if merged is not shared_rules:
            rules[athlete.id] = merged
    return rules, errors


def merged_rules(
    shared: RulesConfig, athlete: AthleteConfig, at: Location
) -> tuple[RulesConfig, list[InitErrorDetails]]:
    """`shared` with the athlete's `[athlete.rules.<id>]` merged over it key by key: each rule
    validated again from the keys the shared table set and the athlete's, so bounds, orders and
    defaults that fit set levels apply as if the athlete's keys were written in `[rules.<id>]`.
    `shared` itself when the athlete changes nothing."""
    tables = athlete.rules.tables()
    if not tables:
        return shared, []
    update = {}
    errors: list[InitErrorDetails] = []
    for rule, override in tables.items():
        base = getattr(shared, rule)
        written = {key: getattr(base, key) for key in base.model_fields_set}
        try:
            update[rule] = rule_model(rule).model_validate({**written, **override})
        except ValidationError as exc:
            where = (*at, "rules", rule)
            errors += [moved(error, (*where, *error["loc"])) for error in exc.errors()]
    return shared.model_copy(update=update), errors


def _unique_ids(athletes: Sequence[AthleteConfig], listed: bool) -> list[InitErrorDetails]:
    first: dict[str, int] = {}
    errors: list[InitErrorDetails] = []
    for index, athlete in enumerate(athletes):
        if athlete.id in first:
            other = f"{ATHLETE_KEY}[{first[athlete.id]}]"
            where = (*athlete_location(index, listed), "id")
            errors.append(problem(where, SAME_ID % (athlete.id, other)))
        first.setdefault(athlete.id, index)
    return errors


def _scale_errors(scales: Sequence[ScaleInput], ids: tuple[str, ...]) -> list[InitErrorDetails]:
    errors: list[InitErrorDetails] = []
    for index, scale in enumerate(scales):
        at: Location = ("scale", index)
        bands = scale.assign.bands()  # an empty [scale.assign] assigns nothing: as if absent
        if scale.athlete is not None and bands:
            errors.append(problem(at, SCALE_FOR_BOTH))
        elif scale.athlete is None and not bands and len(ids) > 1:
            errors.append(problem(at, SCALE_FOR_NOBODY % ids_text(ids)))
        if scale.athlete is not None and scale.athlete not in ids:
            errors.append(problem((*at, "athlete"), NOT_AN_ATHLETE % ids_text(ids), scale.athlete))
        errors += [
            problem((*at, "assign", athlete), NOT_AN_ATHLETE % ids_text(ids))
            for athlete in bands
            if athlete not in ids
        ]
    return errors


def _sleep_errors(sleeps: Sequence[SleepInput], ids: tuple[str, ...]) -> list[InitErrorDetails]:
    errors: list[InitErrorDetails] = []
    for index, sleep in enumerate(sleeps):
        at: Location = ("sleep", index, "athlete")
        if sleep.athlete is None and len(ids) > 1:
            errors.append(problem(at, SLEEP_FOR_NOBODY % ids_text(ids)))
        elif sleep.athlete is not None and sleep.athlete not in ids:
            errors.append(problem(at, NOT_AN_ATHLETE % ids_text(ids), sleep.athlete))
    return errors
