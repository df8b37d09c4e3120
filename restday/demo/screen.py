"""What the demo prints, line by line: the story's lines, each stamped with its local time.

A line of the story is `Sat 14 Nov 06:15  ← morning   restday: good to train`, its longer text
wrapped under it; a household's lines name the runner after the time
(`Sat 14 Nov 06:15  Ben  ← morning   …`). A blank line goes between the story's days. The short
story (`restday demo` without `--full`) `hold`s each input's line: it is printed only when
something restday said about that input is (`event`), before it; the next step `drop`s it. Its
captions wait likewise for the next event, whenever that is (a later caption replaces one).
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import threading
from datetime import date, datetime
from typing import TextIO

from restday.demo.sample import SAMPLE_TZ

WIDTH = 100  # characters per printed line
TAG_WIDTH = 11  # "← hydration"
WHO_WIDTH = 5  # "Anna ": a household's runner, before the tag
STAMP = "%a %d %b %H:%M"  # "Sat 14 Nov 06:15": the story's local time, first on every line
RULE = "=" * WIDTH  # above and below the final recommendation


class Screen:
    """Lines for a terminal, safe from any thread; a blank line between the story's days."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.closed = False  # the reader left (`restday demo | head`): nothing more to print
        self._lock = threading.Lock()
        self._day: date | None = None
        self._held: tuple[datetime, str, str, str] | None = None  # an input's line, unprinted
        self._caption: tuple[date, str] | None = None  # a caption waiting for an event

    def line(self, text: str = "") -> None:
        with self._lock:
            self._write(text)

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:
            self.closed = True
            with contextlib.suppress(OSError, ValueError):  # no error again at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())

    def hold(self, when: datetime, tag: str, text: str, *, who: str = "") -> None:
        """An input's line, printed (before it) with the next `event`, unless `drop`ped first."""
        with self._lock:
            self._held = (when, tag, text, who)

    def drop(self) -> None:
        """Forget the line held: nothing restday said about its input was printed."""
        with self._lock:
            self._held = None

    def caption(self, day: date, text: str, *, held: bool = False) -> None:
        """A line about the day ahead, before its first event; `held`: before the next event,
        whenever that is (not at all if another caption comes first)."""
        with self._lock:
            self._held = None
            if held:
                self._caption = (day, text)
            else:
                self._caption_line(day, text)

    def _caption_line(self, day: date, text: str) -> None:
        if self._day is not None:
            self._write("")
        self._day = day
        self._write(f"{day:%a %d %b} ── {text}")

    def event(self, when: datetime, tag: str, text: str, more: str = "", *, who: str = "") -> None:
        """One event: its time, `who` (a household's runner; "" for the single runner), its
        tag (`→ sleep`: restday was sent; `← status`: restday published), `text`, then `more`
        wrapped under it. A line held (`hold`) is printed first."""
        with self._lock:
            caption, self._caption = self._caption, None
            if caption is not None:
                self._caption_line(*caption)
            held, self._held = self._held, None
            if held is not None:
                self._event(held[0], held[1], held[2], "", held[3])
            self._event(when, tag, text, more, who)

    def _event(self, when: datetime, tag: str, text: str, more: str, who: str) -> None:
        local = when.astimezone(SAMPLE_TZ)
        if who:
            head = f"{local:{STAMP}}  {who:<{WHO_WIDTH}}{tag:<{TAG_WIDTH}} "
            indent = " " * (len(f"{local:{STAMP}}") + 2 + WHO_WIDTH + TAG_WIDTH + 1)
        else:
            head = f"{local:{STAMP}}  {tag:<{TAG_WIDTH}} "
            indent = " " * len(head)
        lines = textwrap.wrap(text, WIDTH, initial_indent=head, subsequent_indent=indent)
        lines += textwrap.wrap(more, WIDTH, initial_indent=indent, subsequent_indent=indent)
        if self._day is not None and local.date() != self._day:
            self._write("")
        self._day = local.date()
        self._write("\n".join(lines))
