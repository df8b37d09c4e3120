"""Whose weigh-in is it? A shared scale's weigh-in given to one athlete, or to nobody.

DESIGN.md §7 "Household config": a `[[scale]]` with `[scale.assign]` lists weight bands per
athlete (inclusive, in kg after unit conversion). A weigh-in goes to the athlete whose band
holds it; when several bands hold it, to the one of them whose last weigh-in is nearest in
weight. One that fits no band, or that two athletes fit equally well (or an athlete without
any weigh-in yet, whose nearness is unknown), is not guessed: it stays unassigned, for the
household to assign it (`<base>/<a>/assign/set`, `restday assign`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KG_RESOLUTION = 0.01  # two distances closer than this are a tie (scales show 0.05 or 0.1 kg)

Band = tuple[float, float]  # min_kg, max_kg, inclusive


@dataclass(frozen=True, slots=True)
class Assignment:
    """The athlete a weigh-in goes to, or None and the athletes it could be (none: nobody's
    band holds it)."""

    athlete: str | None
    candidates: tuple[str, ...]


def assign(weight_kg: float, bands: Mapping[str, Band], last_kg: Mapping[str, float]) -> Assignment:
    """Who `weight_kg` belongs to, given each athlete's band and last weigh-in (`last_kg`:
    athletes with none are absent). Candidates are listed in the order of `bands` (the config's)."""
    candidates = tuple(a for a, (low, high) in bands.items() if low <= weight_kg <= high)
    if len(candidates) == 1:
        return Assignment(candidates[0], candidates)
    if not candidates or any(a not in last_kg for a in candidates):
        return Assignment(None, candidates)
    distance = {a: abs(weight_kg - last_kg[a]) for a in candidates}
    nearest = min(candidates, key=distance.__getitem__)
    ties = [a for a in candidates if distance[a] - distance[nearest] < KG_RESOLUTION]
    return Assignment(nearest if len(ties) == 1 else None, candidates)
