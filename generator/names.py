"""Place names as keys and as URL parts: one definition, used by validation and planning."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from slugify import slugify

APOSTROPHES = [["'", ""], ["\u2019", ""], ["\u02bc", ""]]
NOT_IN_KEY = re.compile(r"[\W_]+")


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """A spelling-insensitive key: 'Mc Lean' and 'McLean', 'Falls Church city' and '... City'."""
    return NOT_IN_KEY.sub("", unicodedata.normalize("NFKD", name).casefold())


@lru_cache(maxsize=200_000)
def url_slug(name: str) -> str:
    """The ASCII URL part of a name: 'St. Mary's' -> 'st-marys', 'Québec' -> 'quebec'."""
    return slugify(name, replacements=APOSTROPHES)
