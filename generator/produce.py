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

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .audit import PageFingerprint, fingerprint, main_text_of
from .check import PageFacts, PageUnreadable, SiteLinks, check_page, facts_of, parse_page
from .forking import can_fork, die_with_parent
from .pages import Page, SiteContext
from .problems import Finding
from .publish import StagedFile, stage_file
from .render import Renderer

PARALLEL_FROM_PAGES = 400
CHUNK_PAGES = 128  # pages a worker takes at a time: fewer hand-overs, and each step stays warm


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
        self.links = SiteLinks(context.site_root, context.files)

    def produce_range(self, start: int, stop: int) -> list[Produced]:
        """Pages start..stop-1, one step at a time over all of them: make, render, stage, read
        (parse, facts, main text), check, fingerprint. Each step keeps its own code and data
        in the CPU caches for the whole chunk; page by page, the steps evicted each other's,
        which cost about 40 % more CPU per page."""
        pages = [self.pages[i] for i in range(start, stop)]
        rendered = [self.renderer.render(page) for page in pages]
        staged = [self._stage(page, data) for page, data in zip(pages, rendered, strict=True)]
        readings = [self._read(page, data) for page, data in zip(pages, rendered, strict=True)]
        findings = [self._check(reading) for reading in readings]
        signed = self.context.audit_signatures
        prints = [
            None if reading.main_text is None else fingerprint(reading.main_text, signed)
            for reading in readings
        ]
        return [
            _produced(page, *parts)
            for page, *parts in zip(pages, staged, readings, findings, prints, strict=True)
        ]

    def _stage(self, page: Page, data: bytes) -> StagedFile:
        context = self.context
        previous = context.previous_digests.get(page.path)
        return stage_file(context.staging, context.current, page.path, data, previous)

    def _read(self, page: Page, data: bytes) -> _Reading:
        """The page's facts and, if the audit needs it, its main text."""
        audited = self.context.audit and page.kind == "town"
        try:
            tree = parse_page(data)
        except PageUnreadable as error:
            finding = Finding("page.parse", page.path, str(error))
            return _Reading(None, finding, "" if audited else None)
        facts = facts_of(page.path, tree, data)
        return _Reading(facts, None, main_text_of(tree) if audited else None)

    def _check(self, reading: _Reading) -> tuple[Finding, ...]:
        facts = reading.facts
        if facts is None:
            return (reading.unreadable,) if reading.unreadable else ()
        context = self.context
        sitemap_url = context.sitemap_urls.get(facts.path)
        return tuple(check_page(facts, self.links, sitemap_url))


@dataclass(frozen=True)
class _Reading:
    """One page read back after rendering: its facts, or why it could not be read."""

    facts: PageFacts | None
    unreadable: Finding | None
    main_text: str | None  # for the audit: town pages only, "" when unreadable


def _produced(
    page: Page,
    staged: StagedFile,
    reading: _Reading,
    findings: tuple[Finding, ...],
    page_print: PageFingerprint | None,
) -> Produced:
    facts = reading.facts
    if facts is None:  # the build fails on the parse finding anyway
        return Produced(staged, "", "", "", page.indexable, findings, page_print)
    return Produced(
        staged,
        facts.title,
        facts.description,
        facts.canonical,
        facts.indexable,
        findings,
        page_print,
    )


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
    if workers == 1 or len(pages) < PARALLEL_FROM_PAGES or not can_fork():
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
    die_with_parent(parent)
    # What the worker inherited (the plan) lives as long as it does: frozen, the collector never
    # walks it, so its memory pages are not copied into every worker by collections. New
    # garbage (rendering makes some cycles) is collected as usual.
    gc.freeze()
    gc.enable()


def _report(chunks, progress: Callable[[int], None] | None) -> Iterator[Produced]:
    for chunk in chunks:
        yield from chunk
        if progress:
            progress(len(chunk))
