"""Where the values come from besides the file: the environment, which overrides the single
`[athlete]` table only (DESIGN.md §7).

pydantic-settings merges tables key by key but replaces a list whole: a RESTDAY_ATHLETE__…
variable over `[[athlete]]` tables would silently leave one athlete made of the variables
alone. `SingleAthleteEnvironment` says so instead, naming the variables.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from restday.config.errors import ENV_NESTED_DELIMITER, ENV_PREFIX, problem
from restday.config.household import ATHLETE_KEY

ATHLETE_VARIABLE = f"{ENV_PREFIX}{ATHLETE_KEY.upper()}"
ENV_WITH_SEVERAL = (
    "environment variables override a single [athlete] table only, and the config file has "
    "[[athlete]] tables: set what %s says in the file instead"
)


def addresses_athlete(name: str) -> bool:
    """Whether the environment variable `name` overrides `[athlete]` or a key in it."""
    upper = name.upper()
    return upper == ATHLETE_VARIABLE or upper.startswith(ATHLETE_VARIABLE + ENV_NESTED_DELIMITER)


class SingleAthleteEnvironment(PydanticBaseSettingsSource):
    """`environment`'s values, refused where they address `[athlete]` and `file` lists
    `[[athlete]]` tables."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        environment: PydanticBaseSettingsSource,
        file: PydanticBaseSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        self._environment = environment
        self._file = file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._environment.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        values = self._environment()
        if ATHLETE_KEY in values and isinstance(self._file().get(ATHLETE_KEY), list):
            names = sorted(name for name in os.environ if addresses_athlete(name))
            where = " and ".join(names) or ATHLETE_VARIABLE
            error = problem((ATHLETE_KEY,), ENV_WITH_SEVERAL % where)
            raise ValidationError.from_exception_data(self.settings_cls.__name__, [error])
        return values
