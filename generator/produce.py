"""Producing pages: make each page, render it, put it in the staged tree, parse it once, check
it, and take the audit's fingerprint of a town page's main text.

This is the build's hot loop, so it runs on every core: the plan is handed to forked worker
processes (nothing is pickled but page indices and small results); each worker makes (town
pages are planned lazily), renders, writes and checks a slice of the pages. Nothing but a
page's digest, its few site-wide fields (title, description, canonical), its findings and its
audit fingerprint come back, so memory stays flat as the site grows. With one worker, or few
pages, it all runs in this process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .audit import PageFingerprint, fingerprint, main_text_of
from .check import PageUnreadable, check_page, facts_of, parse_page
from .pages import Page, SiteContext
from .problems import Finding
from .publish import StagedFile, stage_file
from .render import Renderer

PARALLEL_FROM_PAGES = 400
CHUNK_PAGES = 64
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProduceContext:
    """Everything a worker needs besides the pages; shared by fork, never pickled."""

    site: SiteContext
    templates: Path
    staging: Path
    current: Path
    previous_digests: dict[str, str]
    site_root: str
    files: frozenset[str]  # every path this build writes: the targets links may have
    sitemap_urls: dict[str, str]  # output path -> sitemap URL, for indexable pages
    audit: bool  # whether town pages get an audit fingerprint
    audit_signatures: bool  # whether town fingerprints carry a MinHash signature


@dataclass(frozen=True)
class Produced:
    """What the rest of the build needs to know about one produced page."""

    staged: StagedFile
    title: str
    description: str
    canonical: str
    indexable: bool
    findings: tuple[Finding, ...]
    fingerprint: PageFingerprint | None  # town pages' main text, for the audit

    @property
    def path(self) -> str:
        return self.staged.path


class _Worker:
    """Renders, stages and checks pages of one plan; one per process."""

    def __init__(self, pages: Sequence[Page], context: ProduceContext) -> None:
        self.pages = pages
        self.context = context
        self.renderer = Renderer(context.templates, context.site)

    def produce_range(self, start: int, stop: int) -> list[Produced]:
        """Pages start..stop-1. Their audit fingerprints are made together at the end: made
        between one page's parse and the next page's rendering, numpy's work evicted the
        caches both rely on (about 0.2 ms more per town page)."""
        made = [self._produce(self.pages[i]) for i in range(start, stop)]
        texts = [text for _, text in made if text is not None]
        signed = self.context.audit_signatures
        prints = iter([fingerprint(text, signed) for text in texts])
        return [
            produced if text is None else replace(produced, fingerprint=next(prints))
            for produced, text in made
        ]

    def _produce(self, page: Page) -> tuple[Produced, str | None]:
        """The page produced, and its main text if the audit needs it."""
        context = self.context
        data = self.renderer.render(page)
        staged = stage_file(
            context.staging,
            context.current,
            page.path,
            data,
            context.previous_digests.get(page.path),
        )
        audited = context.audit and page.kind == "town"
        try:
            tree = parse_page(data)
        except PageUnreadable as error:
            finding = Finding("page.parse", page.path, str(error))
            unread = Produced(staged, "", "", "", page.indexable, (finding,), None)
            return unread, "" if audited else None  # the build fails on the finding anyway
        facts = facts_of(page.path, tree, data)
        findings = check_page(
            facts, context.site_root, context.files, context.sitemap_urls.get(page.path)
        )
        produced = Produced(
            staged,
            facts.title,
            facts.description,
            facts.canonical,
            facts.indexable,
            tuple(findings),
            None,
        )
        return produced, main_text_of(tree) if audited else None


_worker: _Worker | None = None  # set in each forked worker process before it runs a task


def _produce_range(start: int, stop: int) -> list[Produced]:
    assert _worker is not None
    return _worker.produce_range(start, stop)


def produce_pages(
    pages: Sequence[Page],
    context: ProduceContext,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Produced]:
    """Produce every page, in the order given; `progress` is told how many pages are done."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(pages) < PARALLEL_FROM_PAGES or not _can_fork():
        worker = _Worker(pages, context)
        chunks = (worker.produce_range(start, stop) for start, stop in _chunks(len(pages)))
        return list(_report(chunks, progress))
    return list(_report(_in_processes(pages, context, workers), progress))


def _in_processes(
    pages: Sequence[Page], context: ProduceContext, workers: int
) -> Iterator[list[Produced]]:
    global _worker
    _worker = _Worker(pages, context)  # inherited by the forked workers
    try:
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        ) as pool:
            futures = [
                pool.submit(_produce_range, start, stop) for start, stop in _chunks(len(pages))
            ]
            for future in futures:
                yield future.result()
    finally:
        _worker = None


def _chunks(count: int) -> list[tuple[int, int]]:
    return [(start, min(start + CHUNK_PAGES, count)) for start in range(0, count, CHUNK_PAGES)]


def _start_worker(parent: int) -> None:
    _die_with_parent(parent)
    # What the worker inherited (the plan) lives as long as it does: frozen, the collector never
    # walks it, so its memory pages are not copied into every worker by collections. New
    # garbage (rendering makes some cycles) is collected as usual.
    gc.freeze()
    gc.enable()


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a killed build: it holds the output's lock too (Linux)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the line above ran
        os._exit(1)


def _report(chunks, progress: Callable[[int], None] | None) -> Iterator[Produced]:
    for chunk in chunks:
        yield from chunk
        if progress:
            progress(len(chunk))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
