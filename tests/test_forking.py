"""Running work aside in a forked process: its value, its exception, its death."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from generator.forking import Aside


def test_aside_returns_the_value_worked_out_in_another_process() -> None:
    parent = os.getpid()
    aside = Aside(lambda: (os.getpid(), [n * n for n in range(5)]))
    child, squares = aside.result()
    assert child != parent and squares == [0, 1, 4, 9, 16]
    assert aside.result() == (child, squares)  # asked again: the same answer, no new wait


def test_aside_raises_the_exception_of_the_work() -> None:
    def fails() -> None:
        raise ValueError("no such town")

    with pytest.raises(ValueError, match="no such town"):
        Aside(fails).result()


def test_aside_says_so_when_its_process_dies() -> None:
    aside = Aside(lambda: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(RuntimeError, match="died"):
        aside.result()


def test_aside_without_fork_runs_the_work_at_once_here() -> None:
    calls = []
    aside = Aside(lambda: calls.append(os.getpid()) or "done", fork=False)
    assert calls == [os.getpid()]
    assert aside.result() == "done"


def test_leaving_the_block_without_the_result_stops_the_child() -> None:
    before = set(multiprocessing.active_children())
    with pytest.raises(KeyError), Aside(lambda: time.sleep(60)):
        started = set(multiprocessing.active_children()) - before
        raise KeyError("the build failed meanwhile")
    assert len(started) == 1
    assert not started & set(multiprocessing.active_children())
