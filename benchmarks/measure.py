"""Measuring one command: wall time, peak memory, and which files of a folder it wrote.

Peak memory is taken two ways, both reported:

- `max_rss_mb`: the kernel's high-water mark of the largest single process of the command's
  tree (ru_maxrss from wait4() on the child, which also covers the grandchildren it waited for).
  Exact, but a build that forks workers uses more than its largest process.
- `tree_pss_mb`: the largest sum of PSS (proportional set size: a page shared by n processes
  counts 1/n in each) over the whole process tree, sampled every 0.25 s from
  /proc/PID/smaps_rollup. The fair total for a parent with forked workers; may miss a spike
  shorter than the interval.
- `tree_mb`: the largest sum of VmRSS over the tree, sampled every 20 ms. Counts pages shared
  by forked workers once per process, so it overstates a process pool's memory.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.02
PSS_EVERY = 12  # samples: PSS (about 4 ms per GB to read) every 0.24 s

FileState = tuple[int, int, int]  # (mtime_ns, size, inode)


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost."""

    seconds: float
    max_rss_mb: float
    tree_mb: float
    exit_code: int
    tree_pss_mb: float = 0.0


def run_measured(
    command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> Measurement:
    """Run `command` to completion, stdout and stderr into `log`, and measure it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=env
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    return Measurement(
        seconds=seconds,
        max_rss_mb=usage.ru_maxrss / 1024,
        tree_mb=sampler.peak_kb / 1024,
        exit_code=process.returncode,
        tree_pss_mb=sampler.peak_pss_kb / 1024,
    )


class _TreeSampler(threading.Thread):
    """Samples the summed RSS (and now and then PSS) of a process tree until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._stop_event.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            if samples % PSS_EVERY == 0:
                self.peak_pss_kb = max(self.peak_pss_kb, tree_rss_kb(self.pid, "Pss:"))
            samples += 1
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def tree_rss_kb(pid: int, field: str = "VmRSS:") -> int:
    """Summed VmRSS (or, with field 'Pss:', PSS) in kB of `pid` and its descendants; processes
    already gone count 0."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        total += _memory_kb(current, field)
        pending.extend(_children(current))
    return total


def _memory_kb(pid: int, field: str) -> int:
    name = "status" if field == "VmRSS:" else "smaps_rollup"
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            with open(f"{task.path}/children", encoding="ascii") as handle:
                children.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    return children


def snapshot(folder: Path) -> dict[str, FileState]:
    """Every file under `folder` with its mtime, size and inode."""
    state = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            info = os.stat(path)
            state[os.path.relpath(path, folder)] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return state


def written_files(before: dict[str, FileState], after: dict[str, FileState]) -> int:
    """Files created, rewritten (new mtime or inode) or removed between two snapshots."""
    changed = sum(1 for path, state in after.items() if before.get(path) != state)
    return changed + sum(1 for path in before if path not in after)


@dataclass(frozen=True)
class OutputSize:
    """The HTML pages of a built site and their bytes."""

    pages: int
    html_bytes: int
    files: int
    paths: frozenset[str]

    @property
    def bytes_per_page(self) -> float:
        return self.html_bytes / self.pages if self.pages else 0.0


def output_size(folder: Path) -> OutputSize:
    """Count the .html files (pages) of a built site and their total size."""
    state = snapshot(folder)
    pages = [path for path in state if path.endswith(".html")]
    return OutputSize(
        pages=len(pages),
        html_bytes=sum(state[path][1] for path in pages),
        files=len(state),
        paths=frozenset(pages),
    )
