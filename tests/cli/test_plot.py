"""`restday history --plot FILE.png`: a real PNG of a readable size, or a message to act on.

What a chart shows is read from its matplotlib figure (`history_figure`, caught on its way to
the file): the panels' labels and legends, the points drawn, the days shaded.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from restday.cli import main
from restday.cli import plot as plot_module
from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.cli.plot import INSTALL_HINT
from restday.cli.report import HISTORY_HEADER
from restday.clock import FixedClock
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ
from restday.models import BodyMeasurement, Hours, Kilograms, PainReport, SleepSession
from restday.store import Store

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "strava-activities.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_WIDTH_PX, MAX_WIDTH_PX = 1000, 3000
MIN_HEIGHT_PX, MAX_HEIGHT_PX = 700, 3000
MIN_CHART_BYTES = 30_000  # a chart with five drawn panels, not a blank canvas
SUBPROCESS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    size: int
    text: dict[str, str]  # tEXt/zTXt/iTXt chunks: what viewers show as title etc.


def read_png(path: Path) -> Png:
    """Check the signature and walk the chunks (each CRC checked) of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"corrupt {kind!r} chunk"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    text: dict[str, str] = {}
    for kind, body in chunks:
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":  # keyword, 0, flag, method, language 0, translated 0, text
            key, _, rest = body.partition(b"\0")
            compressed, value = rest[0], rest[2:].split(b"\0", 2)[2]
            text[key.decode("latin-1")] = (zlib.decompress(value) if compressed else value).decode()
    return Png(width, height, len(data), text)


def assert_readable_chart(png: Png) -> None:
    assert MIN_WIDTH_PX <= png.width <= MAX_WIDTH_PX
    assert MIN_HEIGHT_PX <= png.height <= MAX_HEIGHT_PX
    assert png.size > MIN_CHART_BYTES


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text(
        '[athlete]\nname = "Sample Runner"\ntimezone = "Europe/Berlin"\n'
        '[storage]\npath = "restday.db"\n'
    )
    return path


@pytest.fixture
def imported(config: Path) -> Path:
    """The config, with the sample athlete imported through the CLI."""
    assert main(["import", str(EXAMPLE), "--config", str(config)]) == EXIT_OK
    return config


def evening_after_sample() -> FixedClock:
    return FixedClock(datetime.combine(SAMPLE_END, time(20), tzinfo=SAMPLE_TZ))


def plot(config: Path, out: Path, days: int = 70) -> int:
    argv = ["history", "--days", str(days), "--plot", str(out), "--config", str(config)]
    return main(argv, clock=evening_after_sample())


# The sample runner's knee in the last two weeks: (days before the sample's end, pain 0–10).
# 9/10 is "see a doctor"; so are more than three report days in a row at 4 or more.
KNEE = ((12, 2), (9, 3), (6, 5), (5, 6), (4, 5), (3, 5), (2, 9), (0, 4))
PAIN_AT = time(19)


@pytest.fixture
def sore_knee(imported: Path, tmp_path: Path) -> Path:
    """The imported config, with `KNEE`'s pain reports in the store."""
    received = datetime.combine(SAMPLE_END, time(21), tzinfo=SAMPLE_TZ)
    with Store.open(tmp_path / "restday.db") as store:
        for back, level in KNEE:
            at = datetime.combine(SAMPLE_END - timedelta(days=back), PAIN_AT, tzinfo=SAMPLE_TZ)
            store.add_pain(PainReport(at, level), "{}", received)
    return imported


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures `restday history --plot` draws, as they go to their files."""
    figures: list[Figure] = []
    real: Callable[..., Figure] = plot_module.history_figure

    def catch(*args: object) -> Figure:
        figures.append(real(*args))
        return figures[-1]

    monkeypatch.setattr(plot_module, "history_figure", catch)
    return figures


def panel(fig: Figure, name: str) -> Axes:
    """The panel whose y label starts with `name` ("pain", "training load" …)."""
    found = [ax for ax in fig.axes if ax.get_ylabel().startswith(name)]
    assert len(found) == 1, [ax.get_ylabel() for ax in fig.axes]
    return found[0]


def numbers(data: object) -> list[float]:
    """A line's x or y data as floats."""
    return [float(v) for v in np.asarray(data, dtype=float)]


def legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def statuses(config: Path, days: int, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Each day's status, oldest first, as `restday history --json` tells them."""
    capsys.readouterr()
    argv = ["history", "--days", str(days), "--json", "--config", str(config)]
    assert main(argv, clock=evening_after_sample()) == EXIT_OK
    return [json.loads(line)["status"] for line in capsys.readouterr().out.splitlines()]


def test_sample_athlete_chart_is_a_readable_png_titled_with_name_dates_and_status(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.png"
    capsys.readouterr()
    assert plot(imported, out) == EXIT_OK
    png = read_png(out)
    assert_readable_chart(png)
    assert png.text["Title"].startswith("Sample Runner — 12 Sep – 20 Nov 2026 · Today: REST")
    printed = capsys.readouterr().out
    assert f"to {out}." in printed
    assert "2026-09-12 – 2026-11-20 (70 days)" in printed
    assert HISTORY_HEADER not in printed  # the chart instead of the table


@pytest.mark.parametrize("days", [1, 14, 400])
def test_every_window_renders_from_a_day_to_over_a_year(
    imported: Path, tmp_path: Path, days: int
) -> None:
    out = tmp_path / f"{days}.png"
    assert plot(imported, out, days) == EXIT_OK
    assert_readable_chart(read_png(out))


def test_sleep_and_weigh_ins_from_the_store_are_drawn(imported: Path, tmp_path: Path) -> None:
    without = tmp_path / "without.png"
    assert plot(imported, without) == EXIT_OK
    received = datetime.combine(SAMPLE_END, time(21), tzinfo=SAMPLE_TZ)
    with Store.open(tmp_path / "restday.db") as store:
        for back in range(70):
            day = SAMPLE_END - timedelta(days=back)
            woke = datetime.combine(day, time(6, 30), tzinfo=SAMPLE_TZ)
            hours = 5.2 if back % 9 == 0 else 7.4
            night = SleepSession(woke, Hours(hours), start=woke - timedelta(hours=8))
            store.add_sleep(night, "{}", received)
            weighed = woke + timedelta(minutes=20)
            store.add_body(BodyMeasurement(weighed, Kilograms(70.0 - back / 100)), "{}", received)
    with_inputs = tmp_path / "with.png"
    assert plot(imported, with_inputs) == EXIT_OK
    assert_readable_chart(read_png(with_inputs))
    assert with_inputs.read_bytes() != without.read_bytes()


def test_a_runner_with_nothing_imported_still_gets_a_chart(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "empty.png"
    assert plot(config, out, days=30) == EXIT_OK
    png = read_png(out)
    assert png.width >= MIN_WIDTH_PX
    assert "CALIBRATING" in png.text["Title"]
    assert "import activities" in capsys.readouterr().err


def test_without_matplotlib_it_says_how_to_install_it(imported: Path, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "from restday.cli import main\n"
        f"sys.exit(main(['history', '--plot', 'out.png', '--config', {str(imported)!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == EXIT_FAILURE
    assert done.stderr.strip() == INSTALL_HINT
    assert "pip install 'restday[plot]'" in done.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("missing/folder/out.png", "does not exist"),
        (".", "is a folder"),
        ("out.jpg", "ending in .png"),
    ],
)
def test_a_path_it_cannot_write_fails_with_what_to_do(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, says: str
) -> None:
    out = tmp_path / target
    capsys.readouterr()
    assert plot(imported, out) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("restday: cannot write the chart: ")
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()
    assert not (tmp_path / "out.jpg").exists()


def test_pain_reports_are_drawn_as_made_on_a_0_to_10_panel_of_their_own(
    sore_knee: Path, tmp_path: Path, drawn: list[Figure]
) -> None:
    days = 28
    assert plot(sore_knee, tmp_path / "pain.png", days) == EXIT_OK
    (fig,) = drawn
    pain = panel(fig, "pain")
    assert pain.get_ylabel() == "pain\n(0–10)"
    low, high = pain.get_ylim()
    assert low == 0
    assert 10 <= high < 11
    assert list(pain.get_yticks()) == [0, 2, 4, 6, 8, 10]
    (line,) = pain.get_lines()
    assert numbers(line.get_ydata()) == [level for _, level in KNEE]
    at_19 = 19 / 24  # each report at its own time: day i of the window spans [i, i + 1)
    expected_x = [days - 1 - back + at_19 for back, _ in KNEE]
    assert numbers(line.get_xdata()) == pytest.approx(expected_x)
    assert "pain reports" in legend_labels(pain)
    assert_readable_chart(read_png(tmp_path / "pain.png"))


def test_see_a_doctor_days_are_shaded_in_their_own_colour_on_the_pain_panel(
    sore_knee: Path,
    tmp_path: Path,
    drawn: list[Figure],
    capsys: pytest.CaptureFixture[str],
) -> None:
    days = 28
    status = statuses(sore_knee, days, capsys)
    doctor_days = [i for i, s in enumerate(status) if s == "see_doctor"]
    assert doctor_days  # the 9/10, and the four report days in a row at 4 or more
    assert "rest" in status  # a rest day too, drawn in the grey of every panel
    assert plot(sore_knee, tmp_path / "doctor.png", days) == EXIT_OK
    pain = panel(drawn[0], "pain")
    from matplotlib.patches import Rectangle  # what `axvspan` draws

    colour = plot_module.SEE_DOCTOR_SHADE
    shaded = sorted(
        round(patch.get_x())
        for patch in pain.patches
        if isinstance(patch, Rectangle) and tuple(patch.get_facecolor()) == pytest.approx(colour)
    )
    assert shaded == doctor_days
    assert "see a doctor" in legend_labels(pain)


def test_a_runner_who_never_reported_pain_is_told_so_on_the_pain_panel(
    imported: Path, tmp_path: Path, drawn: list[Figure]
) -> None:
    assert plot(imported, tmp_path / "none.png") == EXIT_OK
    pain = panel(drawn[0], "pain")
    assert pain.get_lines() == []
    assert [t.get_text() for t in pain.texts] == ["no pain reported in these days"]
    assert pain.get_ylim()[0] == 0  # the scale stays, empty


def test_every_word_on_the_chart_is_a_runners(
    sore_knee: Path, tmp_path: Path, drawn: list[Figure]
) -> None:
    assert plot(sore_knee, tmp_path / "words.png") == EXIT_OK
    (fig,) = drawn
    title = fig.get_suptitle()
    assert title.startswith("Sample Runner — ")  # the chart names whose it is
    words = [title, *(t.get_text() for t in fig.texts)]
    for ax in fig.axes:
        words += [ax.get_ylabel(), ax.get_xlabel(), *legend_labels(ax)]
        words += [t.get_text() for t in ax.texts]
        words += [t.get_text() for t in ax.get_xticklabels()]
    text = "\n".join(words)
    for jargon in ("EWMA", "ACWR", "acute", "chronic", "TSB", "TRIMP", "see_doctor"):
        assert jargon not in text, jargon
    load = legend_labels(panel(fig, "training load"))
    assert {"7-day average", "28-day average", "daily load"} <= set(load)
    assert panel(fig, "load ratio").get_ylabel() == "load ratio\n(7-day ÷ 28-day)"
