"""Row validation: ZIPs, states, names and the URL names (slugs) they make, with exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.load import read_table
from generator.problems import InputError, Severity
from generator.validate import ValidatedTable, validate_table

from .conftest import FIXED_EPOCH
from .test_publish import build_site, write_table

HEADER = "zip,town,county,state,type"
FAIRFAX = "22030,Fairfax,Fairfax County,VA,town"
FULL_WIDTH = "\uff12\uff12\uff10\uff13\uff10"  # 22030 in full-width digits


def _table(tmp_path: Path, *rows: str) -> Path:
    return write_table(tmp_path / "t.csv", "\n".join([HEADER, *rows]) + "\n")


def _report(tmp_path: Path, *rows: str) -> list[str]:
    """Every problem as the build prints it, without the file name; [] when it validates."""
    path = _table(tmp_path, *rows)
    try:
        problems = validate_table(read_table(path)).warnings
    except InputError as error:
        problems = tuple(error.problems)
    return [str(p).removeprefix(f"{path}:") for p in problems]


def _valid(tmp_path: Path, *rows: str) -> ValidatedTable:
    return validate_table(read_table(_table(tmp_path, *rows)))


def test_zip_stays_text_with_its_leading_zero(tmp_path: Path) -> None:
    (location,) = _valid(tmp_path, "02134,Allston,Suffolk County,MA,town").locations
    assert location.zip == "02134"
    assert location.record.city == "Allston"


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (FULL_WIDTH, f"'{FULL_WIDTH}' is not a 5-digit ZIP code"),
        (
            "22030.0",
            "'22030.0' is not a 5-digit ZIP code (it was saved as a number: format the "
            "column as text)",
        ),
        (
            "220304410",
            "'220304410' is not a 5-digit ZIP code (write the 5-digit ZIP 22030, "
            "without the +4 part)",
        ),
        ("22 030", "'22 030' is not a 5-digit ZIP code"),
        ("22030\u200b", "'22030\\u200b' is not a 5-digit ZIP code"),
    ],
)
def test_zip_must_be_five_ascii_digits(tmp_path: Path, cell: str, message: str) -> None:
    assert _report(tmp_path, f"{cell},Fairfax,Fairfax County,VA,town") == [f"2:zip: {message}"]


def test_state_is_read_case_insensitively(tmp_path: Path) -> None:
    (location,) = _valid(tmp_path, "22030,Fairfax,Fairfax County,va,Town").locations
    assert (location.state, location.place_type) == ("VA", "town")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "is empty; use a two-letter USPS code such as VA"),
        ("XX", "'XX' is not a USPS state code; use a two-letter code such as VA, MD or DC"),
        ("virginia", "'virginia' is not a USPS state code; write VA"),
        ("V.A.", "'V.A.' is not a USPS state code; write VA"),
    ],
)
def test_state_must_be_a_usps_code(tmp_path: Path, cell: str, message: str) -> None:
    assert _report(tmp_path, f"22030,Fairfax,Fairfax County,{cell},town") == [f"2:state: {message}"]


def test_town_and_county_are_filled_from_the_zip_with_warnings(tmp_path: Path) -> None:
    table = _valid(tmp_path, "22180,,,VA,town")
    (location,) = table.locations
    assert (location.town, location.county) == ("Vienna", "Fairfax County")
    assert [str(p).split(":", 1)[1] for p in table.warnings] == [
        "2:town: warning: was empty; filled in from ZIP 22180: Vienna",
        "2:county: warning: was empty; filled in from ZIP 22180: Fairfax County",
    ]


def test_filled_town_warning_reaches_the_build_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    table = _table(tmp_path, FAIRFAX, "22180,,Fairfax County,VA,town")
    result = build_site(tmp_path / "output", table)
    assert f"{table}:3:town: warning: was empty; filled in from ZIP 22180: Vienna" in (
        result.warnings
    )
    assert any(p.path == "ketamine-infusion/va/vienna/index.html" for p in result.pages)


@pytest.mark.parametrize(
    ("town", "message"),
    [
        ("Fair\x07fax", "2:town: 'Fair\\u0007fax' contains control or invisible characters"),
        ("Fair\u200bfax", "2:town: 'Fair\\u200bfax' contains control or invisible characters"),
        ("x" * 101, "2:town: is 101 characters long; at most 100 are allowed"),
        ("🙂🙂", "2:town: '🙂🙂' has no letters or digits usable in a web address"),
        ("---", "2:town: '---' has no letters or digits usable in a web address"),
        (
            "東" * 40,
            f"2:town: '{'東' * 40}' makes a web address part 199 characters long; at most "
            "100 are allowed",
        ),
        (
            "FairfaxÃ©",
            "2:town: 'FairfaxÃ©' looks garbled, probably 'Fairfaxé' saved in the wrong "
            "encoding; correct the name",
        ),
    ],
    ids=["bell", "zero-width-space", "too-long", "emoji", "dashes", "long-slug", "mojibake"],
)
def test_unusable_town_names(tmp_path: Path, town: str, message: str) -> None:
    assert _report(tmp_path, f"22030,{town},Fairfax County,VA,neighborhood") == [message]


def test_non_latin_names_are_kept_and_transliterated_into_ascii_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    table = _table(tmp_path, FAIRFAX, "22180,Москва,Fairfax County,VA,neighborhood")
    out = tmp_path / "output"
    build_site(out, table)
    page = out / "ketamine-infusion" / "va" / "moskva" / "index.html"
    assert "Москва" in page.read_text(encoding="utf-8")
    assert all(p.relative_to(out).as_posix().isascii() for p in out.rglob("*"))


def test_county_with_no_usable_url_name(tmp_path: Path) -> None:
    assert _report(tmp_path, "22030,Fairfax,???,VA,town") == [
        "2:county: warning: '???' but the ZIP database puts 22030 in 'Fairfax County'",
        "2:county: '???' has no letters or digits usable in a web address",
    ]


def test_town_named_like_a_county_of_its_state_is_valid(tmp_path: Path) -> None:
    # County hubs have their own folder by default; the plan catches URL patterns that would
    # put a town page and a county page on one path (tests/test_plan.py).
    table = _valid(tmp_path, FAIRFAX, "22031,Fairfax County,Fairfax County,VA,neighborhood")
    assert [loc.town for loc in table.locations] == ["Fairfax", "Fairfax County"]


def test_same_slug_in_two_states_is_fine(tmp_path: Path) -> None:
    table = _valid(
        tmp_path,
        "20815,Chevy Chase,Montgomery County,MD,town",
        "20015,Chevy Chase,District of Columbia,DC,neighborhood",
    )
    assert [loc.state for loc in table.locations] == ["MD", "DC"]


def test_towns_differing_only_in_case_collide(tmp_path: Path) -> None:
    assert _report(tmp_path, FAIRFAX, "22031,fairfax,Fairfax County,VA,town") == [
        "3:town: 'fairfax' and town 'Fairfax' in row 2 would both have the web address part "
        "'fairfax' in VA; use one spelling or distinct names"
    ]


def test_county_spellings_are_unified_to_the_first(tmp_path: Path) -> None:
    table = _valid(
        tmp_path, FAIRFAX, "22180,Vienna,Fairfax-County,VA,town", "20170,Herndon,FAIRFAX COUNTY,VA,"
    )
    assert {loc.county for loc in table.locations} == {"Fairfax County"}
    assert [str(p).split(":", 1)[1] for p in table.warnings] == [
        "3:county: warning: 'Fairfax-County' is spelled 'Fairfax County' in row 2; using "
        "'Fairfax County'",
        "4:county: warning: 'FAIRFAX COUNTY' is spelled 'Fairfax County' in row 2; using "
        "'Fairfax County'",
    ]


def test_every_problem_is_reported_at_once_with_row_and_column(tmp_path: Path) -> None:
    path = _table(
        tmp_path,
        "2134,Allston,Suffolk County,MA,town",
        "22030,,Fairfax County,XX,town",
        ",,,,",
        "20814,Bethesda,Montgomery County,MD,village",
        "22030,!!!,Fairfax County,VA,neighborhood",
    )
    with pytest.raises(InputError) as raised:
        validate_table(read_table(path))
    located = [(p.row, p.column, p.severity) for p in raised.value.problems]
    assert located == [
        (2, "zip", Severity.ERROR),
        (3, "state", Severity.ERROR),
        (3, "town", Severity.WARNING),
        (4, None, Severity.WARNING),
        (5, "type", Severity.ERROR),
        (6, "town", Severity.ERROR),
    ]
    assert all(p.file == str(path) and p.message for p in raised.value.problems)


def test_unknown_columns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.csv", f"{HEADER},notes\n{FAIRFAX},call first\n")
    table = validate_table(read_table(path))
    assert [str(p) for p in table.warnings] == [
        f"{path}:1:notes: warning: unknown column is ignored"
    ]


def test_header_problems_name_the_header_row(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.csv", "\nzip,town,state,notes\n22030,Fairfax,VA,x\n")
    with pytest.raises(InputError) as raised:
        validate_table(read_table(path))
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:2: missing required column(s): county; found: zip, town, state, notes; the "
        "header row must be: zip,town,county,state (optional: type)"
    ]


def test_cross_row_problems_come_in_order_duplicates_spellings_url_names(tmp_path: Path) -> None:
    # After the per-row warnings (database county and town differ for the Moscow rows).
    assert _report(
        tmp_path,
        FAIRFAX,
        "22031,Fairfax,fairfax county,VA,town",
        "22030,FAIRFAX,Fairfax County,VA,town",
        "22180,Москва,Москва County,VA,neighborhood",
        "22181,Moskva,Moskva County,VA,neighborhood",
        "22030,Fairfax,FAIRFAX COUNTY,VA,town",
    )[-5:] == [
        "4: warning: duplicate of row 2 (22030 FAIRFAX, VA); skipped",
        "7: warning: duplicate of row 2 (22030 Fairfax, VA); skipped",
        "3:county: warning: 'fairfax county' is spelled 'Fairfax County' in row 2; using "
        "'Fairfax County'",
        "6:town: 'Moskva' and town 'Москва' in row 5 would both have the web address part "
        "'moskva' in VA; use one spelling or distinct names",
        "6:county: 'Moskva County' and county 'Москва County' in row 5 would both have the web "
        "address part 'moskva-county' in VA; use one spelling or distinct names",
    ]
