"""Validation of the location table: raw rows -> typed Location records, or every problem at once.

Errors stop the build before anything is written; warnings are carried into the build report.
Each problem names the file, the spreadsheet row and the column. Names must give a usable,
distinct URL part (a slug): two towns of one state whose slugs collide are an error naming both
rows, because their pages would overwrite each other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from slugify import slugify

from .geo import ZipRecord, lookup_zip
from .load import RawRow, RawTable
from .problems import InputError, Problem, Severity

REQUIRED_COLUMNS = ("zip", "town", "county", "state")
OPTIONAL_COLUMNS = ("type",)
PLACE_TYPES = ("town", "neighborhood")
MAX_NAME_LENGTH = 100
MAX_SLUG_LENGTH = 100
USPS_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI AA AE AP".split()
)
STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "Washington, DC",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
}


@dataclass(frozen=True)
class Location:
    """One validated row: a ZIP code served under a town (or neighbourhood) name."""

    row: int
    zip: str
    town: str
    county: str
    state: str
    place_type: str
    record: ZipRecord


@dataclass(frozen=True)
class ValidatedTable:
    file: str
    locations: tuple[Location, ...]
    warnings: tuple[Problem, ...]


def validate_table(table: RawTable) -> ValidatedTable:
    """Check every row; raise InputError listing every error (and warning) if any error is found."""
    problems: list[Problem] = list(table.problems)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError([*problems, _missing_columns(table, missing)])
    problems.extend(_unknown_columns(table))
    locations: list[Location] = []
    for row in table.rows:
        location = _validate_row(row, table.file, problems)
        if location is not None:
            locations.append(location)
    locations = _drop_duplicates(locations, table.file, problems)
    locations = _unify_county_spellings(locations, table.file, problems)
    problems.extend(_check_url_names(locations, table.file))
    if not locations and not _has_error(problems):
        problems.append(
            Problem(table.file, "has a header row but no towns; add one row per ZIP code")
        )
    if _has_error(problems):
        raise InputError(problems)
    return ValidatedTable(table.file, tuple(locations), tuple(problems))


def _has_error(problems: list[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)


def _missing_columns(table: RawTable, missing: list[str]) -> Problem:
    found = ", ".join(table.columns) or "nothing"
    return Problem(
        table.file,
        f"missing required column(s): {', '.join(missing)}; found: {found}; "
        "the header row must be: zip,town,county,state (optional: type)",
        row=table.header_row,
    )


def _unknown_columns(table: RawTable) -> list[Problem]:
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    return [
        Problem(
            table.file,
            "unknown column is ignored",
            row=table.header_row,
            column=c,
            severity=Severity.WARNING,
        )
        for c in table.columns
        if c not in known
    ]


def _validate_row(row: RawRow, file: str, problems: list[Problem]) -> Location | None:
    values = row.values
    if not any(values.values()):
        problems.append(
            Problem(file, "blank row skipped", row=row.number, severity=Severity.WARNING)
        )
        return None

    def report(column: str, message: str, severity: Severity = Severity.ERROR) -> None:
        problems.append(Problem(file, message, row=row.number, column=column, severity=severity))

    errors_before = sum(p.severity is Severity.ERROR for p in problems)
    zip_code = values.get("zip", "")
    state = values.get("state", "").upper()
    town = _clean_name(values.get("town", ""), "town", report)
    county = _clean_name(values.get("county", ""), "county", report)
    place_type = values.get("type", "").lower() or "town"
    if place_type not in PLACE_TYPES:
        report("type", f"'{_show(values['type'])}' is not a place type; use town or neighborhood")
    _check_state(state, values.get("state", ""), report)
    record = _check_zip(zip_code, state, report)
    if record is not None:
        town, county = _fill_from_database(town, county, record, report)
        _compare_with_database(town, county, place_type, record, report)
    else:
        _require_names(town, county, report)
    if sum(p.severity is Severity.ERROR for p in problems) > errors_before or record is None:
        return None
    return Location(row.number, zip_code, town, county, state, place_type, record)


def _require_names(town: str, county: str, report) -> None:
    """Without a usable ZIP, an empty town or county cannot be filled in from the database."""
    for column, value in (("town", town), ("county", county)):
        if not value:
            report(column, "is empty, and there is no valid ZIP to fill it in from")


def _clean_name(value: str, column: str, report) -> str:
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        report(column, f"'{_show(text)}' contains control or invisible characters")
    elif len(text) > MAX_NAME_LENGTH:
        report(column, f"is {len(text)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    else:
        garbled = _double_encoded(text)
        if garbled:
            report(
                column,
                f"'{text}' looks garbled, probably '{garbled}' saved in the wrong encoding; "
                "correct the name",
            )
    return text


def _double_encoded(text: str) -> str | None:
    """'CafÃ©' -> 'Café': UTF-8 bytes that were read as Windows-1252 and saved again."""
    if text.isascii():
        return None
    try:
        repaired = text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return None
    return repaired if repaired != text else None


def _show(value: str) -> str:
    """A cell's value for a message, with invisible characters written as \\uXXXX."""
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch).startswith(("C", "Z")) and ch != " " else ch
        for ch in value
    )


def _check_state(state: str, original: str, report) -> None:
    if not state:
        report("state", "is empty; use a two-letter USPS code such as VA")
    elif state not in USPS_STATES:
        letters = re.sub(r"[^A-Za-z]", "", original).upper()
        code = letters if letters in USPS_STATES else None
        code = code or next(
            (c for c, n in STATE_NAMES.items() if n.casefold() == original.casefold()), None
        )
        hint = f"write {code}" if code else "use a two-letter code such as VA, MD or DC"
        report("state", f"'{_show(original)}' is not a USPS state code; {hint}")


def _check_zip(zip_code: str, state: str, report) -> ZipRecord | None:
    if not zip_code:
        report("zip", "is empty")
        return None
    if not re.fullmatch(r"[0-9]{5}", zip_code):
        report("zip", f"'{_show(zip_code)}' is not a 5-digit ZIP code{_zip_hint(zip_code)}")
        return None
    record = lookup_zip(zip_code)
    if record is None:
        report("zip", f"'{zip_code}' is not in the US ZIP code database")
        return None
    if state in USPS_STATES and record.state != state:
        report("state", f"ZIP {zip_code} is in {record.state}, not {state}")
    return record


def _zip_hint(zip_code: str) -> str:
    if re.fullmatch(r"[0-9]{3,4}", zip_code):
        return (
            " (it looks like a ZIP that lost its leading zero: format the column as text "
            f"and write {zip_code.zfill(5)})"
        )
    if re.fullmatch(r"[0-9]{5}-?[0-9]{4}", zip_code):
        return f" (write the 5-digit ZIP {zip_code[:5]}, without the +4 part)"
    if re.fullmatch(r"[0-9]{3,5}\.0*", zip_code):
        return " (it was saved as a number: format the column as text)"
    return ""


def _fill_from_database(town: str, county: str, record: ZipRecord, report) -> tuple[str, str]:
    if not town:
        town = record.city
        report("town", f"was empty; filled in from ZIP {record.zip}: {town}", Severity.WARNING)
    if not county:
        county = record.county
        report("county", f"was empty; filled in from ZIP {record.zip}: {county}", Severity.WARNING)
    return town, county


def _compare_with_database(
    town: str, county: str, place_type: str, record: ZipRecord, report
) -> None:
    if name_key(county) != name_key(record.county):
        report(
            "county",
            f"'{county}' but the ZIP database puts {record.zip} in '{record.county}'",
            Severity.WARNING,
        )
    postal_names = {name_key(record.city), *map(name_key, record.acceptable_cities)}
    if place_type == "town" and name_key(town) not in postal_names:
        report(
            "town",
            f"'{town}' but the ZIP database's city for {record.zip} is "
            f"'{record.city}' (use type neighborhood for a place inside a city)",
            Severity.WARNING,
        )


def name_key(name: str) -> str:
    """A spelling-insensitive key: 'Mc Lean' and 'McLean', 'Falls Church city' and '... City'."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKD", name).casefold())


def _drop_duplicates(
    locations: list[Location], file: str, problems: list[Problem]
) -> list[Location]:
    seen: dict[tuple[str, str, str], int] = {}
    unique = []
    for location in locations:
        key = (location.zip, name_key(location.town), location.state)
        if key in seen:
            problems.append(
                Problem(
                    file,
                    f"duplicate of row {seen[key]} "
                    f"({location.zip} {location.town}, {location.state}); skipped",
                    row=location.row,
                    severity=Severity.WARNING,
                )
            )
            continue
        seen[key] = location.row
        unique.append(location)
    return unique


def _unify_county_spellings(
    locations: list[Location], file: str, problems: list[Problem]
) -> list[Location]:
    """One county written two ways ('Fairfax County', 'fairfax county') gets its first spelling."""
    first_spelling: dict[tuple[str, str], Location] = {}
    unified = []
    for location in locations:
        first = first_spelling.setdefault((location.state, name_key(location.county)), location)
        if first.county != location.county:
            problems.append(
                Problem(
                    file,
                    f"'{location.county}' is spelled '{first.county}' in row {first.row}; "
                    f"using '{first.county}'",
                    row=location.row,
                    column="county",
                    severity=Severity.WARNING,
                )
            )
            location = replace(location, county=first.county)
        unified.append(location)
    return unified


@dataclass(frozen=True)
class _Named:
    """A town or county name of one state, first seen in `row`."""

    column: str
    name: str
    state: str
    row: int


def _check_url_names(locations: list[Location], file: str) -> list[Problem]:
    """Every town and county name must give a non-empty, short slug that no other town (or
    county) of its state shares. A town and a county with one slug (Carson City, NV) are fine
    unless the URL patterns put them in one folder: the plan checks that."""
    problems = []
    owners: dict[tuple[str, str, str], _Named] = {}
    for named in _distinct_names(locations):
        slug = slugify(named.name)
        if not slug:
            message = f"'{named.name}' has no letters or digits usable in a web address"
        elif len(slug) > MAX_SLUG_LENGTH:
            message = (
                f"'{named.name}' makes a web address part {len(slug)} characters long; "
                f"at most {MAX_SLUG_LENGTH} are allowed"
            )
        elif (named.column, named.state, slug) in owners:
            other = owners[(named.column, named.state, slug)]
            message = (
                f"'{named.name}' and {other.column} '{other.name}' in row {other.row} would "
                f"both have the web address part '{slug}' in {named.state}; use one spelling "
                "or distinct names"
            )
        else:
            owners[(named.column, named.state, slug)] = named
            continue
        problems.append(Problem(file, message, row=named.row, column=named.column))
    return problems


def _distinct_names(locations: list[Location]) -> list[_Named]:
    """Each (column, name, state) once, at its first row, in row order."""
    first: dict[tuple[str, str, str], _Named] = {}
    for location in locations:
        for column, name in (("town", location.town), ("county", location.county)):
            key = (column, name, location.state)
            if key not in first:
                first[key] = _Named(column, name, location.state, location.row)
    return sorted(first.values(), key=lambda n: (n.row, n.column != "town"))
