"""A build killed with SIGKILL at any point leaves the live site whole, and the next build works.

A 600-row table of real ZIP codes makes a build last a few seconds. It is killed at fixed
points (at once, while staging, right after the swap) and at seeded random moments. After each
kill the output is either the previous site, untouched down to inodes and mtimes, or the
complete new site; never a mix. The next build succeeds and leaves nothing behind. A reader
polling files during a build only ever sees whole files of one build or the other.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import zipcodes

from .conftest import FIXED_EPOCH, ROOT
from .test_publish import BESIDE_OUTPUT, beside, build_site, contents, snapshot, write_table

ROWS = 600
SEED = 20261118


def seeded_delays(count: int = 3) -> list[float]:
    """Moments to kill at, in seconds after the start: random, but the same on every run."""
    rng = random.Random(SEED)
    return sorted(round(rng.uniform(0.3, 2.2), 2) for _ in range(count))


def big_table(path: Path) -> Path:
    """ROWS real ZIP codes of VA, MD and PA with their database town and county."""
    rows = [
        [z["zip_code"], z["city"], z["county"], z["state"], "town"]
        for state in ("VA", "MD", "PA")
        for z in sorted(zipcodes.filter_by(state=state), key=lambda z: z["zip_code"])
        if z["zip_code_type"] == "STANDARD" and z["active"]
    ][:ROWS]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zip", "town", "county", "state", "type"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The previous site (small table) and the expected new one (big table over it)."""
    folder = tmp_path_factory.mktemp("killed")
    big = big_table(folder / "big.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
        small = write_table(folder / "small.csv")
        build_site(folder / "previous" / "output", small)
        # The expected new site is built over the previous one, as the killed build would be:
        # towns of the small table that the big one lacks get redirects.
        build_site(folder / "expected" / "output", small)
        build_site(folder / "expected" / "output", big)
    return {
        "big": big,
        "previous": folder / "previous",
        "expected": contents(folder / "expected" / "output"),
        "old": contents(folder / "previous" / "output"),
    }


def command(table: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "generator",
        "build",
        "--locations",
        str(table),
        "--out",
        str(out),
    ]


def start_build(table: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command(table, out),
        cwd=ROOT,
        env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_build(table: Path, out: Path) -> subprocess.CompletedProcess:
    """The same build as `start_build`, run to its end, its output captured."""
    return subprocess.run(
        command(table, out),
        cwd=ROOT,
        env={**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH},
        capture_output=True,
        text=True,
    )


def wait_until(condition: Callable[[], bool], process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, "the build ended before the moment to kill it"
        assert time.monotonic() < deadline
        time.sleep(0.0005)


def at_once(process: subprocess.Popen, out: Path) -> None:
    pass


def while_staging(process: subprocess.Popen, out: Path) -> None:
    staging = out.parent / f".output.staging-{process.pid}"
    wait_until(staging.exists, process)


def right_after_swap(process: subprocess.Popen, out: Path) -> None:
    inode = out.stat().st_ino
    wait_until(lambda: out.stat().st_ino != inode, process)


def after(seconds: float) -> Callable[[subprocess.Popen, Path], None]:
    def wait(process: subprocess.Popen, out: Path) -> None:
        time.sleep(seconds)

    return wait


MOMENTS = [
    ("at-once", at_once, "old"),
    ("while-staging", while_staging, "old"),
    ("right-after-swap", right_after_swap, "new"),
    *[(f"after-{delay}s", after(delay), None) for delay in seeded_delays()],
]


@pytest.mark.parametrize(
    ("moment", "expected"), [(m[1], m[2]) for m in MOMENTS], ids=[m[0] for m in MOMENTS]
)
def test_killed_build_leaves_a_whole_site_and_the_next_build_works(
    sites: dict, tmp_path: Path, moment: Callable, expected: str | None
) -> None:
    shutil.copytree(sites["previous"], tmp_path / "site")
    out = tmp_path / "site" / "output"
    before = snapshot(out)

    process = start_build(sites["big"], out)
    moment(process, out)
    process.send_signal(signal.SIGKILL)
    process.wait()

    outcome = "old" if snapshot(out) == before else "new"
    if outcome == "new":
        assert contents(out) == sites["expected"], "a mix of two builds"
    assert expected in (None, outcome)
    done = run_build(sites["big"], out)
    assert done.returncode == 0, done.stderr
    assert contents(out) == sites["expected"]
    assert beside(out) == BESIDE_OUTPUT


def test_a_reader_sees_whole_files_of_one_build_or_the_other(sites: dict, tmp_path: Path) -> None:
    shutil.copytree(sites["previous"], tmp_path / "site")
    out = tmp_path / "site" / "output"
    watched = [
        "index.html",
        "sitemap.xml",
        "ketamine-infusion/va/fairfax/index.html",
        "ketamine-infusion/ma/allston/index.html",  # only in the previous site
    ]
    seen: dict[str, set[bytes | None]] = {name: set() for name in watched}
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for name in watched:
                try:
                    seen[name].add((out / name).read_bytes())
                except FileNotFoundError:
                    seen[name].add(None)
            time.sleep(0.002)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert start_build(sites["big"], out).wait() == 0
    finally:
        stop.set()
        reader.join()
    for name in watched:
        allowed = {sites["old"].get(name), sites["expected"].get(name)}
        assert seen[name] <= allowed, name
        assert sites["old"].get(name) in seen[name]


def holds_lock(pid: int, lock: Path) -> bool:
    """Whether process `pid` holds a flock on `lock` (Linux: /proc/locks)."""
    inode = lock.stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and str(pid) in fields and fields[-3].endswith(f":{inode}"):
            return True
    return False


def test_a_second_build_fails_fast_while_one_runs(sites: dict, tmp_path: Path) -> None:
    shutil.copytree(sites["previous"], tmp_path / "site")
    out = tmp_path / "site" / "output"
    lock = out.parent / ".output.lock"
    first = start_build(sites["big"], out)
    wait_until(lambda: holds_lock(first.pid, lock), first)

    started = time.monotonic()
    second = run_build(sites["big"], out)
    seconds = time.monotonic() - started

    assert first.poll() is None, "the first build ended before the second one tried"
    assert second.returncode == 2
    assert second.stderr == (
        f"error: another build is writing {out} right now (lock: {lock}); wait for it to finish\n"
    )
    assert seconds < 5
    assert first.wait() == 0
    assert contents(out) == sites["expected"]
