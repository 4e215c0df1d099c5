"""Forked processes of a build: making a child die with the build, and running one function
aside (in a child) while the build goes on with other work.

Fork shares the build's state with the child for free (nothing is pickled but the result), so
it is used where the platform has it; elsewhere the work runs in the build's own process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

PR_SET_PDEATHSIG = 1
Result = TypeVar("Result")


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def die_with_parent(parent: int) -> None:
    """A child must not outlive a killed build: it may hold the output's lock too (Linux)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the line above ran
        os._exit(1)


class Aside(Generic[Result]):
    """`work()` running in a forked child from the moment this is made; `result()` waits for
    it and returns its value or raises its exception. Without fork (or with `fork=False`)
    the work runs at once, here. Used as a context manager, leaving the block without asking
    for the result (an error meanwhile) stops the child."""

    def __init__(self, work: Callable[[], Result], fork: bool = True) -> None:
        self._value: tuple[bool, object] | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        if not (fork and can_fork()):
            self._value = _outcome(work)
            return
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._child = context.Process(target=_send_outcome, args=(work, sender, os.getpid()))
        self._child.start()
        sender.close()

    def __enter__(self) -> Aside[Result]:
        return self

    def __exit__(self, *exception: object) -> None:
        if self._value is None and self._child is not None:
            self._child.kill()
            self._child.join()
            self._receiver.close()

    def result(self) -> Result:
        if self._value is None:
            self._value = self._receive()
        succeeded, value = self._value
        if not succeeded:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def _receive(self) -> tuple[bool, object]:
        assert self._child is not None
        try:
            return self._receiver.recv()
        except EOFError:
            return False, RuntimeError(
                f"a build process working aside died (exit code {self._child.exitcode})"
            )
        finally:
            self._receiver.close()
            self._child.join()


def _outcome(work: Callable[[], object]) -> tuple[bool, object]:
    try:
        return True, work()
    except Exception as error:  # handed to whoever asks for the result
        return False, error


def _send_outcome(work: Callable[[], object], sender: Connection, parent: int) -> None:
    die_with_parent(parent)
    sender.send(_outcome(work))
    sender.close()
