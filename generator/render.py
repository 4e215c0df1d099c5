"""Rendering: one Page + the SiteContext -> the bytes of one HTML file, through Jinja2.

Autoescape is on for every template and an undefined variable is an error. Rendering is a pure
function: the same page and context always give the same bytes.

Templates in `site-wide/` (the footer, the call to action, ...) can use `site` but not `page`:
they are the same on every page, so each is rendered once per build and reaches the page
templates as `site_wide.<name>` (already escaped HTML).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from .pages import Page, SiteContext
from .problems import InputError, Problem

SITE_WIDE_FOLDER = "site-wide"


def make_environment(templates_dir: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build
        cache_size=-1,  # keep every template: a plain dict, cheaper to look up than an LRU cache
    )
    environment.filters["tel"] = tel_uri_number
    return environment


@lru_cache(maxsize=64)  # the clinic's one number, filtered on every page
def tel_uri_number(phone: str) -> str:
    """'703-844-0184' -> '+17038440184' for a tel: link (US numbers)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


class Renderer:
    """Renders the pages of one build: one environment, site-wide parts rendered once."""

    def __init__(self, templates_dir: Path, site: SiteContext) -> None:
        self.environment = make_environment(templates_dir)
        self.site = site
        self.site_wide = {
            Path(name).stem: Markup(self._render(name, site=site).rstrip("\n"))
            for name in self.environment.list_templates()
            if name.startswith(f"{SITE_WIDE_FOLDER}/") and name.endswith(".html")
        }

    def render(self, page: Page) -> bytes:
        """The page's HTML as UTF-8 bytes; a template error is an InputError naming the
        template."""
        html = self._render(page.template, page=page, site=self.site, site_wide=self.site_wide)
        return html.encode("utf-8")

    def _render(self, name: str, **variables: object) -> str:
        try:
            return self.environment.get_template(name).render(**variables)
        except TemplateError as error:
            where = getattr(error, "filename", None) or name
            line = getattr(error, "lineno", None)
            page = variables.get("page")
            subject = f"/{page.path}" if isinstance(page, Page) else f"the site-wide part {name}"
            raise InputError(
                [
                    Problem(
                        str(where),
                        f"template error while rendering {subject}: {error.message or error}",
                        row=line,
                    )
                ]
            ) from None
