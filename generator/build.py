"""The build pipeline: load -> validate -> plan -> produce (render, stage, check) -> publish.

`build()` reads as the list of stages. Every input problem is gathered before anything is
rendered; every output problem is found before anything is published; the previous output is
replaced only by a complete, checked tree. Pages are produced on every core and streamed to
the staged tree, so memory does not grow with the size of the site.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .audit import PageFingerprint, uses_signatures
from .check import check_unique, has_errors
from .content import Copy, load_copy
from .forking import Aside
from .geo import Point, city_centroid
from .load import read_table
from .places import Places, group_places
from .plan import SitePlan, plan_site
from .problems import Finding, InputError, Problem, Severity
from .produce import ProduceContext, Produced, produce_pages
from .progress import NoProgress, Progress
from .publish import (
    BuildRecord,
    OutputFile,
    OutputLocation,
    PublishResult,
    Staging,
    check_output_folder,
    output_lock,
    output_matches_record,
    read_record,
    write_record,
)
from .quality import GateResult, audit_town_pages
from .redirects import TownTrace, plan_redirects
from .settings import Settings, load_settings
from .site_files import (
    ASSETS,
    FIXED_NAMES,
    build_time,
    lastmods,
    read_assets,
    redirect_files,
    robots_file,
    sitemap_files,
)
from .sitemap_check import check_sitemap_bytes
from .validate import ValidatedTable, validate_table

GATE_ASIDE_FROM_TOWNS = 2_000


@dataclass(frozen=True)
class BuildOptions:
    """Where the inputs are and where the site goes; relative paths are from `project`."""

    project: Path = Path(".")
    config: Path | None = None
    locations: Path = Path("data/locations.csv")
    content: Path = Path("content")
    templates: Path = Path("templates")
    out: Path = Path("output")
    strict: bool = False
    force: bool = False
    workers: int | None = None  # processes for producing pages; None: one per core

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.project / path

    @property
    def config_path(self) -> Path | None:
        if self.config is not None:
            return self.resolve(self.config)
        default = self.project / "site.toml"
        return default if default.exists() else None


@dataclass(frozen=True)
class PageEntry:
    path: str
    url: str
    kind: str
    title: str
    town: str
    state: str
    indexable: bool


@dataclass(frozen=True)
class BuildResult:
    pages: tuple[PageEntry, ...]
    warnings: tuple[str, ...]
    written: int
    unchanged: int
    removed: tuple[str, ...]
    kept_foreign: tuple[str, ...]
    seconds: float
    skipped: bool = False
    extra: dict = field(default_factory=dict)

    def counts_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(p.kind for p in self.pages).items()))


@dataclass(frozen=True)
class Inputs:
    settings: Settings
    table: ValidatedTable
    copy: Copy
    assets: list[OutputFile]


class BuildFailed(Exception):
    """Output checks failed; nothing was published."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} problem(s) in the built pages")
        self.findings = findings


def build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    with _collector_paused():
        return _build(options, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A build makes millions of long-lived objects and little cyclic garbage: automatic
    collections would walk all of them again and again (a third of the planning time of a
    large site). They are off while it runs; page workers turn them back on for their own
    garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(options: BuildOptions, progress: Progress | None) -> BuildResult:
    started = time.perf_counter()
    location = OutputLocation(options.resolve(options.out))
    check_output_folder(location.folder, _inputs(options))
    with output_lock(location):
        previous = read_record(location)
        fingerprint = input_fingerprint(options)
        if _nothing_changed(options, location, previous, fingerprint):
            return _unchanged_result(previous, time.perf_counter() - started)
        inputs = load_inputs(options)
        settings = inputs.settings
        places = group_places(inputs.table.locations, clinic_point(settings), inputs.table.file)
        with Staging(location, previous) as staging:
            plan, gate, site = produce_site(places, inputs, options, staging, progress)
            findings = [*gate.findings, *site.findings]
            if has_errors(findings, options.strict):
                raise BuildFailed(findings)
            published = staging.finish()
            record = _record(staging, fingerprint, plan, site.redirects, site.now)
            write_record(location, record)
    extra = {"uniqueness": gate.report.to_dict(), "redirects": site.redirects}
    warnings = _warnings(inputs, findings)
    return _result(plan, published, warnings, time.perf_counter() - started, extra)


def _nothing_changed(
    options: BuildOptions, location: OutputLocation, previous: BuildRecord, fingerprint: str
) -> bool:
    return (
        not options.force
        and previous.fingerprint == fingerprint
        and output_matches_record(location, previous)
    )


def load_inputs(options: BuildOptions) -> Inputs:
    """Read settings, table, copy and assets, reporting the problems of all at once."""
    problems: list[Problem] = []
    settings = _attempt(lambda: load_settings(options.config_path), problems)
    table = _attempt(
        lambda: validate_table(read_table(options.resolve(options.locations))), problems
    )
    copy = _attempt(lambda: load_copy(options.resolve(options.content)), problems)
    assets = _attempt(lambda: read_assets(options.resolve(options.templates)), problems)
    if any(p.severity is Severity.ERROR for p in problems):
        raise InputError(problems)
    return Inputs(settings, table, copy, assets)


def _attempt(step, problems: list[Problem]):
    try:
        return step()
    except InputError as error:
        problems.extend(error.problems)
        return None


def clinic_point(settings: Settings) -> Point:
    clinic = settings.clinic
    if clinic.latitude is not None and clinic.longitude is not None:
        return Point(clinic.latitude, clinic.longitude)
    point = city_centroid(clinic.city, clinic.state)
    if point is None:
        raise InputError(
            [
                Problem(
                    "settings",
                    f"the ZIP database has no city '{clinic.city}' in {clinic.state}; "
                    "set clinic.latitude and clinic.longitude",
                    column="clinic.city",
                )
            ]
        )
    return point


@dataclass(frozen=True)
class SiteFiles:
    """What was staged besides the pages, and what the checks found in all of it."""

    redirects: dict[str, str]  # old town href -> where it goes now
    now: str  # the build's one instant: the sitemap and the record agree on lastmods
    findings: list[Finding]  # of the pages and the sitemaps
    paths: frozenset[str]  # staged: assets, sitemaps, robots.txt, redirect files


def produce_site(
    places: Places,
    inputs: Inputs,
    options: BuildOptions,
    staging: Staging,
    progress: Progress | None,
) -> tuple[SitePlan, GateResult, SiteFiles]:
    """Plan, produce every page, run the uniqueness gate and stage the site files; when the
    gate demotes pages, plan and produce again with them demoted. On a large site the gate
    runs in a forked process while this one stages the site files (a core would idle
    otherwise); they are staged again in the rare case that the gate demotes pages."""
    settings = inputs.settings
    plan = plan_site(places, inputs.copy, settings)
    produced = _produce(plan, options, staging, progress, audit=True)
    prints = _town_prints(plan, produced)
    with Aside(
        lambda: audit_town_pages(prints, settings.quality, _zip_counts(plan)),
        fork=len(prints) >= GATE_ASIDE_FROM_TOWNS and options.workers != 1,
    ) as gate_aside:
        site = _stage_site_files(staging, plan, produced, inputs)
        gate = gate_aside.result()
    if gate.demoted:
        first_paths = {p.path for p in plan.outlines} | site.paths
        plan = plan_site(places, inputs.copy, settings, gate.demoted)
        staging.discard(first_paths - {p.path for p in plan.outlines})
        produced = _produce(plan, options, staging, progress, audit=False)
        site = _stage_site_files(staging, plan, produced, inputs)
    return plan, gate, site


def _stage_site_files(
    staging: Staging, plan: SitePlan, produced: list[Produced], inputs: Inputs
) -> SiteFiles:
    """Stage the assets, sitemap(s), robots.txt and redirect files; check pages and sitemaps."""
    settings = inputs.settings
    redirects = _redirects(plan, staging.previous)
    now = build_time()
    digests = {p.staged.path: p.staged.digest for p in produced}
    sitemaps = sitemap_files(plan.outlines, lastmods(digests, staging.previous, now), settings)
    files = [*inputs.assets, *sitemaps, robots_file(settings), *redirect_files(redirects)]
    for item in files:
        staging.add(item.path, item.data)
    findings = _page_findings(produced) + _sitemap_findings(sitemaps, settings)
    return SiteFiles(redirects, now, findings, frozenset(f.path for f in files))


def _produce(
    plan: SitePlan,
    options: BuildOptions,
    staging: Staging,
    progress: Progress | None,
    audit: bool,
) -> list[Produced]:
    settings = plan.site.settings
    context = ProduceContext(
        site=plan.site,
        templates=options.resolve(options.templates),
        staging=staging.folder,
        current=staging.location.folder,
        previous_digests=staging.previous_digests(),
        site_root=settings.site_root,
        files=frozenset([*(p.path for p in plan.outlines), *ASSETS, *FIXED_NAMES]),
        sitemap_urls={p.path: p.url for p in plan.outlines if p.indexable},
        audit=audit,
        audit_signatures=uses_signatures(sum(p.kind == "town" for p in plan.outlines)),
    )
    progress = progress or NoProgress()
    progress.start("producing pages", len(plan.pages))
    try:
        produced = produce_pages(plan.pages, context, options.workers, progress.advance)
    finally:
        progress.finish()
    for item in produced:
        staging.keep(item.staged)
    return produced


def _town_prints(
    plan: SitePlan, produced: list[Produced]
) -> list[tuple[str, str, PageFingerprint]]:
    return [
        (page.href, page.path, item.fingerprint)
        for page, item in zip(plan.outlines, produced, strict=True)
        if item.fingerprint is not None
    ]


def _zip_counts(plan: SitePlan) -> dict[str, int]:
    return {p.href: len(p.zips) for p in plan.outlines if p.kind == "town"}


def _page_findings(produced: list[Produced]) -> list[Finding]:
    return [f for item in produced for f in item.findings] + check_unique(produced)


def _sitemap_findings(sitemaps: list[OutputFile], settings: Settings) -> list[Finding]:
    return [f for s in sitemaps for f in check_sitemap_bytes(s.data, s.path, settings.site_root)]


def _redirects(plan: SitePlan, previous: BuildRecord) -> dict[str, str]:
    traces = {href: TownTrace(tuple(t["zips"]), t["hub"]) for href, t in previous.towns.items()}
    return plan_redirects(
        traces,
        previous.redirects,
        _town_traces(plan),
        {p.href for p in plan.outlines},
        plan.site.home.href,
    )


def _town_traces(plan: SitePlan) -> dict[str, TownTrace]:
    return {p.href: TownTrace(p.zips, p.hub) for p in plan.outlines if p.kind == "town"}


def input_fingerprint(options: BuildOptions) -> str:
    """A digest of everything that can change the output: inputs, templates and this code."""
    digest = hashlib.sha256(__version__.encode())
    sources = [options.config_path, options.resolve(options.locations)]
    for folder in (
        options.resolve(options.content),
        options.resolve(options.templates),
        Path(__file__).parent,
    ):
        sources += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc")
    for path in sources:
        if path is not None and path.exists():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    return digest.hexdigest()


def _inputs(options: BuildOptions) -> list[Path]:
    paths = [
        options.project,
        options.resolve(options.locations),
        options.resolve(options.content),
        options.resolve(options.templates),
    ]
    return paths + ([options.config_path] if options.config_path else [])


def _record(
    staging: Staging, fingerprint: str, plan: SitePlan, redirects: dict[str, str], now: str
) -> BuildRecord:
    staged = staging.staged.values()
    lastmod = lastmods({s.path: s.digest for s in staged}, staging.previous, now)
    files = {
        s.path: {"sha256": s.digest, "size": str(s.size), "lastmod": lastmod[s.path]}
        for s in staged
    }
    towns = {href: {"zips": list(t.zips), "hub": t.hub} for href, t in _town_traces(plan).items()}
    return BuildRecord(fingerprint, files, towns, redirects)


def _warnings(inputs: Inputs, findings: list[Finding]) -> list[str]:
    return [
        *(str(p) for p in inputs.table.warnings),
        *(str(f) for f in findings),
        *_settings_warnings(inputs.settings),
    ]


def _settings_warnings(settings: Settings) -> list[str]:
    if settings.has_placeholder_base_url():
        return [
            f"settings: warning: base_url is the placeholder {settings.base_url}; canonical "
            "URLs and the sitemap point there until you set base_url in site.toml"
        ]
    return []


def _result(
    plan: SitePlan, published: PublishResult, warnings: list[str], seconds: float, extra: dict
) -> BuildResult:
    pages = tuple(
        PageEntry(p.path, p.url, p.kind, p.title, p.town, p.state, p.indexable)
        for p in plan.outlines
    )
    return BuildResult(
        pages=pages,
        warnings=tuple(warnings),
        written=published.written,
        unchanged=published.unchanged,
        removed=published.removed,
        kept_foreign=published.kept_foreign,
        seconds=seconds,
        extra=extra,
    )


def _unchanged_result(previous: BuildRecord, seconds: float) -> BuildResult:
    return BuildResult(
        pages=(),
        warnings=(),
        written=0,
        unchanged=len(previous.files),
        removed=(),
        kept_foreign=(),
        seconds=seconds,
        skipped=True,
    )
