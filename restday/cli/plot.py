"""`restday history --plot FILE.png`: the history as one chart a runner can read at a glance.

matplotlib is an optional extra (`pip install 'restday[plot]'`), imported only here and only
when a chart is drawn, on the Agg canvas: no display, no pyplot state. Every number drawn comes
from the day's `Recommendation` (what the rules saw), except the weigh-ins and pain reports,
drawn as measured. The words are a runner's: "7-day average", "load ratio", "see a doctor".
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.cli.report import STATUS_LINE, HistoryRow
from restday.models import History, Recommendation, Status

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INSTALL_HINT = (
    "restday: --plot needs matplotlib, which is not installed: "
    "install it with pip install 'restday[plot]'"
)

FIGURE_IN = (16.0, 13.5)  # inches; at DPI: 1600×1350 px
DPI = 100
PANEL_HEIGHTS = (3.0, 2.0, 1.8, 1.6, 1.8, 1.6)  # load, load ratio, weekly km, pain, sleep, weight
PAIN_TOP = 10  # the pain scale: 0 (none) to 10
PAIN_HEADROOM = 0.6  # above 10, so a report of 10 is not cut by the frame
SEE_DOCTOR_SHADE = (0.835, 0.369, 0.0, 0.30)  # VERMILLION, light: the pain panel's doctor days
ACWR_BAND = (0.8, 1.3)  # the "sweet spot" (Gabbett 2016)
ACWR_CAUTION = 1.5  # RULES.md v2 defaults: above it a caution (Gabbett's "high risk") …
ACWR_EASY = 2.0  # … above this a moderate finding, an easy day (the ratio is a weak predictor)
ACWR_MIN_TOP = 2.2  # the ACWR axis shows at least 0–2.2, so both lines are in view
ACWR_HEADROOM = 1.2  # room above the highest ACWR for today's value
WEEK_HEADROOM = 1.35  # room above the highest week for its two-line label
SHORT_NIGHT_H = 6.0
BAR_DAYS = 0.8  # width of a daily bar, in days
WEEK_GAP_DAYS = 0.4  # gap between two weekly bars, in days
DAILY_TICKS_UP_TO_DAYS = 21  # longer windows get a tick a week (on Mondays)
WEEKLY_TICKS_UP_TO_DAYS = 150  # longer ones get a tick on the first of every n-th month
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60)
MAX_MONTH_TICKS = 14
ONE_DAY = timedelta(days=1)
MARKERS_UP_TO_DAYS = 120  # a dot a day on the ACWR line while the dots stay apart
PLOT_WIDTH_PX = 1300  # about how wide the panels are, for fitting the weekly labels
LABEL_PX_PER_CHAR = 8  # about how wide a character of a weekly label is
FONT_PT = 12

# Okabe & Ito (2008): told apart with every common colour-vision deficiency.
ORANGE, SKY, GREEN, BLUE, VERMILLION, PURPLE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
INK, MUTED, BAR_GREY, GRID = "#222222", "#777777", "#B8B8B8", "#DDDDDD"
REST_SHADE = (0.0, 0.0, 0.0, 0.10)  # grey, readable in any colour vision and in print
LOAD_UNITS = {
    "minutes": "sport-weighted minutes",
    "trimp": "heart-rate load",
    "suffer_score": "Strava relative effort",
}


def write_history_chart(
    path: Path, rows: Sequence[HistoryRow], history: History, athlete: str
) -> int:
    """`restday history --plot`: check the path, draw, say where; returns the exit code."""
    try:
        import matplotlib.figure  # noqa: F401 -- only to learn whether it is installed
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_FAILURE
    problem = _unwritable(path)
    if problem is None and not rows:
        problem = "no days to draw"
    if problem is not None:
        print(f"restday: cannot write the chart: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    days, recs = [r.day for r in rows], [r.rec for r in rows]
    try:
        render_history(path, days, recs, history, chart_title(athlete, days, recs[-1]))
    except OSError as exc:
        print(f"restday: cannot write the chart to {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]} – {days[-1]} ({len(days)} days)"
    print(f"Wrote the chart of {span} to {path}.")
    return EXIT_OK


def _unwritable(path: Path) -> str | None:
    if path.is_dir():
        return f"{path} is a folder: give a file name such as {path / 'history.png'}"
    if path.suffix.lower() != ".png":
        return f"it is a PNG image, so give a file name ending in .png (not {str(path)!r})"
    if not path.parent.is_dir():
        return f"the folder {path.parent} does not exist: create it or choose another path"
    return None


def chart_title(athlete: str, days: Sequence[date], today: Recommendation) -> str:
    """Two lines: who and when; today's status and readiness."""
    first, last = days[0], days[-1]
    start = f"{first.day} {first:%b}" + ("" if first.year == last.year else f" {first:%Y}")
    when = f"{last.day} {last:%b %Y}" if first == last else f"{start} – {last.day} {last:%b %Y}"
    return (
        f"{athlete} — {when}\nToday: {STATUS_LINE[today.status]} · readiness {today.readiness}/100"
    )


def render_history(
    path: Path,
    days: Sequence[date],
    recs: Sequence[Recommendation],
    history: History,
    title: str,
) -> None:
    """Draw one recommendation a day (`days[i]` ↔ `recs[i]`, consecutive, oldest first) into
    the PNG file `path` (`history_figure`)."""
    fig = history_figure(days, recs, history, title)
    metadata = {"Title": title.replace("\n", " · ")}  # what image viewers show as its name
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", metadata=metadata)


def history_figure(
    days: Sequence[date],
    recs: Sequence[Recommendation],
    history: History,
    title: str,
) -> Figure:
    """The chart of one recommendation a day (`days[i]` ↔ `recs[i]`, consecutive, oldest first).

    The x axis counts local calendar days from the first: day i spans [i, i + 1), so what the
    axis shows is the athlete's date whatever the zone of the computer that draws it.
    """
    if not days or len(days) != len(recs):
        raise ValueError("render_history needs one recommendation for each of 1 or more days")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tz = recs[-1].evaluated_at.tzinfo or UTC
    fig = Figure(figsize=FIGURE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained", h_pad=0.08, hspace=0.03)
    axes: Sequence[Axes] = fig.subplots(
        len(PANEL_HEIGHTS), 1, sharex=True, height_ratios=PANEL_HEIGHTS
    )
    load_ax, acwr_ax, km_ax, pain_ax, sleep_ax, weight_ax = axes
    centers = [i + 0.5 for i in range(len(days))]
    _load(load_ax, centers, recs)
    _legend(load_ax, frozenset(r.status for r in recs if r.rest_day_recommended))
    _acwr(acwr_ax, centers, recs)
    _weekly_km(km_ax, days, recs)
    _pain(pain_ax, days, recs, history, tz)
    _sleep(sleep_ax, centers, recs)
    _weight(weight_ax, days, history, tz)
    for ax in axes:
        _shade_rest(ax, recs)
        _style(ax)
    _date_axis(weight_ax, days, tz)
    fig.suptitle(title, fontsize=FONT_PT + 5, fontweight="bold", color=INK)
    return fig


def _load(ax: Axes, x: list[float], recs: Sequence[Recommendation]) -> None:
    m = [r.metrics for r in recs]
    unit = LOAD_UNITS.get(recs[-1].metrics.load_source, recs[-1].metrics.load_source)
    ax.set_ylabel(f"training load\n({unit})")
    if not any(v.today_load or v.acute_load for v in m):
        _empty(ax, "no activities in these days")
        return
    ax.bar(x, [v.today_load for v in m], BAR_DAYS, color=BAR_GREY, label="daily load")
    ax.plot(x, [_nan(v.acute_load) for v in m], color=ORANGE, lw=2.6, label="7-day average")
    ax.plot(x, [_nan(v.chronic_load) for v in m], color=BLUE, lw=2.6, label="28-day average")
    ax.set_ylim(bottom=0)


def _acwr(ax: Axes, x: list[float], recs: Sequence[Recommendation]) -> None:
    values = [_nan(r.metrics.acwr) for r in recs]
    known = [v for v in values if not math.isnan(v)]
    ax.set_ylabel("load ratio\n(7-day ÷ 28-day)")
    if not known:
        _empty(ax, "no load ratio yet: it needs a few weeks of activities")
        return
    ax.axhspan(*ACWR_BAND, color=GREEN, alpha=0.18, lw=0, label="sweet spot 0.8–1.3")
    ax.axhline(ACWR_CAUTION, color=ORANGE, lw=1.6, ls="--", label=f"caution > {ACWR_CAUTION}")
    ax.axhline(ACWR_EASY, color=VERMILLION, lw=1.8, ls="--", label=f"easy day > {ACWR_EASY}")
    dots = len(x) <= MARKERS_UP_TO_DAYS
    ax.plot(x, values, color=INK, lw=2.2, marker="o" if dots else "", ms=3.5, label="load ratio")
    if not math.isnan(today := values[-1]):  # where the eye looks first; kept off the line
        rising = len(values) < 2 or not values[-2] > today
        ax.annotate(
            f"{today:.2f}",
            (x[-1], today),
            xytext=(-8, 8 if rising else -8),
            textcoords="offset points",
            ha="right",
            va="bottom" if rising else "top",
            fontweight="bold",
            fontsize=FONT_PT,
            color=INK,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"},
        )
    ax.set_ylim(0, max([ACWR_MIN_TOP, *(v * ACWR_HEADROOM for v in known)]))
    _legend(ax)


def _weekly_km(ax: Axes, days: Sequence[date], recs: Sequence[Recommendation]) -> None:
    weeks: dict[int, tuple[int, float]] = {}  # first day of a week in the window: days, km
    first_of = 0
    for i, (day, rec) in enumerate(zip(days, recs, strict=True)):
        if day.weekday() == 0:
            first_of = i
        n, total = weeks.get(first_of, (0, 0.0))
        weeks[first_of] = (n + 1, total + rec.metrics.today_run_km)
    for start, (n, total) in weeks.items():
        if not total:
            continue
        width = n - WEEK_GAP_DAYS
        ax.bar(start + WEEK_GAP_DAYS / 2, total, width, align="edge", color=BLUE, alpha=0.85)
        label = _week_label(total, n, PLOT_WIDTH_PX * width / len(days))
        ax.annotate(
            label,
            (start + n / 2, total),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT_PT - 1,
            color=INK,
        )
    top = max(total for _, total in weeks.values())
    ax.set_ylabel("running\n(km a week, Mon–Sun)")
    if not top:
        _empty(ax, "no runs in these days")
        return
    ax.set_ylim(0, top * WEEK_HEADROOM)


def _week_label(total: float, days: int, width_px: float) -> str:
    """`83 km (5 d)`, `83 km`, `83` or nothing: as much as fits over the bar."""
    for label in (f"{total:.0f} km\n({days} d)" if days < 7 else "", f"{total:.0f} km"):
        if label and width_px >= LABEL_PX_PER_CHAR * (len(label.split("\n")[0]) + 1):
            return label
    number = f"{total:.0f}"
    return number if width_px >= LABEL_PX_PER_CHAR * len(number) else ""


def _pain(
    ax: Axes,
    days: Sequence[date],
    recs: Sequence[Recommendation],
    history: History,
    tz: tzinfo,
) -> None:
    """The pain reports as made, on the 0–10 scale; the days restday said to see a doctor
    shaded in vermillion."""
    doctor = [i for i, rec in enumerate(recs) if rec.status is Status.SEE_DOCTOR]
    for n, i in enumerate(doctor):
        label = "see a doctor" if n == 0 else "_nolegend_"  # one legend entry for them all
        ax.axvspan(i, i + 1, color=SEE_DOCTOR_SHADE, lw=0, zorder=0.5, label=label)
    points = _in_window(((p.time, float(p.level)) for p in history.pains), days, tz)
    ax.set_ylabel("pain\n(0–10)")
    ax.set_ylim(0, PAIN_TOP + PAIN_HEADROOM)
    ax.set_yticks(range(0, PAIN_TOP + 1, 2))
    if points:
        _as_measured(ax, points, INK, 6, "pain reports")
    else:
        _note(ax, "no pain reported in these days")  # the 0–10 scale stays
    _legend(ax)


def _in_window(
    readings: Iterable[tuple[datetime, float]], days: Sequence[date], tz: tzinfo
) -> list[tuple[float, float]]:
    """Readings at their place on the x axis (local days from the first), those in the window."""
    origin = datetime.combine(days[0], time(0))  # naive local: midnights are whole days
    points = [((t.astimezone(tz).replace(tzinfo=None) - origin) / ONE_DAY, v) for t, v in readings]
    return [(x, v) for x, v in points if 0 <= x < len(days)]


def _sleep(ax: Axes, x: list[float], recs: Sequence[Recommendation]) -> None:
    hours = [r.metrics.last_sleep_h for r in recs]
    nights = [(t, h) for t, h in zip(x, hours, strict=True) if h is not None]
    ax.set_ylabel("sleep\n(hours a night)")
    if not nights:
        _empty(ax, "no sleep data")
        return
    ax.axhline(SHORT_NIGHT_H, color=INK, lw=1.5, ls="--", label=f"{SHORT_NIGHT_H:.0f} h")
    short = [(t, h) for t, h in nights if h < SHORT_NIGHT_H]
    enough = [(t, h) for t, h in nights if h >= SHORT_NIGHT_H]
    bands = (
        (enough, SKY, "", f"≥ {SHORT_NIGHT_H:.0f} h"),
        (short, VERMILLION, "///", f"< {SHORT_NIGHT_H:.0f} h"),
    )
    for group, colour, hatch, label in bands:
        if group:
            ax.bar(
                [t for t, _ in group],
                [h for _, h in group],
                BAR_DAYS,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                lw=0,
                label=label,
            )
    ax.set_ylim(0, max(10.0, max(h for _, h in nights) + 1))
    _legend(ax)


def _weight(ax: Axes, days: Sequence[date], history: History, tz: tzinfo) -> None:
    points = _in_window(((b.time, float(b.weight_kg)) for b in history.body), days, tz)
    ax.set_ylabel("weight\n(kg)")
    if not points:
        _empty(ax, "no weigh-ins in these days")
        return
    _as_measured(ax, points, PURPLE, 5, "weigh-ins")
    low, high = min(kg for _, kg in points), max(kg for _, kg in points)
    pad = max(0.5, (high - low) * 0.25)
    ax.set_ylim(low - pad, high + pad)
    _legend(ax)


def _shade_rest(ax: Axes, recs: Sequence[Recommendation]) -> None:
    """One band per run of consecutive days with the same rest status."""
    i = 0
    while i < len(recs):
        status, j = recs[i].status, i + 1
        while j < len(recs) and recs[j].status is status:
            j += 1
        if status.rest_day_recommended:
            hatch = "xx" if status is Status.SEE_DOCTOR else None
            ax.axvspan(i, j, color=REST_SHADE, lw=0, zorder=0, hatch=hatch)
        i = j


def _date_axis(ax: Axes, days: Sequence[date], tz: tzinfo) -> None:
    """Ticks under each day (up to 3 weeks), on Mondays (up to 5 months) or on months."""
    span = len(days)
    if span <= DAILY_TICKS_UP_TO_DAYS:  # a label under each day's bar, a line between days
        ax.set_xticks([i + 0.5 for i in range(span)], [f"{d:%a}\n{d:%d %b}" for d in days])
        ax.set_xticks(range(span + 1), minor=True)
        for each in ax.figure.axes:
            each.grid(axis="x", which="major", visible=False)
            each.grid(axis="x", which="minor", color=GRID, lw=0.8)
    elif span <= WEEKLY_TICKS_UP_TO_DAYS:
        mondays = [(i, d) for i, d in enumerate(days) if d.weekday() == 0]
        ax.set_xticks([i for i, _ in mondays], [f"Mon\n{d:%d %b}" for _, d in mondays])
        ax.set_xticks(range(span + 1), minor=True)
    else:
        firsts = [(i, d) for i, d in enumerate(days) if d.day == 1]
        step = next(n for n in MONTH_STEPS if len(firsts) / n <= MAX_MONTH_TICKS)
        ticks = [(i, d) for i, d in firsts if (d.year * 12 + d.month - 1) % step == 0]
        labels = [
            f"{d:%b}" + (f"\n{d:%Y}" if d.month == 1 or n == 0 else "")
            for n, (_, d) in enumerate(ticks)
        ]
        ax.set_xticks([i for i, _ in ticks], labels)
    ax.set_xlim(0, span)
    ax.set_xlabel(f"date ({tz})", fontsize=FONT_PT)


def _style(ax: Axes) -> None:
    ax.grid(axis="x", color=GRID, lw=0.8)
    ax.grid(axis="y", color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=FONT_PT - 1)
    ax.yaxis.label.set_fontsize(FONT_PT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend(ax: Axes, shaded: frozenset[Status] = frozenset()) -> None:
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    if Status.REST in shaded:
        handles.append(Patch(color=REST_SHADE))
        labels.append("rest recommended")
    if Status.SEE_DOCTOR in shaded:
        handles.append(Patch(facecolor=REST_SHADE, hatch="xx", lw=0))
        labels.append("see a doctor (rest)")
    if not handles:
        return
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        frameon=False,
        fontsize=FONT_PT - 1,
        borderaxespad=0,
    )


def _as_measured(
    ax: Axes, points: Sequence[tuple[float, float]], color: str, ms: float, label: str
) -> None:
    """Readings where and as they were made (weigh-ins, pain reports): a thin line, a dot each."""
    ax.plot(
        [t for t, _ in points],
        [value for _, value in points],
        color=color,
        lw=1.6,
        marker="o",
        ms=ms,
        label=label,
    )


def _empty(ax: Axes, message: str) -> None:
    ax.set_yticks([])
    _note(ax, message)


def _note(ax: Axes, message: str) -> None:
    """`message` in the middle of a panel that has nothing to draw."""
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=FONT_PT + 1,
        color=MUTED,
        style="italic",
    )


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value
