"""restday as a Home Assistant add-on (DESIGN.md §7): the add-on's options and the Supervisor's
MQTT service become restday's configuration, in the package so that it is tested like the rest.

`translate` (options.py) maps the options' runners, Strava application, inputs and rule
overrides to restday's tables and takes the broker from the Supervisor's service; `merged`
(merge.py) lays the optional TOML file of the add-on's config folder over them; `configure`
(configure.py) writes the result privately to /data and loads it with restday's own
`load_config`, naming the option, the service or the file's key for each problem;
`settle_strava` (strava_code.py) exchanges a pasted Strava code once. `python -m restday.addon`
(__main__.py) does all of it and then runs restday. The add-on's files (config.yaml, the
Dockerfile, run.sh) are in the repository's `addon/` folder; the package speaks HTTP only to
Strava: run.sh asks the Supervisor for the broker.
"""

from restday.addon.configure import AddonConfigError, Configured, configure, option_error
from restday.addon.merge import merged, read_user_file
from restday.addon.options import OptionsError, Translation, broker, translate
from restday.addon.strava_code import settle_strava
from restday.addon.toml_text import toml_text

__all__ = [
    "AddonConfigError",
    "Configured",
    "OptionsError",
    "Translation",
    "broker",
    "configure",
    "merged",
    "option_error",
    "read_user_file",
    "settle_strava",
    "toml_text",
    "translate",
]
