"""Rendering: one Page + the SiteContext -> the bytes of one HTML file, through Jinja2.

Autoescape is on for every template and an undefined variable is an error. `render_page` is a
pure function: the same page and context always give the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from .pages import Page, SiteContext
from .problems import InputError, Problem


def make_environment(templates_dir: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["tel"] = tel_uri_number
    return environment


def tel_uri_number(phone: str) -> str:
    """'703-844-0184' -> '+17038440184' for a tel: link (US numbers)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


def render_page(page: Page, site: SiteContext, environment: Environment) -> bytes:
    """The page's HTML as UTF-8 bytes; a template error is an InputError naming the template."""
    try:
        template = environment.get_template(page.template)
        html = template.render(page=page, site=site)
    except TemplateError as error:
        name = getattr(error, "filename", None) or page.template
        line = getattr(error, "lineno", None)
        raise InputError(
            [
                Problem(
                    str(name),
                    f"template error while rendering /{page.path}: {error.message or error}",
                    row=line,
                )
            ]
        ) from None
    return html.encode("utf-8")
