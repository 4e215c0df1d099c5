"""Reading the location table: bytes -> text -> rows of strings. No decisions about content.

Every cell is read as text (a ZIP such as 02134 stays 02134). The file may be UTF-8 with or
without a byte-order mark, with CRLF, LF or CR line ends. A Windows-1252 export (the usual
"CSV (Comma delimited)" from Excel) is decoded as such with a warning naming the accented
cells; UTF-16 and anything else is refused with a message saying how to re-save the file.
Rows whose cells do not line up with the header, and quotes that never close, are errors.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .problems import InputError, Problem, Severity

RESAVE_HINT = "re-save it as 'CSV UTF-8 (Comma delimited)' from your spreadsheet program"
UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# What a Windows-1252 export of US place names may hold beyond ASCII: Latin letters with
# accents, curly quotes, dashes and no-break spaces. Anything else means a wrong guess.
CP1252_PLAUSIBLE = re.compile(
    r"[\u00a0\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d]"
)
SHOWN_CELLS = 3


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
    header_row: int = 1


def read_table(path: Path) -> RawTable:
    """Read a CSV file into rows of stripped strings; raise InputError if it cannot be read."""
    name = str(path)
    text, problems = decode(_read_bytes(path, name), name)
    if not text.strip():
        raise InputError(
            [
                Problem(
                    name,
                    "the file is empty; it needs the header row zip,town,county,state "
                    "and one row per ZIP code",
                )
            ]
        )
    records = _records(text, name)
    start = next(i for i, (_, cells) in enumerate(records) if any(c.strip() for c in cells))
    header_row, header = records[start]
    _check_delimiter(header, name, header_row)
    columns, problems_in_header = _columns(header, name, header_row)
    problems += problems_in_header
    header = _Header(columns)
    rows = []
    for number, cells in records[start + 1 :]:
        row = _row(number, cells, header, name, problems)
        if row is not None:
            rows.append(row)
    named = tuple(c for c in columns if c)
    return RawTable(name, named, tuple(rows), tuple(problems), header_row)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(name, "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(name, "is a folder, not a CSV file")]) from None
    except OSError as error:
        raise InputError([Problem(name, f"cannot be read: {error.strerror}")]) from None


def decode(data: bytes, name: str) -> tuple[str, list[Problem]]:
    """Decode UTF-8 (BOM optional) or, failing that, Windows-1252 with a warning."""
    if data.startswith(UTF16_BOMS):
        raise InputError([Problem(name, f"is saved as UTF-16 ('Unicode Text'); {RESAVE_HINT}")])
    if b"\x00" in data:
        raise InputError(
            [Problem(name, f"looks like UTF-16 or a binary file, not text; {RESAVE_HINT}")]
        )
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        bad_at = error.start
    row = data[:bad_at].count(b"\n") + 1
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    odd = [ch for ch in text if ord(ch) > 127 and not CP1252_PLAUSIBLE.match(ch)]
    if not text or odd:
        raise InputError(
            [
                Problem(
                    name,
                    f"is not UTF-8 (byte 0x{data[bad_at]:02x} in line {row}) and not a "
                    f"Windows-1252 export either; {RESAVE_HINT}",
                )
            ]
        )
    return text, [_cp1252_warning(text, name)]


def _cp1252_warning(text: str, name: str) -> Problem:
    cells = []
    for number, line in enumerate(text.splitlines(), start=1):
        cells += [f"'{c.strip()}' (line {number})" for c in line.split(",") if not c.isascii()]
    shown = ", ".join(cells[:SHOWN_CELLS]) + (", ..." if len(cells) > SHOWN_CELLS else "")
    return Problem(
        name,
        f"is not UTF-8; read it as Windows-1252 (Excel's 'CSV (Comma delimited)'): {shown}; "
        f"check these names, and to avoid this warning {RESAVE_HINT}",
        severity=Severity.WARNING,
    )


def _records(text: str, name: str) -> list[tuple[int, list[str]]]:
    """(row number, cells) for every record; a quote that never closes is an error."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    while True:
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as error:
            message = _csv_error(str(error), start_line)
            raise InputError([Problem(name, message, row=len(records) + 1)]) from None
        records.append((len(records) + 1, cells))


def _csv_error(error: str, line: int) -> str:
    if "field larger than field limit" in error:
        return f"a cell in line {line} is longer than {csv.field_size_limit()} characters"
    return (
        f'a double quote (") in line {line} is not closed, or is followed by more text in the '
        "same cell; a cell that starts with a quote must end with one, and a quote inside a "
        'cell is written ""'
    )


def _check_delimiter(header: list[str], name: str, row: int) -> None:
    if len(header) == 1:
        for separator, label in ((";", "semicolons"), ("\t", "tabs")):
            if separator in header[0]:
                raise InputError(
                    [
                        Problem(
                            name,
                            f"the columns are separated by {label}, not commas; {RESAVE_HINT}",
                            row=row,
                        )
                    ]
                )


def _columns(header: list[str], name: str, row: int) -> tuple[tuple[str, ...], list[Problem]]:
    columns = tuple(" ".join(c.replace("\ufeff", "").split()).lower() for c in header)
    problems = []
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            problems.append(
                Problem(name, "appears twice in the header row", row=row, column=column)
            )
        seen.add(column)
    return columns, problems


class _Header:
    """The header's column names (empty for an unnamed column), worked out once for all rows."""

    def __init__(self, columns: tuple[str, ...]):
        self.columns = columns
        self.width = max((i + 1 for i, c in enumerate(columns) if c), default=0)
        # Every column named, once: a full row's cells map one to one onto the columns.
        self.plain = all(columns) and len(set(columns)) == len(columns)


def _row(
    number: int, cells: list[str], header: _Header, name: str, problems: list[Problem]
) -> RawRow | None:
    """The row's cells by column name, or None (with an error) when they do not line up."""
    cells = [c.strip() for c in cells]
    mismatch = _mismatch(cells, header)
    if mismatch:
        problems.append(Problem(name, mismatch, row=number))
        return None
    columns = header.columns
    if header.plain and len(cells) == len(columns):
        return RawRow(number=number, values=dict(zip(columns, cells, strict=True)))
    values = {column: cell for column, cell in zip(columns, cells, strict=False) if column}
    return RawRow(number=number, values={c: values.get(c, "") for c in columns if c})


def _mismatch(cells: list[str], header: _Header) -> str | None:
    """Why a row's cells do not line up with the named columns, if they do not."""
    width = header.width
    if any(cells[width:]):
        return (
            f"has {len(cells)} cells but the header has {width} columns; a cell holding a "
            "comma must be in double quotes"
        )
    if any(cells) and len(cells) < width:
        missing = ", ".join(c for c in header.columns[len(cells) : width] if c)
        return f"has {len(cells)} cells but the header has {width} columns (no cell for: {missing})"
    return None
