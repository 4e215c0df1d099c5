"""Validation of the location table: raw rows -> typed Location records, or every problem at once.

Errors stop the build before anything is written; warnings are carried into the build report.
Each problem names the file, the spreadsheet row and the column. Names must give a usable,
distinct URL part (a slug): two towns of one state whose slugs collide are an error naming both
rows, because their pages would overwrite each other. The checks across rows (duplicates, county
spellings, URL-name collisions) are pandas operations on one table of the rows that passed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .geo import ZIP_CODE, ZipRecord, lookup_zips
from .load import RawRow, RawTable
from .names import name_key, url_slug
from .problems import InputError, Problem, Severity

if TYPE_CHECKING:
    import pandas as pd

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
    records = lookup_zips(row.values.get("zip", "") for row in table.rows)
    locations: list[Location] = []
    for row in table.rows:
        location = _validate_row(row, table.file, problems, records)
        if location is not None:
            locations.append(location)
    locations = _cross_row_checks(locations, table.file, problems)
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


def _validate_row(
    row: RawRow, file: str, problems: list[Problem], records: Mapping[str, ZipRecord]
) -> Location | None:
    """The row as a Location, or None (with its problems reported) when it has an error or no
    ZIP from the database; `records` holds the database's records of the table's ZIPs."""
    values = row.values
    if not any(values.values()):
        problems.append(
            Problem(file, "blank row skipped", row=row.number, severity=Severity.WARNING)
        )
        return None
    errors = 0

    def report(column: str, message: str, severity: Severity = Severity.ERROR) -> None:
        nonlocal errors
        errors += severity is Severity.ERROR
        problems.append(Problem(file, message, row=row.number, column=column, severity=severity))

    zip_code = values.get("zip", "")
    state = values.get("state", "").upper()
    town = _clean_name(values.get("town", ""), "town", report)
    county = _clean_name(values.get("county", ""), "county", report)
    place_type = values.get("type", "").lower() or "town"
    if place_type not in PLACE_TYPES:
        report("type", f"'{_show(values['type'])}' is not a place type; use town or neighborhood")
    _check_state(state, values.get("state", ""), report)
    record = _check_zip(zip_code, state, report, records)
    if record is not None:
        town, county = _fill_from_database(town, county, record, report)
        _compare_with_database(town, county, place_type, record, report)
    else:
        _require_names(town, county, report)
    if errors or record is None:
        return None
    return Location(row.number, zip_code, town, county, state, place_type, record)


def _require_names(town: str, county: str, report) -> None:
    """Without a usable ZIP, an empty town or county cannot be filled in from the database."""
    for column, value in (("town", town), ("county", county)):
        if not value:
            report(column, "is empty, and there is no valid ZIP to fill it in from")


def _clean_name(value: str, column: str, report) -> str:
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    # Printable text has no control (C*) characters; otherwise look at each character.
    if not text.isprintable() and any(unicodedata.category(ch).startswith("C") for ch in text):
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


def _check_zip(
    zip_code: str, state: str, report, records: Mapping[str, ZipRecord]
) -> ZipRecord | None:
    if not zip_code:
        report("zip", "is empty")
        return None
    if not ZIP_CODE.fullmatch(zip_code):
        report("zip", f"'{_show(zip_code)}' is not a 5-digit ZIP code{_zip_hint(zip_code)}")
        return None
    record = records.get(zip_code)
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
    if place_type == "town" and not _is_postal_name(town, record):
        report(
            "town",
            f"'{town}' but the ZIP database's city for {record.zip} is "
            f"'{record.city}' (use type neighborhood for a place inside a city)",
            Severity.WARNING,
        )


def _is_postal_name(town: str, record: ZipRecord) -> bool:
    """True when the database names the ZIP's place `town` (as its city or an acceptable one)."""
    key = name_key(town)
    return key == name_key(record.city) or key in map(name_key, record.acceptable_cities)


# Cross-row checks, on one pandas table of the rows that passed the per-row checks. Its index is
# each row's position in the list of valid Locations; every text column holds str (ZIPs stay
# text). pandas is imported when first needed: the site checks (validate, audit) never need it.


def _cross_row_checks(
    locations: list[Location], file: str, problems: list[Problem]
) -> list[Location]:
    """Drop duplicate rows, unify county spellings and check URL names; problems in row order."""
    if not locations:
        return []
    frame = _location_frame(locations)
    frame = _drop_duplicates(frame, file, problems)
    frame = _unify_county_spellings(frame, file, problems)
    problems.extend(_check_url_names(frame, file))
    return _back_to_locations(frame, locations)


def _location_frame(locations: list[Location]) -> pd.DataFrame:
    import pandas as pd

    columns = ("zip", "town", "county", "state")
    values = zip(*map(attrgetter(*columns), locations), strict=True)
    frame = pd.DataFrame(
        {c: pd.array(v, dtype="string") for c, v in zip(columns, values, strict=True)}
    )
    frame["row"] = [loc.row for loc in locations]
    frame["town_key"] = _per_distinct(frame["town"], name_key)
    frame["county_key"] = _per_distinct(frame["county"], name_key)
    return frame


def _per_distinct(values: pd.Series, function: Callable[[str], str]) -> pd.Series:
    """`function` of every value, called once per distinct value (names repeat across ZIPs)."""
    return values.map({v: function(v) for v in values.unique().tolist()}).astype("string")


def _records(frame: pd.DataFrame, *columns: str) -> Iterator[tuple[Any, ...]]:
    """The rows of `columns` as tuples of plain Python values (int, str), in frame order."""
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def _back_to_locations(frame: pd.DataFrame, locations: list[Location]) -> list[Location]:
    kept = [locations[i] for i in frame.index.tolist()]
    return [
        loc if loc.county == county else replace(loc, county=county)
        for loc, county in zip(kept, frame["county"].tolist(), strict=True)
    ]


def _drop_duplicates(frame: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame:
    """A second row with the ZIP, town (by name_key) and state of an earlier one is skipped."""
    key = ["zip", "town_key", "state"]
    duplicate = frame.duplicated(key)
    first_row = frame.groupby(key, sort=False)["row"].transform("first")
    skipped = frame.assign(first_row=first_row)[duplicate]
    for row, zip_code, town, state, first in _records(
        skipped, "row", "zip", "town", "state", "first_row"
    ):
        problems.append(
            Problem(
                file,
                f"duplicate of row {first} ({zip_code} {town}, {state}); skipped",
                row=row,
                severity=Severity.WARNING,
            )
        )
    return frame[~duplicate]


def _unify_county_spellings(
    frame: pd.DataFrame, file: str, problems: list[Problem]
) -> pd.DataFrame:
    """One county written two ways ('Fairfax County', 'fairfax county') gets its first spelling."""
    first = frame.groupby(["state", "county_key"], sort=False)[["county", "row"]].transform("first")
    differs = (frame["county"] != first["county"]).to_numpy(dtype=bool)
    respelled = frame.assign(first=first["county"], first_row=first["row"])[differs]
    for row, county, spelling, first_row in _records(
        respelled, "row", "county", "first", "first_row"
    ):
        problems.append(
            Problem(
                file,
                f"'{county}' is spelled '{spelling}' in row {first_row}; using '{spelling}'",
                row=row,
                column="county",
                severity=Severity.WARNING,
            )
        )
    return frame.assign(county=first["county"])


def _check_url_names(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Every town and county name must give a non-empty, short slug that no other town (or
    county) of its state shares. A town and a county with one slug (Carson City, NV) are fine
    unless the URL patterns put them in one folder: the plan checks that."""
    names = _distinct_names(frame)
    names["slug"] = _per_distinct(names["name"], url_slug)
    length = names["slug"].str.len()
    usable = names[(length > 0) & (length <= MAX_SLUG_LENGTH)]
    key = ["column", "state", "slug"]
    owners = usable.groupby(key, sort=False)[["name", "row"]].transform("first")
    clashes = owners[usable.duplicated(key)].astype({"row": "Int64"})
    names = names.join(clashes.add_prefix("owner_"))
    flagged = ~names.index.isin(usable.index) | names["owner_row"].notna().to_numpy()
    return [
        Problem(file, _url_name_message(*record), row=record[0], column=record[1])
        for record in _records(
            names[flagged], "row", "column", "name", "state", "slug", "owner_name", "owner_row"
        )
    ]


def _distinct_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Each (column, name, state) once, at its first row, in row order (town before county:
    melt lists every town before every county, and the sort by row is stable)."""
    names = frame.melt(
        id_vars=["row", "state"],
        value_vars=["town", "county"],
        var_name="column",
        value_name="name",
    )
    names = names.drop_duplicates(["column", "name", "state"])
    return names.sort_values("row", kind="stable").reset_index(drop=True)


def _url_name_message(
    row: int, column: str, name: str, state: str, slug: str, owner: Any, owner_row: Any
) -> str:
    if not slug:
        return f"'{name}' has no letters or digits usable in a web address"
    if len(slug) > MAX_SLUG_LENGTH:
        return (
            f"'{name}' makes a web address part {len(slug)} characters long; "
            f"at most {MAX_SLUG_LENGTH} are allowed"
        )
    return (
        f"'{name}' and {column} '{owner}' in row {owner_row} would both have the web "
        f"address part '{slug}' in {state}; use one spelling or distinct names"
    )
