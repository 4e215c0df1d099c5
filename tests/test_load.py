"""Reading the table: encodings, line ends, quoting, ragged rows; every cell stays text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from generator.load import RESAVE_HINT, read_table
from generator.problems import InputError, Severity

HEADER = "zip,town,county,state,type"
ROWS = ["02134,Allston,Suffolk County,MA,town", '22030,"Fairfax, City",Fairfax County,VA,town']


def _write(tmp_path: Path, data: bytes, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _messages(error: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in error.value.problems]


@pytest.mark.parametrize(
    "encoded",
    [
        ("\n".join([HEADER, *ROWS]) + "\n").encode(),
        ("\r\n".join([HEADER, *ROWS]) + "\r\n").encode(),
        ("\r".join([HEADER, *ROWS]) + "\r").encode(),
        codecs.BOM_UTF8 + ("\r\n".join([HEADER, *ROWS])).encode(),
    ],
    ids=["lf", "crlf", "cr", "bom-crlf-no-final-newline"],
)
def test_line_ends_and_bom_give_the_same_rows(tmp_path: Path, encoded: bytes) -> None:
    table = read_table(_write(tmp_path, encoded))
    assert table.columns == ("zip", "town", "county", "state", "type")
    assert [(r.number, r.values["zip"], r.values["town"]) for r in table.rows] == [
        (2, "02134", "Allston"),
        (3, "22030", "Fairfax, City"),
    ]
    assert table.problems == ()


def test_header_is_case_and_space_insensitive(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path, b" ZIP , Town,COUNTY,State ,Type\n20814,Bethesda,x,MD,\n"))
    assert table.columns == ("zip", "town", "county", "state", "type")
    assert table.rows[0].values == {
        "zip": "20814",
        "town": "Bethesda",
        "county": "x",
        "state": "MD",
        "type": "",
    }


def test_a_cell_over_two_lines_is_one_spreadsheet_row(tmp_path: Path) -> None:
    data = f'{HEADER}\n20814,"Bethesda\nNorth",x,MD,town\n20815,Chevy Chase,x,MD,town\n'
    table = read_table(_write(tmp_path, data.encode()))
    assert [(r.number, r.values["town"]) for r in table.rows] == [
        (2, "Bethesda\nNorth"),
        (3, "Chevy Chase"),
    ]


def test_trailing_empty_cells_and_unnamed_columns_are_ignored(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path, f"{HEADER},,\n{ROWS[0]},,\n{ROWS[0]}\n".encode()))
    assert table.columns == ("zip", "town", "county", "state", "type")
    assert len(table.rows) == 2
    assert table.problems == ()


def test_windows_1252_is_decoded_with_a_warning_naming_the_cells(tmp_path: Path) -> None:
    data = f"{HEADER}\r\n22180,Café Vienne,Fairfax County,VA,neighborhood\r\n"
    path = _write(tmp_path, data.encode("cp1252"))
    table = read_table(path)
    assert table.rows[0].values["town"] == "Café Vienne"
    assert [(p.severity, str(p)) for p in table.problems] == [
        (
            Severity.WARNING,
            f"{path}: warning: is not UTF-8; read it as Windows-1252 (Excel's 'CSV (Comma "
            "delimited)'): 'Café Vienne' (line 2); check these names, and to avoid this "
            f"warning {RESAVE_HINT}",
        )
    ]


def test_windows_1252_warning_lists_at_most_three_cells(tmp_path: Path) -> None:
    rows = [f"2218{n},Café {n},Fairfax County,VA,neighborhood" for n in range(5)]
    path = _write(tmp_path, "\n".join([HEADER, *rows]).encode("cp1252"))
    (warning,) = read_table(path).problems
    assert "'Café 0' (line 2), 'Café 1' (line 3), 'Café 2' (line 4), ...;" in warning.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            f"{HEADER}\n22180,Caf\x8e,x,VA,town\n".encode("latin-1"),  # Mac Roman é
            f"is not UTF-8 (byte 0x8e in line 2) and not a Windows-1252 export either; "
            f"{RESAVE_HINT}",
        ),
        (
            f"{HEADER}\n22180,Caf\x81,x,VA,town\n".encode("latin-1"),  # undefined in cp1252
            f"is not UTF-8 (byte 0x81 in line 2) and not a Windows-1252 export either; "
            f"{RESAVE_HINT}",
        ),
        (
            f"{HEADER}\n".encode("utf-16-le"),
            f"looks like UTF-16 or a binary file, not text; {RESAVE_HINT}",
        ),
        (
            f"{HEADER}\n".encode("utf-16"),
            f"is saved as UTF-16 ('Unicode Text'); {RESAVE_HINT}",
        ),
        (
            codecs.BOM_UTF16_BE + f"{HEADER}\n".encode("utf-16-be"),
            f"is saved as UTF-16 ('Unicode Text'); {RESAVE_HINT}",
        ),
    ],
    ids=["mac-roman", "undefined-cp1252-byte", "utf-16-no-bom", "utf-16-bom", "utf-16-be"],
)
def test_other_encodings_are_refused_with_a_resave_hint(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as raised:
        read_table(path)
    assert _messages(raised) == [f"{path}: {message}"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"{HEADER}\n{ROWS[0]},extra\n",
            "2: has 6 cells but the header has 5 columns; a cell "
            "holding a comma must be in double quotes",
        ),
        (
            "zip,town,county,state,type\n22030,Fairfax\n",
            "2: has 2 cells but the header has 5 columns (no cell for: county, state, type)",
        ),
        ("zip,town,town,state\n22030,a,b,VA\n", "1:town: appears twice in the header row"),
    ],
    ids=["extra-cell", "missing-cells", "duplicate-column"],
)
def test_rows_that_do_not_line_up_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text.encode())
    table = read_table(path)
    assert [str(p) for p in table.problems] == [f"{path}:{message}"]
    assert all(p.severity is Severity.ERROR for p in table.problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f'{HEADER}\n22030,"Fairfax,Fairfax County,VA,town\n20170,Herndon,x,VA,town\n',
            '2: a double quote (") in line 2 is not closed',
        ),
        (
            f'{HEADER}\n22030,"Fair"fax,Fairfax County,VA,town\n',
            '2: a double quote (") in line 2 is not closed',
        ),
        (
            "zip;town;county;state\n22030;Fairfax;Fairfax County;VA\n",
            f"1: the columns are separated by semicolons, not commas; {RESAVE_HINT}",
        ),
        (
            "zip\ttown\tcounty\tstate\n22030\tFairfax\tFairfax County\tVA\n",
            f"1: the columns are separated by tabs, not commas; {RESAVE_HINT}",
        ),
        ("", "the file is empty"),
        ("\r\n \r\n", "the file is empty"),
    ],
    ids=["open-quote", "text-after-quote", "semicolons", "tabs", "empty", "only-blank-lines"],
)
def test_unreadable_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text.encode())
    with pytest.raises(InputError) as raised:
        read_table(path)
    (line,) = _messages(raised)
    assert line.startswith(f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as missing:
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError) as folder:
        read_table(tmp_path)
    assert _messages(missing) == [f"{tmp_path / 'nope.csv'}: file not found"]
    assert _messages(folder) == [f"{tmp_path}: is a folder, not a CSV file"]


def test_blank_lines_before_the_header_are_skipped_and_rows_still_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, f"\n,,\n{HEADER},notes\n{ROWS[0]},x\n".encode())
    table = read_table(path)
    assert (table.header_row, [r.number for r in table.rows]) == (3, [4])


def test_a_huge_cell_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\n22030,{'x' * 200_000},a,VA,town\n".encode())
    with pytest.raises(InputError) as raised:
        read_table(path)
    assert _messages(raised) == [f"{path}:2: a cell in line 2 is longer than 131072 characters"]
