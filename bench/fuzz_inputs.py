"""Feed the input handlers generated payloads: nothing escapes, nothing invalid is stored.

Every configured input topic (a generic, a xiaomi and an openScale scale; a generic and a
Sleep as Android sleep source; pain and sync commands) gets payloads from hypothesis:
arbitrary bytes, JSON-ish text, and well-formed objects with hostile values. Each goes
through `restday.daemon.inputs.InputHandler` into a real store, as the worker does. At the
end the store is checked: weights 20–300 kg, nights 0–20 h, pain 0–10, no time before 2000.

Usage: .venv/bin/python bench/fuzz_inputs.py [--examples 100000]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restday.config import load_config
from restday.daemon.inputs import InputHandler
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
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
payloads = st.one_of(
    st.binary(max_size=300), st.text(max_size=200).map(str.encode), objects, plausible, numbers
)


def main() -> None:
    logging.disable(logging.WARNING)  # every rejection logs a warning: 100,000 of them
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args()
    outcomes: Counter[str] = Counter()
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
                outcome = handler.handle(msg)  # any exception fails the run
                outcomes[outcome if isinstance(outcome, str) else "stored"] += 1

            started = time.perf_counter()
            feed()
            elapsed = time.perf_counter() - started
            history = store.history()
    bad = [b for b in history.body if not 20 <= b.weight_kg <= 300]
    bad += [s for s in history.sleeps if not 0 < s.hours <= 20]  # type: ignore[misc]
    bad += [p for p in history.pains if not 0 <= p.level <= 10]  # type: ignore[misc]
    total = sum(outcomes.values())
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    print(f"{total} payloads in {elapsed:.1f} s: {counts}")
    print(f"stored: {len(history.body)} weigh-ins, {len(history.sleeps)} nights, "
          f"{len(history.pains)} pain reports; invalid among them: {len(bad)}")  # fmt: skip
    if bad:
        raise SystemExit(f"invalid inputs were stored: {bad[:5]}")


if __name__ == "__main__":
    main()
