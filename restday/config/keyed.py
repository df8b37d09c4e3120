"""The two tables keyed by the user's own names: `[athlete.rules]` (rule ids) and
`[scale.assign]` (athlete ids).

Each is a model without declared fields that keeps its keys as extras, so the configuration
stays one tree of models whose declared keys config.example.toml documents one by one. What can
be checked from the table alone is checked here, each problem at its own key
(`athlete.rules.sleep_short.min_hourz`, `scale[0].assign.anna[1]`); what needs the rest of the
configuration (the athlete ids, the shared `[rules]` to merge over) is `household`'s.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from restday.config.errors import moved, problem, reject
from restday.integrations.devices import MAX_WEIGHT_KG, MIN_WEIGHT_KG
from restday.rules.settings import RulesConfig

UNKNOWN_RULE = (
    "is not a rule id (the rule ids are the [rules.<id>] tables of the example config: "
    "`restday init --config FILE` writes it)"
)
NOT_A_RULE_TABLE = "must be a table of that rule's thresholds"
BAND_SHAPE = "must be two numbers [min_kg, max_kg] such as [52, 64]"
BAND_ORDER = "must be [min_kg, max_kg] with min_kg not above max_kg (got [%g, %g])"


def rule_model(rule: str) -> type[BaseModel]:
    """The thresholds model of `rule`, a field of RulesConfig."""
    model = RulesConfig.model_fields[rule].annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # pragma: no cover
        raise TypeError(f"RulesConfig.{rule} is not a model")
    return model


@cache
def _threshold(rule: str, key: str) -> TypeAdapter[object]:
    """What one key of a rule takes, bounds included (KeyError: no such key); the checks
    between keys (`rest_hours` not above `min_hours`) wait for the merge."""
    return TypeAdapter(rule_model(rule).model_fields[key].rebuild_annotation())


class RuleOverrides(BaseModel):
    """`[athlete.rules.<rule id>]`: an athlete's own thresholds, merged key by key over the
    shared `[rules.<rule id>]` (`household.merged_rules` validates the merge, bounds and all).
    Here: every rule id and key must exist, every rule be a table, every value fit its key."""

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _known_rules_and_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # pydantic: "must be a table"
        tables: dict[str, dict[str, object]] = {}
        errors: list[InitErrorDetails] = []
        for rule, table in data.items():
            if rule not in RulesConfig.model_fields:
                errors.append(problem((rule,), UNKNOWN_RULE))
            elif not isinstance(table, dict):
                errors.append(problem((rule,), NOT_A_RULE_TABLE))
            else:
                tables[rule] = {}
                for key, value in table.items():
                    try:
                        tables[rule][key] = _threshold(rule, key).validate_python(value)
                    except KeyError:
                        errors.append(
                            InitErrorDetails(type="extra_forbidden", loc=(rule, key), input=value)
                        )
                    except ValidationError as exc:
                        errors += [moved(e, (rule, key, *e["loc"])) for e in exc.errors()]
        reject(cls, errors)
        return tables

    def tables(self) -> dict[str, dict[str, object]]:
        """{rule id: {key: value}} for the rules this athlete changes, each value checked
        against its key alone (not yet merged)."""
        return {rule: dict(table) for rule, table in (self.__pydantic_extra__ or {}).items()}


class WeightBand(NamedTuple):
    """The weights a shared scale gives to one athlete: kg after unit conversion, inclusive."""

    min_kg: float
    max_kg: float

    def holds(self, kg: float) -> bool:
        return self.min_kg <= kg <= self.max_kg


_BAND_END = Annotated[float, Field(ge=MIN_WEIGHT_KG, le=MAX_WEIGHT_KG)]  # a scale's weights
_BAND = TypeAdapter(tuple[_BAND_END, _BAND_END])


class WeightBands(BaseModel):
    """`[scale.assign]`: athlete id → [min_kg, max_kg], the weigh-ins that scale gives to them
    (inclusive, within the weights a scale input accepts)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _bands(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        bands: dict[str, WeightBand] = {}
        errors: list[InitErrorDetails] = []
        for athlete, value in data.items():
            if not isinstance(value, list | tuple) or len(value) != len(WeightBand._fields):
                errors.append(problem((athlete,), BAND_SHAPE))
                continue
            try:
                low, high = _BAND.validate_python(value)
            except ValidationError as exc:
                errors += [moved(error, (athlete, *error["loc"])) for error in exc.errors()]
                continue
            if low > high:
                errors.append(problem((athlete,), BAND_ORDER % (low, high)))
            bands[athlete] = WeightBand(low, high)
        reject(cls, errors)
        return bands

    def bands(self) -> dict[str, WeightBand]:
        """{athlete id: band}, in the order written."""
        return dict(self.__pydantic_extra__ or {})
