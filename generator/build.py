"""The build pipeline: load -> validate -> plan -> render -> check -> publish, top to bottom.

`build()` reads as the list of stages. Every input problem is gathered before anything is
rendered; every output problem is found before anything is published; the previous output is
replaced only by a complete, checked tree.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .check import check_pages, has_errors
from .content import Copy, load_copy
from .geo import Point, city_centroid
from .load import read_table
from .pages import Page, TownBody
from .places import group_places
from .plan import SitePlan, plan_site
from .problems import Finding, InputError, Problem, Severity
from .publish import (
    BuildRecord,
    OutputFile,
    OutputLocation,
    PublishResult,
    check_output_folder,
    output_lock,
    output_matches_record,
    publish,
    read_record,
    write_record,
)
from .quality import audit_town_pages
from .render import make_environment, render_page
from .settings import Settings, load_settings
from .sitemap import SitemapEntry, build_sitemaps, robots_txt
from .sitemap_check import check_sitemap_bytes
from .validate import ValidatedTable, validate_table

ASSETS = ("assets/style.css",)


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


class BuildFailed(Exception):
    """Output checks failed; nothing was published."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} problem(s) in the built pages")
        self.findings = findings


def build(options: BuildOptions) -> BuildResult:
    started = time.perf_counter()
    location = OutputLocation(options.resolve(options.out))
    check_output_folder(location.folder, _inputs(options))
    with output_lock(location):
        previous = read_record(location)
        fingerprint = input_fingerprint(options)
        if (
            not options.force
            and previous.fingerprint == fingerprint
            and output_matches_record(location, previous)
        ):
            return _unchanged_result(previous, time.perf_counter() - started)
        settings, validated, copy = load_inputs(options)
        places = group_places(validated.locations, clinic_point(settings), validated.file)
        plan = plan_site(places, copy, settings)
        pages = render_pages(plan, options.resolve(options.templates))
        gate = audit_town_pages(_town_pages(pages), settings.quality, _zip_counts(plan))
        if gate.demoted:
            plan = plan_site(places, copy, settings, gate.demoted)
            pages = render_pages(plan, options.resolve(options.templates))
        files, sitemap_files = assemble(plan, pages, previous, options, settings)
        findings = [*gate.findings, *check_output(files, sitemap_files, plan, settings)]
        if has_errors(findings, options.strict):
            raise BuildFailed(findings)
        result = publish(location, files, previous)
        write_record(location, _record(files, sitemap_files, previous, fingerprint))
    warnings = [str(p) for p in validated.warnings] + [str(f) for f in findings]
    warnings += _settings_warnings(settings)
    return _result(
        plan, result, warnings, time.perf_counter() - started, {"uniqueness": gate.report.to_dict()}
    )


def load_inputs(options: BuildOptions) -> tuple[Settings, ValidatedTable, Copy]:
    """Read settings, table and copy, reporting the problems of all three at once."""
    problems: list[Problem] = []
    settings = _attempt(lambda: load_settings(options.config_path), problems)
    validated = _attempt(
        lambda: validate_table(read_table(options.resolve(options.locations))), problems
    )
    copy = _attempt(lambda: load_copy(options.resolve(options.content)), problems)
    if any(p.severity is Severity.ERROR for p in problems):
        raise InputError(problems)
    return settings, validated, copy


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
                    f"the ZIP database has no city '{clinic.city}' in "
                    f"{clinic.state}; set clinic.latitude and "
                    "clinic.longitude",
                    column="clinic.city",
                )
            ]
        )
    return point


def _town_pages(pages: list[tuple[Page, bytes]]) -> list[tuple[str, str, bytes]]:
    return [(page.href, page.path, data) for page, data in pages if page.kind == "town"]


def _zip_counts(plan: SitePlan) -> dict[str, int]:
    return {p.href: len(p.body.zips) for p in plan.pages if isinstance(p.body, TownBody)}


def render_pages(plan: SitePlan, templates: Path) -> list[tuple[Page, bytes]]:
    environment = make_environment(templates)
    return [(page, render_page(page, plan.site, environment)) for page in plan.pages]


def assemble(
    plan: SitePlan,
    pages: list[tuple[Page, bytes]],
    previous: BuildRecord,
    options: BuildOptions,
    settings: Settings,
) -> tuple[list[OutputFile], list[OutputFile]]:
    """Pages, assets, sitemap and robots.txt as files, with lastmod kept from the record."""
    files = [OutputFile(page.path, data) for page, data in pages]
    files += [
        OutputFile(asset, (options.resolve(options.templates) / asset).read_bytes())
        for asset in ASSETS
    ]
    now = build_time()
    entries = []
    for (page, _), item in zip(pages, files, strict=False):
        if page.indexable:
            entries.append(SitemapEntry(page.url, previous.lastmod(item.path, item.digest) or now))
    sitemaps = [
        OutputFile(s.path, s.data)
        for s in build_sitemaps(
            entries,
            settings.site_root,
            max_urls=settings.sitemap.max_urls,
            gzip=settings.sitemap.gzip,
        )
    ]
    robots = OutputFile("robots.txt", robots_txt(settings.site_root + "sitemap.xml"))
    return sorted([*files, *sitemaps, robots], key=lambda f: f.path), sitemaps


def check_output(
    files: list[OutputFile], sitemap_files: list[OutputFile], plan: SitePlan, settings: Settings
) -> list[Finding]:
    findings = []
    for sitemap in sitemap_files:
        findings += check_sitemap_bytes(sitemap.data, sitemap.path, settings.site_root)
    expected = {p.path: p.url for p in plan.pages if p.indexable}
    findings += check_pages({f.path: f.data for f in files}, settings.site_root, expected)
    return findings


def build_time() -> str:
    """Now as a W3C datetime, or SOURCE_DATE_EPOCH's time for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat()


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
    files: list[OutputFile],
    sitemap_files: list[OutputFile],
    previous: BuildRecord,
    fingerprint: str,
) -> BuildRecord:
    now = build_time()
    return BuildRecord(
        fingerprint=fingerprint,
        files={
            f.path: {
                "sha256": f.digest,
                "size": str(len(f.data)),
                "lastmod": previous.lastmod(f.path, f.digest) or now,
            }
            for f in files
        },
    )


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
        PageEntry(p.path, p.url, p.kind, p.title, p.town, p.state, p.indexable) for p in plan.pages
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
