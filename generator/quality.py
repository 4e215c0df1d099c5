"""The uniqueness gate: near-identical town pages are found and, by setting, fail the build,
are published `noindex` and left out of the sitemap, are merged into their county hub, or are
only reported.

For each flagged pair one page gives way: the one with less of its own to say (fewer ZIP
codes), ties broken by URL, so the result does not depend on the order pages were built.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .audit import AuditReport, PagePair, audit_texts
from .problems import Finding, Severity
from .settings import QualitySettings

ACTIONS_THAT_DEMOTE = ("noindex", "merge")
APART_FROM_PAGES = 2000


@dataclass(frozen=True)
class GateResult:
    report: AuditReport
    demoted: frozenset[str]  # hrefs of the town pages that give way
    findings: tuple[Finding, ...]


def audit_town_pages(
    pages: Iterable[tuple[str, str, str]],
    settings: QualitySettings,
    zip_counts: Mapping[str, int],
) -> GateResult:
    """pages: (href, output path, main text) of every town page; zip_counts: ZIPs per href."""
    pages = list(pages)
    paths = {href: path for href, path, _ in pages}
    report = _audit_apart({href: text for href, _, text in pages}, settings.similarity_threshold)
    demoted = choose_demoted(report.flagged, zip_counts)
    action = settings.on_similar
    severity = Severity.ERROR if action == "fail" else Severity.WARNING
    findings = tuple(
        Finding(
            "quality.similar",
            paths[pair.a],
            f"main text is {pair.similarity:.2f} similar to {pair.b} (threshold "
            f"{settings.similarity_threshold}); {_consequence(action, pair, demoted)}",
            severity,
        )
        for pair in report.flagged
    )
    return GateResult(
        report, frozenset(demoted) if action in ACTIONS_THAT_DEMOTE else frozenset(), findings
    )


def _audit_apart(texts: dict[str, str], threshold: float) -> AuditReport:
    """A large audit runs in a fresh process: forked from the build, its index would sit on top
    of everything the build holds, and the peak memory would be the sum of both."""
    if len(texts) < APART_FROM_PAGES:
        return audit_texts(texts, threshold=threshold)
    context = multiprocessing.get_context("forkserver" if _has_forkserver() else "spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(audit_texts, texts, threshold=threshold).result()


def _has_forkserver() -> bool:
    return "forkserver" in multiprocessing.get_all_start_methods()


def choose_demoted(flagged: Iterable[PagePair], zip_counts: Mapping[str, int]) -> set[str]:
    """Greedy, most similar pair first: a pair already resolved by an earlier demotion is
    skipped; otherwise the page with fewer ZIP codes (then the later URL) gives way."""
    demoted: set[str] = set()
    for pair in sorted(flagged, key=lambda p: (-p.similarity, p.a, p.b)):
        if pair.a in demoted or pair.b in demoted:
            continue
        demoted.add(
            min((pair.a, pair.b), key=lambda href: (zip_counts.get(href, 0), _reverse(href)))
        )
    return demoted


def _reverse(href: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in href)


def _consequence(action: str, pair: PagePair, demoted: set[str]) -> str:
    loser = pair.a if pair.a in demoted else pair.b if pair.b in demoted else ""
    if action == "fail":
        return 'the build fails (quality.on_similar = "fail")'
    if action == "noindex" and loser:
        return f"{loser} is published noindex and left out of the sitemap"
    if action == "merge" and loser:
        return f"{loser} is merged into its county hub"
    return "reported only"
