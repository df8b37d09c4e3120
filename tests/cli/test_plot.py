"""`restday history --plot FILE.png`: a real PNG of a readable size, or a message to act on."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.cli.plot import INSTALL_HINT
from restday.cli.report import HISTORY_HEADER
from restday.clock import FixedClock
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ
from restday.models import BodyMeasurement, Hours, Kilograms, SleepSession
from restday.store import Store

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
