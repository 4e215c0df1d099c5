"""Site settings: the one TOML file that says what the seed does not (base URL, optional facts).

Every setting is declared once, typed, with its default; loading collects every problem with
its location before failing, and an unknown key is an error rather than silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .problems import InputError, Problem, Severity

PLACEHOLDER_HOSTS = ("example.com", "example.org", "example.net", "localhost")
URL_FIELDS = {
    "town": ("state", "town"),
    "county": ("state", "county"),
    "state": ("state",),
    "topic": ("topic",),
}
SIMILAR_ACTIONS = ("fail", "noindex", "merge", "warn")


@dataclass(frozen=True)
class ClinicSettings:
    """Facts about the clinic. Empty strings mean 'not known': they never reach a page."""

    name: str = "NOVA Health Recovery"
    phone: str = "703-844-0184"
    city: str = "Fairfax"
    state: str = "VA"
    email: str = ""
    street_address: str = ""
    postal_code: str = ""
    opening_hours: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ReviewSettings:
    """Who medically reviewed the copy, and when; nothing is shown until both are set."""

    reviewer_name: str = ""
    reviewer_credentials: str = ""
    reviewed_on: str = ""


@dataclass(frozen=True)
class UrlSettings:
    """URL patterns per page kind. A pattern ending in '/' is written as 'index.html' inside it."""

    town: str = "/ketamine-infusion/{state}/{town}/"
    county: str = "/ketamine-infusion/{state}/counties/{county}/"
    state: str = "/ketamine-infusion/{state}/"
    topic: str = "/ketamine/{topic}/"


@dataclass(frozen=True)
class QualitySettings:
    """The uniqueness gate over town pages' main text."""

    similarity_threshold: float = 0.6
    on_similar: str = "fail"
    nearest_towns: int = 8


@dataclass(frozen=True)
class SitemapSettings:
    gzip: bool = False
    max_urls: int = 50_000


@dataclass(frozen=True)
class Settings:
    base_url: str = "https://www.example.com"
    language: str = "en-US"
    clinic: ClinicSettings = field(default_factory=ClinicSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    urls: UrlSettings = field(default_factory=UrlSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    sitemap: SitemapSettings = field(default_factory=SitemapSettings)

    @property
    def site_root(self) -> str:
        """The base URL with exactly one trailing slash."""
        return self.base_url.rstrip("/") + "/"

    @property
    def base_path(self) -> str:
        """The path part of the base URL, e.g. '/' or '/clinic/'."""
        without_scheme = self.site_root.split("://", 1)[-1]
        return "/" + without_scheme.split("/", 1)[1] if "/" in without_scheme else "/"

    def has_placeholder_base_url(self) -> bool:
        host = self.site_root.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
        return any(host == h or host.endswith("." + h) for h in PLACEHOLDER_HOSTS)


SECTIONS = {
    "clinic": ClinicSettings,
    "review": ReviewSettings,
    "urls": UrlSettings,
    "quality": QualitySettings,
    "sitemap": SitemapSettings,
}


def load_settings(path: Path | None) -> Settings:
    """Read settings from TOML (defaults when path is None); raise InputError on any problem."""
    if path is None:
        return Settings()
    name = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError([Problem(name, "settings file not found")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(name, f"not valid TOML: {error}")]) from None
    problems: list[Problem] = []
    settings = _build(raw, name, problems)
    problems.extend(_check(settings, name))
    if any(p.severity is Severity.ERROR for p in problems):
        raise InputError(problems)
    return settings


def _build(raw: dict[str, Any], name: str, problems: list[Problem]) -> Settings:
    top: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SECTIONS:
            if isinstance(value, dict):
                top[key] = _section(SECTIONS[key], value, f"{key}.", name, problems)
            else:
                problems.append(Problem(name, f"[{key}] must be a table", column=key))
        else:
            top[key] = value
    return _section(Settings, top, "", name, problems)


def _section(cls: type, values: dict[str, Any], prefix: str, name: str, problems: list[Problem]):
    known = {f.name: f for f in fields(cls)}
    accepted: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            expected = ", ".join(sorted(known))
            problems.append(
                Problem(name, f"unknown setting (expected one of: {expected})", column=prefix + key)
            )
            continue
        if key in SECTIONS and not prefix:
            accepted[key] = value
            continue
        default = getattr(cls(), key)
        if not _same_type(default, value, known[key].type):
            problems.append(
                Problem(
                    name,
                    f"expected {_type_name(known[key].type)}, got {value!r}",
                    column=prefix + key,
                )
            )
            continue
        accepted[key] = float(value) if isinstance(default, float) else value
    return cls(**accepted)


def _same_type(default: Any, value: Any, annotation: Any) -> bool:
    if "float" in str(annotation):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    for word, label in (
        ("float", "a number"),
        ("bool", "true or false"),
        ("int", "a whole number"),
    ):
        if word in text:
            return label
    return "a string"


def _check(settings: Settings, name: str) -> list[Problem]:
    problems = []
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?", settings.base_url):
        problems.append(
            Problem(
                name,
                "must be an absolute http(s) URL such as https://www.example.org",
                column="base_url",
            )
        )
    for kind, allowed in URL_FIELDS.items():
        pattern = getattr(settings.urls, kind)
        problems.extend(_check_url_pattern(pattern, allowed, f"urls.{kind}", name))
    if not 0 < settings.quality.similarity_threshold <= 1:
        problems.append(
            Problem(name, "must be between 0 and 1", column="quality.similarity_threshold")
        )
    if settings.quality.on_similar not in SIMILAR_ACTIONS:
        problems.append(
            Problem(
                name, f"must be one of {', '.join(SIMILAR_ACTIONS)}", column="quality.on_similar"
            )
        )
    if settings.review.reviewed_on and not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}", settings.review.reviewed_on
    ):
        problems.append(
            Problem(name, "must be a date like 2026-11-26", column="review.reviewed_on")
        )
    if not 1 <= settings.sitemap.max_urls <= 50_000:
        problems.append(Problem(name, "must be between 1 and 50000", column="sitemap.max_urls"))
    return problems


def _check_url_pattern(
    pattern: str, allowed: tuple[str, ...], column: str, name: str
) -> list[Problem]:
    used = re.findall(r"{(\w*)}", pattern)
    problems = []
    unknown = sorted(set(used) - set(allowed))
    if unknown:
        problems.append(
            Problem(
                name,
                f"unknown placeholder(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}",
                column=column,
            )
        )
    if allowed[-1] not in used:
        problems.append(Problem(name, f"must contain {{{allowed[-1]}}}", column=column))
    if not pattern.startswith("/") or not (pattern.endswith("/") or pattern.endswith(".html")):
        problems.append(
            Problem(name, "must start with '/' and end with '/' or '.html'", column=column)
        )
    if ".." in pattern or "//" in pattern:
        problems.append(Problem(name, "must not contain '..' or '//'", column=column))
    return problems
