"""Reading the location table: bytes -> text -> rows of strings. No decisions about content.

Every column is read as text (a ZIP such as 02134 stays 02134). The file may be UTF-8 with or
without a byte-order mark, with CRLF or LF line ends; a Windows-1252 export is decoded as such
with a warning; anything else is refused with a message saying how to re-save it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .problems import InputError, Problem, Severity

RESAVE_HINT = "re-save it as 'CSV UTF-8 (Comma delimited)' from your spreadsheet program"


@dataclass(frozen=True)
class RawRow:
    """One data row; 'number' is the row as a spreadsheet shows it (the header is row 1)."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class RawTable:
    file: str
    columns: tuple[str, ...]
    rows: tuple[RawRow, ...]
    problems: tuple[Problem, ...] = field(default=())


def read_table(path: Path) -> RawTable:
    """Read a CSV file into rows of stripped strings; raise InputError if it cannot be read."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(name, "file not found")]) from None
    except OSError as error:
        raise InputError([Problem(name, f"cannot be read: {error.strerror}")]) from None
    text, problems = decode(data, name)
    if not text.strip():
        raise InputError(
            [
                Problem(
                    name,
                    "the file is empty; it needs a header row "
                    "(zip,town,county,state) and at least one town",
                )
            ]
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, csv.Error) as error:
        raise InputError([Problem(name, f"not a readable CSV file: {error}")]) from None
    columns = tuple(str(c).strip().lower() for c in frame.columns)
    rows = tuple(
        RawRow(
            number=index + 2,
            values={col: str(value).strip() for col, value in zip(columns, record, strict=True)},
        )
        for index, record in enumerate(frame.itertuples(index=False, name=None))
    )
    return RawTable(file=name, columns=columns, rows=rows, problems=tuple(problems))


def decode(data: bytes, name: str) -> tuple[str, list[Problem]]:
    """Decode UTF-8 (BOM optional) or, failing that, Windows-1252 with a warning."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        utf8_error = error
    if b"\x00" in data:
        raise InputError([Problem(name, f"looks like UTF-16 or a binary file; {RESAVE_HINT}")])
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    name,
                    f"is not UTF-8 (byte 0x{data[utf8_error.start]:02x}); {RESAVE_HINT}",
                    row=line,
                )
            ]
        ) from None
    line = data[: utf8_error.start].count(b"\n") + 1
    return text, [
        Problem(
            name,
            "is not UTF-8; read it as Windows-1252 (a common spreadsheet "
            f"export); check accented names, or {RESAVE_HINT}",
            row=line,
            severity=Severity.WARNING,
        )
    ]
