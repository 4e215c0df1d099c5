"""Problems found in the inputs or in the built output, shared by every stage that reports them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something wrong with an input file, located as precisely as the input allows."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row, self.column) if p is not None)
        prefix = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}: {prefix}{self.message}"


@dataclass(frozen=True)
class Finding:
    """The verdict of one output check on one built file (a page or a sitemap)."""

    rule: str
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.path}: {self.severity.value}: [{self.rule}] {self.message}"


class InputError(Exception):
    """Raised when inputs have errors; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the inputs")
        self.problems = problems
