"""Benchmark of the uniqueness audit (generator.audit) on a large synthetic site.

Owns: generating N town pages shaped like the real ones (a few hundred words of <main>
text built from shared template sentences filled with per-town data, a per-town local
paragraph, site chrome outside <main>, a few planted near-copies), writing them to a
tmpfs directory, and timing the audit's two parts over several runs: the per-page part
(``fingerprint`` of each page's main text, which the build does in its page workers) and
the cross-page part (``audit_fingerprints``), with the latter's peak memory. ``--audit-site``
also times ``audit_site`` end to end (what ``python -m generator audit DIR`` does).

    python benchmarks/audit_bench.py --pages 30000 --runs 3 [--dir /mnt/bench] [--keep]
    python benchmarks/audit_bench.py --site /dev/shm/some-built-site --runs 3

The site goes to a new ``audit-bench-*`` folder under ``--dir`` (removed afterwards).
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import audit
from generator.audit import (
    AuditReport,
    PageFingerprint,
    audit_fingerprints,
    audit_site,
    fingerprint,
    format_report,
    main_text,
    town_pages,
    uses_signatures,
)

SEED = 7
SERVICE = "ketamine-infusion"
SERVICES = ("ketamine-infusion", "spravato-treatment", "tms-therapy")
SERVICE_NAMES = {
    "ketamine-infusion": "ketamine infusion therapy",
    "spravato-treatment": "Spravato (esketamine) treatment",
    "tms-therapy": "TMS therapy",
}
STATES = ("VA", "MD", "DC", "WV", "PA", "DE", "NC")
STATE_LIST = tuple(
    "ak al ar az ca co ct dc de fl ga hi ia id il in ks ky la ma md me mi mn mo ms mt nc nd ne "
    "nh nj nm nv ny oh ok or pa ri sc sd tn tx ut va vt wa wi wv wy".split()
)
SOURCE = (
    "Harmer CJ, Duman RS, Cowen PJ. How do antidepressants work? New perspectives for refining "
    "future treatment approaches. Lancet Psychiatry. 2017;4(5):409-418."
)
ROADS = ("I-66", "I-95", "I-495", "Route 7", "Route 50", "Route 28", "US-1", "Route 15", "I-270")
CLINICS = ("Fairfax", "Leesburg", "Manassas", "Alexandria")
SYLLABLES = (
    "ash", "bel", "bro", "burn", "cas", "clif", "dale", "dor", "elm", "fal", "fern", "glen", "ham",
    "hill", "kes", "lan", "lee", "mar", "mont", "nor", "oak", "pem", "pine", "ral", "ridge",
    "ros", "sal", "shen", "ston", "tal", "ton", "vale", "ven", "wes", "wick", "wood", "york",
)  # fmt: skip
FILLER = (
    "the", "a", "of", "and", "to", "in", "for", "with", "on", "near", "by", "is", "are", "was",
    "has", "many", "local", "families", "residents", "park", "library", "school", "market",
    "trail", "church", "river", "creek", "station", "center", "street", "historic", "new",
    "community", "neighborhood", "downtown", "commuters", "shops", "restaurants", "festival",
    "farm", "museum", "green", "quiet", "busy", "growing", "older", "homes", "townhouses",
)  # fmt: skip
INTROS = (
    "Looking for {service} near {town}? {brand} helps adults in {town}, {state} who live with "
    "depression, anxiety or chronic pain that has not improved with other treatments.",
    "{brand} offers {service} to patients from {town} and the rest of {county}. Our team works "
    "with your own doctor so that care stays simple and safe.",
    "If you live in {town}, {state}, {service} at {brand} may be an option when several "
    "medications have not helped. Many of our patients drive in from {town} every week.",
    "People in {town} ask us whether {service} is right for them. This page explains how "
    "treatment works, what it costs and how to reach our clinic from {town}.",
)
SERVICE_PARAGRAPHS = tuple(
    f"{topic} is one of the questions we discuss at the first visit. A physician reviews your "
    f"history, current medications and goals, and explains how {{service}} fits into a wider "
    f"plan. Sessions take place in a quiet private room and a nurse checks on you throughout; "
    f"most patients rest for a while afterwards and a friend or family member drives them home."
    for topic in (
        "Safety", "Cost and insurance", "How many sessions you need", "Side effects",
        "Who is a good candidate", "Combining treatment with therapy", "Maintenance sessions",
        "What the research says",
    )
)  # fmt: skip
FAQS = tuple(
    f"{question} For patients from {{town}}, the answer depends on your history, so the "
    f"physician will go through it with you at the consultation and write down a clear plan."
    for question in (
        "Do I need a referral?", "Is it covered by insurance?", "How long does a visit take?",
        "Can I drive afterwards?", "How soon will I feel better?", "Is it addictive?",
        "Can I keep my other medications?", "What happens at the first appointment?",
        "Do you treat teenagers?", "Is there parking at the clinic?",
    )
)  # fmt: skip
CALLS = (
    "Call us today to book a consultation for {service}; we usually see new patients from "
    "{town} within a week.",
    "Ready to talk? Request an appointment online and a coordinator will call you back the same "
    "day to answer questions from {town}.",
    "Book your free phone screening now. Evening and weekend slots are available for patients "
    "coming from {town}.",
)


@dataclass(frozen=True)
class Town:
    """A synthetic place with the data a town page shows."""

    name: str
    slug: str
    state: str
    county: str
    zips: tuple[str, ...]
    neighbours: tuple[str, ...]
    miles: int
    minutes: int
    road: str
    clinic: str
    notes: str


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).title()


def _towns(count: int, rng: random.Random) -> list[Town]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = _name(rng) + rng.choice(("", "", " Park", " Heights", " Springs", " Mill"))
        if name not in seen:
            seen.add(name)
            names.append(name)
    counties = [_name(rng) + " County" for _ in range(max(1, count // 12))]
    return [_town(index, names, counties, rng) for index in range(count)]


def _town(index: int, names: list[str], counties: list[str], rng: random.Random) -> Town:
    near = [names[(index + rng.randint(-6, 6)) % len(names)] for _ in range(rng.randint(5, 10))]
    miles = rng.randint(2, 60)
    return Town(
        name=names[index],
        slug=names[index].lower().replace(" ", "-"),
        state=STATES[index % len(STATES)],
        county=counties[index % len(counties)],
        zips=tuple(str(rng.randint(20000, 26999)) for _ in range(rng.randint(1, 12))),
        neighbours=tuple(dict.fromkeys(n for n in near if n != names[index])),
        miles=miles,
        minutes=miles * 2 + rng.randint(0, 15),
        road=rng.choice(ROADS),
        clinic=rng.choice(CLINICS),
        notes=_words(rng, 20, 40),
    )


def _words(rng: random.Random, least: int, most: int) -> str:
    """Stand-in for hand-written local copy: words that rarely line up the same way twice."""
    return " ".join(rng.choice(FILLER + SYLLABLES) for _ in range(rng.randint(least, most)))


def _main_html(town: Town, service: str, rng: random.Random) -> str:
    """The <main> of a town page, marked up like the real template (sections, lists, a map)."""
    slots = {
        "service": SERVICE_NAMES[service],
        "town": town.name,
        "state": town.state,
        "county": town.county,
        "brand": "NOVA Health Recovery",
    }
    zips = "".join(f"<li>{z}: {town.name}, {town.county}</li>" for z in town.zips)
    parts = [
        f'<main id="content">\n<h1>{escape(SERVICE_NAMES[service].capitalize())} for '
        f"{town.name}, {town.state}</h1>",
        f'<p class="lead">{escape(rng.choice(INTROS).format(**slots))}</p>',
        '<aside class="cta" aria-label="Contact"><p><strong>No referral needed.</strong> Call '
        '<a href="tel:+17035550100">703-555-0100</a> to ask about a consultation.</p></aside>',
        f'<section aria-labelledby="zips"><h2 id="zips">{town.name} ZIP codes we serve</h2>'
        f'<ul class="zips">{zips}</ul></section>',
        f'<section aria-labelledby="where"><h2 id="where">Where {town.name} is</h2><p>'
        f"{town.name} is in {town.county}, {town.state}. Our {town.clinic} clinic is about "
        f"{town.miles} miles away, roughly {town.minutes} minutes by car via {town.road}.</p>"
        f"<p>About {town.name}: {town.notes}.</p></section>",
        _map(town, rng),
        _nearby(town),
        "<section>"
        + f"<p>{escape(rng.choice(SERVICE_PARAGRAPHS).format(**slots))}</p>"
        + f"<p>Our patients from {town.name} say: {_words(rng, 30, 60)}.</p></section>",
        '<section aria-labelledby="faq"><h2 id="faq">Questions</h2>'
        + "".join(f"<p>{escape(q.format(**slots))}</p>" for q in rng.sample(FAQS, 2))
        + "</section>",
        f"<p>{escape(rng.choice(CALLS).format(**slots))}</p>",
        "</main>",
    ]
    return "\n".join(parts)


def _map(town: Town, rng: random.Random) -> str:
    places = [*town.neighbours, town.name]
    marks = "".join(
        f'<circle cx="{rng.uniform(20, 620):.1f}" cy="{rng.uniform(20, 400):.1f}" r="4" '
        f'fill="#4a5561"/><text x="{rng.uniform(20, 620):.1f}" y="{rng.uniform(20, 400):.1f}" '
        f'font-size="12" fill="#1b1f24">{name}</text>\n'
        for name in places
    )
    return (
        '<figure class="map-figure"><svg class="map" viewBox="0 0 640 420" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Map of {town.name} and nearby communities'
        f'</title><rect width="640" height="420" fill="#f6fafb"/>\n{marks}</svg>'
        f"<figcaption>{town.name} and the {len(town.neighbours)} nearest communities we serve."
        "</figcaption></figure>"
    )


def _nearby(town: Town) -> str:
    items = "".join(
        f'<li><a href="/{town.state.lower()}/{name.lower().replace(" ", "-")}/">{name}, '
        f'{town.state}</a> <span class="note">about {3 + 4 * k} miles from {town.name}</span></li>'
        for k, name in enumerate(town.neighbours)
    )
    return (
        '<section aria-labelledby="nearby"><h2 id="nearby">Nearby communities we serve</h2>'
        f'<ul class="towns">{items}</ul></section>'
    )


def _page(main: str, title: str, url: str) -> str:
    """A whole page: head with metadata and JSON-LD, header, breadcrumbs, main, footer."""
    nav = "".join(f'<li><a href="/{s}/">{SERVICE_NAMES[s]}</a></li>' for s in SERVICES)
    links = "".join(f'<li><a href="/{SERVICE}/{k}/">{k.upper()}</a></li>' for k in STATE_LIST)
    sources = "".join(f'<li id="ref-{k}">{SOURCE}</li>' for k in range(3))
    meta = "".join(
        f'<meta property="og:{key}" content="{title} | NOVA Health Recovery">\n'
        for key in ("title", "description", "site_name", "url", "type", "locale")
    )
    crumbs = "".join(f'{{"@type":"ListItem","position":{k},"name":"{title}"}},' for k in range(4))
    return (
        f'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} | NOVA Health Recovery</title>\n"
        f'<meta name="description" content="Treatment for {title}.">\n'
        f'<link rel="canonical" href="https://www.example.com{url}">\n{meta}'
        '<link rel="stylesheet" href="/assets/style.css">\n'
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{'
        f'"@type":"MedicalWebPage","url":"https://www.example.com{url}","name":"{title}"}},'
        f'{{"@type":"BreadcrumbList","itemListElement":[{crumbs.rstrip(",")}]}}]}}</script>\n'
        '</head>\n<body data-kind="town">\n<a class="skip" href="#content">Skip to main '
        'content</a>\n<header class="site-header"><a class="brand" href="/">NOVA Health '
        f'Recovery</a><nav aria-label="Main"><ul>{nav}</ul></nav></header>\n'
        '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li>'
        f'<li><a href="{url}">{title}</a></li></ol></nav>\n{main}\n'
        '<footer class="site-footer"><section class="crisis"><h2>In crisis?</h2><p>If you are '
        "thinking about suicide or are in crisis, call or text 988 to reach the 988 Suicide "
        "&amp; Crisis Lifeline, any time of day or night.</p></section>"
        f'<section><h2>Sources</h2><ol class="sources">{sources}</ol></section>'
        f'<nav aria-label="Areas we serve"><h2>Areas we serve</h2><ul>{links}</ul></nav>'
        "<p>NOVA Health Recovery, Fairfax, VA. This page is general information, not medical "
        "advice.</p></footer>\n</body>\n</html>\n"
    )


def _planted(main: str, source: Town, target: Town, rng: random.Random) -> str:
    """A sloppy clone of another town's main content: the name swapped in the heading and lead
    only, a few words changed."""
    words = main.replace(source.name, target.name, 2).split(" ")
    plain = [k for k, word in enumerate(words) if word.isalpha()]
    for k in rng.sample(plain, rng.randint(0, 6)):
        words[k] = rng.choice(FILLER)
    return " ".join(words)


def write_site(site: Path, pages: int, seed: int = SEED) -> list[tuple[str, str]]:
    """Write ``pages`` town pages (one service, like the real site) and a few other pages.

    Every 1000th page is a sloppy clone of an earlier one. Returns the planted
    (source URL, clone URL) pairs.
    """
    rng = random.Random(seed)
    towns = _towns(pages, rng)
    mains: list[str] = []
    planted = []
    for number, town in enumerate(towns):
        main = _main_html(town, SERVICE, rng)
        if number % 1000 == 999:
            source = rng.randrange(number)
            main = _planted(mains[source], towns[source], town, rng)
            planted.append((_url(towns[source], SERVICE), _url(town, SERVICE)))
        mains.append(main)
        path = site / _url(town, SERVICE).strip("/") / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        title = escape(f"{town.name}, {town.state}")
        path.write_text(_page(main, title, _url(town, SERVICE)), encoding="utf-8")
    for kind in ("index", "state", "county", "topic"):
        page = _page("<main><p>Not a town page.</p></main>", kind, f"/{kind}.html")
        (site / f"{kind}.html").write_text(page.replace('"town"', f'"{kind}"'), encoding="utf-8")
    return planted


def _url(town: Town, service: str) -> str:
    return f"/{service}/{town.state.lower()}/{town.slug}/"


def _is_tmpfs(path: Path) -> bool:
    result = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return result.stdout.strip() == "tmpfs"


def _default_dir() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and _is_tmpfs(shm) else Path("/mnt/bench")


def _generate(site: Path, pages: int) -> list[tuple[str, str]]:
    """``write_site`` in a child process, so the peak RSS measured here is the audit's own."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        return pool.submit(write_site, site, pages).result()


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _memory(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in MiB, from /proc (0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> bool:
    """Start a new peak-RSS measurement (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _main_texts(site: Path) -> tuple[dict[str, str], float]:
    """The main text of every town page, and the CPU seconds spent reading and parsing."""
    pages = town_pages(site)
    cpu = time.process_time()
    texts = {url: main_text(path.read_bytes()) for url, path in pages.items()}
    return texts, time.process_time() - cpu


def _fingerprints(texts: dict[str, str]) -> tuple[dict[str, PageFingerprint], float]:
    """``fingerprint`` of every text, one page at a time in this process, and the CPU
    seconds. The memo of word hashes starts empty, as in a fresh page worker."""
    audit._WORD_HASHER.cache.clear()
    with_signature = uses_signatures(len(texts))
    cpu = time.process_time()
    prints = {url: fingerprint(text, with_signature) for url, text in texts.items()}
    return prints, time.process_time() - cpu


@dataclass(frozen=True)
class _CrossPage:
    wall: float
    cpu: float
    peak: float  # MiB above the RSS before the call (0 if it cannot be measured)
    report: AuditReport


def _cross_page(prints: dict[str, PageFingerprint]) -> _CrossPage:
    """One ``audit_fingerprints`` call: wall and CPU seconds, peak memory, report."""
    before = _memory("VmRSS")
    measured = _reset_peak()
    cpu, start = time.process_time(), time.perf_counter()
    report = audit_fingerprints(prints)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _memory("VmHWM") - before if measured else 0.0
    return _CrossPage(wall, cpu, peak, report)


def _timed_runs(site: Path, runs: int, planted: list[tuple[str, str]], whole: bool) -> None:
    texts, parse = _main_texts(site)
    count = len(texts)
    print(f"{count} town pages; reading and parsing their main text: {parse:.2f} s CPU "
          f"({parse / count * 1e3:.3f} ms/page; page workers do this in a build)")  # fmt: skip
    per_page, cross = [], []
    for run in range(1, runs + 1):
        prints, cpu = _fingerprints(texts)
        per_page.append(cpu / count * 1e3)
        result = _cross_page(prints)
        cross.append(result)
        print(f"run {run}: fingerprint {per_page[-1]:.4f} ms/page CPU ({cpu:.2f} s); "
              f"audit_fingerprints {result.wall:.2f} s wall, {result.cpu:.2f} s CPU, "
              f"peak +{result.peak:.0f} MiB; load average {_load()}")  # fmt: skip
    size = sum(len(p.shingles) + len(p.signature or b"") for p in prints.values())
    pickled = len(pickle.dumps(list(prints.values()), protocol=pickle.HIGHEST_PROTOCOL))
    print(
        f"per page: fingerprint median {statistics.median(per_page):.4f} ms CPU; "
        f"{size / count:.0f} bytes of hashes per page, pickled {pickled / count:.0f} bytes"
    )
    print(f"cross page: audit_fingerprints median {statistics.median(r.wall for r in cross):.2f}"
          f" s wall, {statistics.median(r.cpu for r in cross):.2f} s CPU; peak "
          f"+{max(r.peak for r in cross):.0f} MiB over the {_memory('VmRSS'):.0f} MiB process "
          f"holding the texts and fingerprints")  # fmt: skip
    if whole:
        _whole_runs(site, runs)
    report = cross[-1].report
    print(_verdict(report, planted))
    print(format_report(report))


def _whole_runs(site: Path, runs: int) -> None:
    """``audit_site`` end to end: find town pages, parse (process pool), fingerprint, audit."""
    seconds = []
    for run in range(1, runs + 1):
        cpu, start = _cpu_seconds(), time.perf_counter()
        audit_site(site)
        seconds.append(time.perf_counter() - start)
        print(f"audit_site run {run}: {seconds[-1]:.2f} s wall, {_cpu_seconds() - cpu:.2f} s "
              f"CPU (with pool workers); load average {_load()}")  # fmt: skip
    print(f"audit_site median {statistics.median(seconds):.2f} s wall")


def _verdict(report: AuditReport, planted: list[tuple[str, str]]) -> str:
    found = {(pair.a, pair.b) for pair in report.flagged}
    caught = sum(tuple(sorted(pair)) in found for pair in planted)
    return (
        f"method {report.method}, max {report.maximum:.3f}, p95 {report.p95:.3f}, "
        f"{len(report.flagged)} flagged"
        + (f", planted near-copies flagged {caught}/{len(planted)}" if planted else "")
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Generate the site (or take ``--site``), time the audit's parts ``--runs`` times, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30_000, help="town pages (default 30000)")
    parser.add_argument("--runs", type=int, default=3, help="timed audits (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="tmpfs folder (default /dev/shm)")
    parser.add_argument("--keep", action="store_true", help="keep the generated site")
    parser.add_argument("--site", type=Path, help="audit this built site instead of generating")
    parser.add_argument("--audit-site", action="store_true", help="also time audit_site")
    args = parser.parse_args(argv)
    if args.site:
        print(f"auditing {args.site}; {os.cpu_count()} cpus, load average {_load()}")
        _timed_runs(args.site, args.runs, [], args.audit_site)
        return 0
    base = args.dir or _default_dir()
    if not _is_tmpfs(base):
        print(f"warning: {base} is not tmpfs; timings include disk reads", file=sys.stderr)
    site = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=base))
    try:
        started = time.perf_counter()
        planted = _generate(site, args.pages)
        print(f"wrote {args.pages} town pages ({len(planted)} planted near-copies) to {site} "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cpus, "
              f"load average {_load()}")  # fmt: skip
        _timed_runs(site, args.runs, planted, args.audit_site)
    finally:
        if not args.keep:
            shutil.rmtree(site, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
