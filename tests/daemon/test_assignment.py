"""A shared scale's weigh-in goes to the athlete whose band holds it, never to a guess."""

from __future__ import annotations

from restday.daemon.assignment import Assignment, assign

BANDS = {"anna": (52.0, 64.0), "ben": (70.0, 88.0)}
OVERLAPPING = {"anna": (52.0, 68.0), "ben": (62.0, 88.0)}


def test_a_weigh_in_in_one_band_goes_to_that_athlete() -> None:
    assert assign(58.3, BANDS, {}) == Assignment("anna", ("anna",))
    assert assign(79.0, BANDS, {"anna": 58.0}) == Assignment("ben", ("ben",))


def test_the_edges_of_a_band_belong_to_it() -> None:
    assert assign(64.0, BANDS, {}).athlete == "anna"
    assert assign(70.0, BANDS, {}).athlete == "ben"


def test_a_weigh_in_between_the_bands_is_nobodys() -> None:
    assert assign(67.0, BANDS, {"anna": 58.0, "ben": 79.0}) == Assignment(None, ())


def test_where_bands_overlap_the_nearest_last_weigh_in_decides() -> None:
    last = {"anna": 63.0, "ben": 70.0}

    assert assign(64.0, OVERLAPPING, last) == Assignment("anna", ("anna", "ben"))
    assert assign(68.0, OVERLAPPING, last) == Assignment("ben", ("anna", "ben"))


def test_two_athletes_equally_near_is_not_guessed() -> None:
    assert assign(65.0, OVERLAPPING, {"anna": 63.0, "ben": 67.0}) == Assignment(
        None, ("anna", "ben")
    )


def test_an_athlete_without_a_weigh_in_yet_makes_an_overlap_undecided() -> None:
    assert assign(65.0, OVERLAPPING, {"anna": 64.9}) == Assignment(None, ("anna", "ben"))
