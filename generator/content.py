"""The copy: reads content/ (Markdown topic pages, home, disclaimer, crisis notice, references).

Markdown becomes HTML fragments here, once per build; `[[ref-id]]` citations become numbered
links to the sources list every page carries. Problems name the file and line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import markdown
from markupsafe import Markup, escape

from .problems import InputError, Problem

CITATION = re.compile(r"\[\[([A-Za-z0-9_-]+)\]\]")
RAW_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?]")
TOPIC_KEYS = ("title", "nav", "description", "summary", "order")
REFERENCE_KEYS = ("id", "authors", "title", "journal", "year", "doi")
TITLE_MAX = 50
DESCRIPTION_RANGE = (70, 160)
SUMMARY_MAX_WORDS = 40


@dataclass(frozen=True)
class Reference:
    id: str
    number: int
    authors: str
    title: str
    journal: str
    year: int
    volume: str
    issue: str
    pages: str
    doi: str
    note: str

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}"

    @property
    def citation(self) -> str:
        """Vancouver-style citation text (AMA-like), without the DOI."""
        issue = f"({self.issue})" if self.issue else ""
        volume = f";{self.volume}{issue}" if self.volume else ""
        pages = f":{self.pages}" if self.pages else ""
        title = self.title if self.title.endswith(("?", "!", ".")) else self.title + "."
        return f"{self.authors}. {title} {self.journal}. {self.year}{volume}{pages}."


@dataclass(frozen=True)
class Question:
    question: str
    answer_html: Markup


@dataclass(frozen=True)
class Topic:
    """A pillar page: the full copy on one subject, written once."""

    slug: str
    title: str
    nav: str
    description: str
    summary: str
    order: int
    html: Markup
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Copy:
    topics: tuple[Topic, ...]
    home_title: str
    home_description: str
    home_html: Markup
    disclaimer_html: Markup
    crisis_html: Markup
    references: tuple[Reference, ...]


def load_copy(content_dir: Path) -> Copy:
    """Read and render every copy file; raise InputError with every problem found."""
    problems: list[Problem] = []
    references = _load_references(content_dir / "references.toml", problems)
    by_id = {r.id: r for r in references}
    topics = tuple(
        sorted(
            (
                t
                for t in (
                    _load_topic(p, by_id, problems)
                    for p in sorted((content_dir / "topics").glob("*.md"))
                )
                if t
            ),
            key=lambda t: (t.order, t.slug),
        )
    )
    if not topics:
        problems.append(Problem(str(content_dir / "topics"), "no topic pages (*.md) found"))
    home = _read_page(content_dir / "home.md", ("title", "description"), by_id, problems)
    disclaimer = _read_page(content_dir / "disclaimer.md", (), by_id, problems)
    crisis = _read_page(content_dir / "crisis.md", (), by_id, problems)
    if crisis and "988" not in crisis[1]:
        problems.append(
            Problem(str(content_dir / "crisis.md"), "must name the 988 Suicide & Crisis Lifeline")
        )
    if problems or not (home and disclaimer and crisis):
        raise InputError(problems)
    return Copy(
        topics=topics,
        home_title=home[0]["title"],
        home_description=home[0]["description"],
        home_html=home[1],
        disclaimer_html=disclaimer[1],
        crisis_html=crisis[1],
        references=references,
    )


def _load_references(path: Path, problems: list[Problem]) -> tuple[Reference, ...]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.append(Problem(str(path), "file not found"))
        return ()
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(str(path), f"not valid TOML: {error}"))
        return ()
    references = []
    for number, entry in enumerate(raw.get("reference", []), start=1):
        missing = [k for k in REFERENCE_KEYS if not entry.get(k)]
        if missing:
            problems.append(Problem(str(path), f"reference {number} lacks {', '.join(missing)}"))
            continue
        references.append(
            Reference(
                id=entry["id"],
                number=number,
                authors=entry["authors"],
                title=entry["title"],
                journal=entry["journal"],
                year=int(entry["year"]),
                volume=str(entry.get("volume", "")),
                issue=str(entry.get("issue", "")),
                pages=str(entry.get("pages", "")),
                doi=entry["doi"],
                note=entry.get("note", ""),
            )
        )
    if not references:
        problems.append(Problem(str(path), "no [[reference]] entries"))
    return tuple(references)


def _load_topic(
    path: Path, references: dict[str, Reference], problems: list[Problem]
) -> Topic | None:
    page = _read_page(path, TOPIC_KEYS, references, problems)
    if page is None:
        return None
    meta, html = page
    errors = _check_topic_meta(meta, str(path))
    problems.extend(errors)
    if errors:
        return None
    return Topic(
        slug=path.stem,
        title=meta["title"],
        nav=meta["nav"],
        description=meta["description"],
        summary=meta["summary"],
        order=int(meta["order"]),
        html=html,
        questions=_questions(html),
    )


def _check_topic_meta(meta: dict[str, str], name: str) -> list[Problem]:
    problems = []
    if len(meta["title"]) > TITLE_MAX:
        problems.append(
            Problem(
                name, f"is {len(meta['title'])} characters; at most {TITLE_MAX}", column="Title"
            )
        )
    low, high = DESCRIPTION_RANGE
    if not low <= len(meta["description"]) <= high:
        problems.append(
            Problem(
                name,
                f"is {len(meta['description'])} characters; it must be {low}-{high}",
                column="Description",
            )
        )
    if len(meta["summary"].split()) > SUMMARY_MAX_WORDS:
        problems.append(Problem(name, f"has more than {SUMMARY_MAX_WORDS} words", column="Summary"))
    if not meta["order"].isdigit():
        problems.append(Problem(name, "must be a whole number", column="Order"))
    return problems


def _read_page(
    path: Path, required: tuple[str, ...], references: dict[str, Reference], problems: list[Problem]
) -> tuple[dict[str, str], Markup] | None:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(name, "file not found"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, "is not UTF-8 text"))
        return None
    before = len(problems)
    for number, line in enumerate(text.splitlines(), start=1):
        if RAW_HTML.search(line):
            problems.append(
                Problem(name, "raw HTML is not allowed in the copy; use Markdown", row=number)
            )
        if line.startswith("# "):
            problems.append(
                Problem(
                    name,
                    "a '# ' heading is not allowed: the page title is "
                    "the only h1; start sections with '## '",
                    row=number,
                )
            )
        for ref_id in CITATION.findall(line):
            if ref_id not in references:
                problems.append(Problem(name, f"cites unknown reference [[{ref_id}]]", row=number))
    converter = markdown.Markdown(extensions=["meta"], output_format="html")
    body = converter.convert(_link_citations(text, references))
    meta = {k.lower(): " ".join(v).strip() for k, v in getattr(converter, "Meta", {}).items()}
    missing = [k for k in required if not meta.get(k)]
    if missing:
        problems.append(
            Problem(
                name,
                f"missing header line(s): {', '.join(k.capitalize() + ':' for k in missing)}",
                row=1,
            )
        )
    if len(problems) > before:
        return None
    return meta, Markup(body)


def _link_citations(text: str, references: dict[str, Reference]) -> str:
    def link(match: re.Match[str]) -> str:
        reference = references.get(match.group(1))
        return f"[\\[{reference.number}\\]](#ref-{reference.id})" if reference else match.group(0)

    return CITATION.sub(link, text)


def _questions(html: Markup) -> tuple[Question, ...]:
    """H3 headings and the HTML up to the next heading: the FAQ's questions and answers."""
    parts = re.split(r"<h3>(.*?)</h3>", str(html))
    questions = []
    for heading, answer in zip(parts[1::2], parts[2::2], strict=True):
        answer = re.split(r"<h[1-6]", answer)[0].strip()
        questions.append(Question(question=Markup(heading).striptags(), answer_html=Markup(answer)))
    return tuple(questions)


def plain_text(html: Markup) -> str:
    """Visible text of an HTML fragment, for JSON-LD."""
    return escape(Markup(html).striptags()).unescape()
