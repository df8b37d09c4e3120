"""Feed the input handlers generated payloads: no parser crashes, nothing invalid is stored.

Every configured input topic (a generic, a xiaomi and an openScale scale; a generic and a
Sleep as Android sleep source; pain and sync commands) gets payloads from hypothesis:
arbitrary bytes, JSON-ish text, well-formed objects with hostile values, and poison (issue 12):
timestamps that overflow local time or UTC, epoch values past 9999, before year 1 or in
seconds, integers of 101 to 5,000 digits, NaN/Infinity/1e400, JSON nested up to 30,000 deep,
duplicate keys, bytes that are not UTF-8, lone surrogates, HRV, resting HR and water just
outside their bounds, booleans and text where numbers are due. Each goes through
`restday.daemon.inputs.InputHandler` into a real store, as the worker does.

The parsers the handler calls are watched: a parser that raises anything but `InputRejected`
has *crashed* (the handler then counts the message as rejected too, so its own counts cannot
tell). At the end the store is checked against the parsers' bounds: weights 20–300 kg, water
20–80 %, nights of 15 min to 20 h, HRV 5–300 ms, resting HR 25–150 bpm, pain 0–10, no time
before 2000 or after the receipt. Exit status 1 if anything crashed or anything invalid was
stored.

Usage: .venv/bin/python bench/fuzz_inputs.py [--examples 100000]
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restday.config import load_config
from restday.daemon.inputs import InputHandler
from restday.integrations import devices
from restday.integrations.devices import (
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_HRV_MS,
    MAX_PAIN,
    MAX_RESTING_HR_BPM,
    MAX_SLEEP_HOURS,
    MAX_WATER_PCT,
    MAX_WEIGHT_KG,
    MIN_HRV_MS,
    MIN_PAIN,
    MIN_RESTING_HR_BPM,
    MIN_SLEEP_SESSION_MIN,
    MIN_WATER_PCT,
    MIN_WEIGHT_KG,
    InputRejected,
)
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import BodyMeasurement, PainReport, SleepSession
from restday.store import Store

RECEIVED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TOPICS = ("s/generic", "s/xiaomi", "s/openscale", "z/generic", "z/saa")
CONFIG = """[athlete]
timezone = "Europe/Berlin"
[storage]
path = "fuzz.db"
[[scale]]
topic = "s/generic"
[[scale]]
topic = "s/xiaomi"
preset = "xiaomi_mi_scale"
[[scale]]
topic = "s/openscale"
preset = "openscale"
[[sleep]]
topic = "z/generic"
[[sleep]]
topic = "z/saa"
preset = "sleep_as_android"
"""
EXAMPLES_KEPT = 3  # crashing payloads shown per parser and exception type

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
)  # fmt: skip
keys = st.sampled_from(
    ["weight", "unit", "weight_unit", "timestamp", "water", "date", "start", "end",
     "duration_hours", "hrv_ms", "resting_hr", "event", "value1"]
)  # fmt: skip
objects = st.dictionaries(keys, scalars, max_size=6).map(lambda d: json.dumps(d).encode())
# naive on purpose: a timestamp without a zone is local time in the athlete's zone
moments = st.datetimes(datetime(1995, 1, 1), datetime(2027, 12, 31)).map(  # noqa: DTZ001
    datetime.isoformat
)
plausible = st.one_of(
    st.fixed_dictionaries({"weight": st.floats(-10, 600), "timestamp": moments}),
    st.fixed_dictionaries({"weight": st.floats(0, 600), "weight_unit": st.sampled_from(
        ["kg", "lbs", "jin", "st"]), "timestamp": moments}),
    st.fixed_dictionaries({"date": st.integers(0, 2 * 10**12), "weight": st.floats(0, 400)}),
    st.fixed_dictionaries({"start": moments, "end": moments}),
    st.fixed_dictionaries({"end": moments, "duration_hours": st.floats(-5, 30)}),
    st.fixed_dictionaries({"event": st.sampled_from(["sleep_tracking_started",
        "sleep_tracking_paused", "sleep_tracking_resumed", "sleep_tracking_stopped"])}),
).map(lambda d: json.dumps(d).encode())  # fmt: skip
numbers = st.one_of(st.integers(-5, 15), st.floats(-5, 15)).map(lambda n: str(n).encode())

# --- poison (issue 12): raw JSON values, written by hand where json.dumps cannot ----------
NEAR = '"2026-11-20T07:30:00"'  # half an hour before RECEIVED, in Berlin
poison_times = st.sampled_from([
    '"9999-12-31T23:30:00+00:00"', '"9999-12-31T23:59:59.999999"', '"9999-12-31T20:00-05:00"',
    '"0001-01-01T00:00:00"', '"0001-01-01T00:30:00+05:00"', '"0001-01-01T00:00:00Z"',
    '"1572082380000"', '"2026-11-20T07:30:00\\udfff"', NEAR,
])  # fmt: skip
poison_numbers = st.one_of(
    st.integers(101, 5000).map(lambda n: "9" * n),  # over the 100-digit limit, to 5,000
    st.sampled_from([
        "1e400", "-1e400", "NaN", "Infinity", "1e-320", "-0.0", "true", "[70]", '"72.4"',
        "253402300799000", "253402300800000", "-62135596800001", "1572082380", "-1",
    ]),
)  # fmt: skip
out_of_bounds = st.sampled_from([  # each just outside a bound, one key to spoil a good base
    ("hrv_ms", "4.9"), ("hrv_ms", "300.1"), ("hrv_ms", "0"), ("resting_hr", "24.9"),
    ("resting_hr", "150.1"), ("water", "19.9"), ("water", "80.1"), ("weight", "19.99"),
    ("weight", "300.01"), ("duration_hours", "0.2499"), ("duration_hours", "20.01"),
])  # fmt: skip
BASES = [
    {"weight": "72.4", "timestamp": NEAR, "water": "55.1"},
    {"weight": "159.5", "weight_unit": '"lbs"', "timestamp": NEAR},
    {"date": "1763622000000", "weight": "80.0"},  # 2025-11-20T07:00Z
    {"end": NEAR, "duration_hours": "7.5", "hrv_ms": "48", "resting_hr": "52"},
    {"start": '"2026-11-19T23:00:00"', "end": NEAR},
    {"event": '"sleep_tracking_stopped"'},
]
BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"]


def raw_object(pairs: list[tuple[str, str]]) -> bytes:
    """An object from raw JSON values; a key may come twice (json.dumps cannot write that)."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}").encode()


@st.composite
def poisoned(draw: st.DrawFn) -> bytes:
    """A good payload of some preset with a key spoiled, then perhaps nested or broken."""
    base = dict(draw(st.sampled_from(BASES)))
    spoil = draw(st.sampled_from(["time", "number", "bound", "twice"]))
    if spoil == "bound":
        key, value = draw(out_of_bounds)
        base[key] = value
    elif spoil != "twice":
        key = draw(st.sampled_from(sorted(base)))
        base[key] = draw(poison_times if spoil == "time" else poison_numbers)
    pairs = list(base.items())
    if spoil == "twice":
        pairs.append(draw(st.sampled_from(pairs)))
    raw = raw_object(pairs)
    how = draw(st.sampled_from(["as is", "as is", "nested", "not UTF-8"]))
    if how == "nested":
        levels = draw(st.sampled_from([65, 1000, 30_000]))  # 30,000: past the recursion limit
        return b"[" * levels + raw + b"]" * levels
    if how == "not UTF-8":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(BAD_UTF8)) + raw[at:]
    return raw


payloads = st.one_of(
    st.binary(max_size=300), st.text(max_size=200).map(str.encode), objects, plausible, numbers,
    poisoned(), poisoned(),
)  # fmt: skip

P = ParamSpec("P")
R = TypeVar("R")


class Watch:
    """Counts what the parsers the handler calls give: a value, a reason, or a crash."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def wrap(self, name: str, parse: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(parse)
        def watched(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = parse(*args, **kwargs)
            except InputRejected:
                self.outcomes["rejected"] += 1
                raise
            except Exception as exc:
                cause = f"{name}: {type(exc).__name__}"
                self.outcomes["crashed"] += 1
                self.crashes[cause] += 1
                shown = self.examples.setdefault(cause, [])
                if len(shown) < EXAMPLES_KEPT:
                    shown.append(repr(args)[:200])
                raise
            self.outcomes["returned"] += 1
            return result

        return watched

    def install(self) -> None:
        """Wrap, where the handler looks them up, every parser of every preset."""
        for name in ("parse_scale", "parse_sleep", "parse_pain", "is_press"):
            setattr(devices, name, self.wrap(name, getattr(devices, name)))
        setattr(SleepAsAndroid, "feed", self.wrap("SleepAsAndroid.feed", SleepAsAndroid.feed))  # noqa: B010
        restore = self.wrap("SleepAsAndroid.from_json", SleepAsAndroid.from_json)
        setattr(SleepAsAndroid, "from_json", staticmethod(restore))  # noqa: B010


def invalid(
    body: list[BodyMeasurement], sleeps: list[SleepSession], pains: list[PainReport]
) -> list[object]:
    """What the store holds outside the parsers' bounds."""
    latest = RECEIVED + FUTURE_TOLERANCE
    bad: list[object] = [
        b for b in body
        if not MIN_WEIGHT_KG <= b.weight_kg <= MAX_WEIGHT_KG or not EARLIEST <= b.time <= latest
        or (b.water_pct is not None and not MIN_WATER_PCT <= b.water_pct <= MAX_WATER_PCT)
    ]  # fmt: skip
    bad += [
        s for s in sleeps
        if not MIN_SLEEP_SESSION_MIN / 60 <= s.hours <= MAX_SLEEP_HOURS
        or not EARLIEST <= s.end <= latest
        or (s.hrv_ms is not None and not MIN_HRV_MS <= s.hrv_ms <= MAX_HRV_MS)
        or (s.resting_hr is not None
            and not MIN_RESTING_HR_BPM <= s.resting_hr <= MAX_RESTING_HR_BPM)
    ]  # fmt: skip
    bad += [p for p in pains if not MIN_PAIN <= p.level <= MAX_PAIN]
    return bad


def main() -> None:
    logging.disable(logging.CRITICAL)  # every rejection logs a warning, a crash an error
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args()
    outcomes: Counter[str] = Counter()
    escaped: Counter[str] = Counter()
    watch = Watch()
    watch.install()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "restday.toml").write_text(CONFIG)
        config = load_config(Path(tmp) / "restday.toml", explicit=True)
        topics = Topics.of(config)
        all_topics = (*TOPICS, topics.pain_set, topics.sync_set)
        with Store.open(config.store_path()) as store:
            handler = InputHandler(config, store, topics)

            @settings(max_examples=args.examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(st.sampled_from(all_topics), payloads, st.booleans())
            def feed(topic: str, payload: bytes, retained: bool) -> None:
                msg = InboundMessage(topic, payload, retained, 1, RECEIVED)
                try:
                    outcome = handler.handle(msg)
                except Exception as exc:  # the handler's contract: only StoreError, never
                    escaped[type(exc).__name__] += 1
                    return
                outcomes[outcome if isinstance(outcome, str) else "stored"] += 1

            started = time.perf_counter()
            feed()
            elapsed = time.perf_counter() - started
            history = store.history()
    bad = invalid(list(history.body), list(history.sleeps), list(history.pains))
    total = sum(outcomes.values()) + sum(escaped.values())
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
    print(f"{total:,} payloads in {elapsed:.1f} s: {counts}")
    seen = watch.outcomes
    print(f"parser calls: {seen['returned']:,} returned, {seen['rejected']:,} rejected "
          f"(InputRejected), {seen['crashed']:,} crashed (any other exception)")  # fmt: skip
    for cause, n in watch.crashes.most_common():
        print(f"  crashed {n:,}× in {cause}, e.g. {watch.examples[cause][0]}")
    if escaped:
        print(f"escaped the handler: {dict(escaped)}")
    print(f"stored: {len(history.body):,} weigh-ins, {len(history.sleeps):,} nights, "
          f"{len(history.pains):,} pain reports; invalid among them: {len(bad)}")  # fmt: skip
    if watch.crashes or escaped or bad:
        raise SystemExit(f"parsers crashed or invalid inputs were stored: {bad[:5]}")


if __name__ == "__main__":
    main()
