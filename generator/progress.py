"""Progress of a long build: a bar with pages per second on a terminal, plain lines elsewhere.

The build only calls `start`, `advance` and `finish`; which reporter it gets is the command
line's choice, and tests pass one that records the calls.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from tqdm import tqdm

LOG_EVERY_SECONDS = 10.0
SHOW_BAR_FROM = 500


class Progress(Protocol):
    def start(self, stage: str, total: int) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    """Says nothing (small builds, tests)."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def finish(self) -> None:
        pass


class BarProgress:
    """A tqdm bar with pages per second, for a terminal; hidden for small builds."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.bar: tqdm | None = None

    def start(self, stage: str, total: int) -> None:
        self.bar = tqdm(
            total=total,
            desc=stage,
            unit="page",
            file=self.stream,
            disable=total < SHOW_BAR_FROM,
            leave=False,
            dynamic_ncols=True,
        )

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LogProgress:
    """One plain line every few seconds (CI logs, files): stage, count, pages per second."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = LOG_EVERY_SECONDS) -> None:
        self.stream = stream
        self.every = every
        self.stage, self.total, self.done = "", 0, 0
        self.started = self.last = 0.0

    def start(self, stage: str, total: int) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self.started = self.last = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line(now)

    def finish(self) -> None:
        if self.total >= SHOW_BAR_FROM:
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        print(
            f"{self.stage}: {self.done}/{self.total} pages ({rate:.0f} pages/s)",
            file=self.stream,
            flush=True,
        )


def for_stream(stream: TextIO = sys.stderr) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LogProgress(stream)
