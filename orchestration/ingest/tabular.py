"""Readers of the spreadsheet-like exports people download: CSV in any usual encoding, `.xlsx`.

`TabularReader` reads a `.csv` with DuckDB's CSV reader (which sniffs the delimiter, quoting and
a UTF-8 byte order mark) and a `.xlsx` with python-calamine (benchmarks/xlsx_readers.py: ten
times faster than openpyxl on a 50,000-row sheet). Both give the same shape: every column as
text plus `_line` (the CSV line, or the sheet's row number), and for a workbook, beside a column
with real number or date cells, `__cell_num__<header>` / `__cell_ts__<header>` holding those
cells' values as they are typed in the sheet. The loader (orchestration/ingest/typing_plan.py)
types text cells from what the whole column shows, and keeps typed cells as they are.

A CSV that is not UTF-8 is never read into wrong characters: it is read through the
`encoding` setting when there is one (transcoded to a temporary UTF-8 copy, in blocks, since
DuckDB itself reads only UTF-8, UTF-16 and Latin-1), read as UTF-16 when it starts with that
byte order mark, and otherwise refused with the setting to set and how the file reads as
Windows-1252, what spreadsheet programs usually save.
"""

from __future__ import annotations

import codecs
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from orchestration.ingest.numbers import COMMA, POINT, NumberFormat
from orchestration.ingest.readers import Parsed, ReaderError, check_names, csv_reader

CELL_NUM, CELL_TS = "__cell_num__", "__cell_ts__"
UTF8 = ("utf-8", "utf_8", "utf8", "utf-8-sig", "utf_8_sig")
BOM_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class FileOptions:
    """A source's reading settings, and how to name each one in a message (templates with
    `{encoding}`, `{decimal}`, `{thousands}`, `{example}` filled in)."""

    encoding: str | None = None  # None: UTF-8 (with or without BOM), or UTF-16 with its BOM
    number_format: NumberFormat | None = None  # None: decided per column from its values
    sheet: str | None = None  # None: the workbook's first sheet
    # strptime formats of date columns that declare none; empty: ISO 8601, and day/month/year
    # with the order read off the file
    date_formats: tuple[str, ...] = ()
    encoding_setting: str = "encoding: {encoding}"
    number_setting: str = 'number_format: {{decimal: "{decimal}", thousands: "{thousands}"}}'
    date_setting: str = "date_formats"
    sheet_setting: str = "sheet"
    place: str = ""  # where these settings are written, e.g. " in generic/mapping.yml"

    def number_fix(self, fmt: NumberFormat) -> str:
        return self.number_setting.format(decimal=fmt.decimal, thousands=fmt.thousands,
                                          example=fmt.example)

    def encoding_fix(self, encoding: str) -> str:
        return self.encoding_setting.format(encoding=encoding) + self.place

    def number_choice(self) -> str:
        """Both number formats, as the setting that picks one."""
        return (f"{self.number_fix(POINT)} (1,054 is one thousand and fifty-four) or "
                f"{self.number_fix(COMMA)} (1.054 is one thousand and fifty-four)"
                f"{self.place}")


class TabularReader:
    """A reader (orchestration/ingest/loader.py) for `.csv` and `.xlsx` files, whose options
    come from `options` when a file is read (a source's settings are read at run time)."""

    def __init__(self, options: FileOptions | Callable[[], FileOptions] = FileOptions()):
        self._options = options

    @property
    def options(self) -> FileOptions:
        return self._options() if callable(self._options) else self._options

    def __call__(self, con: duckdb.DuckDBPyConnection, path: Path) -> str:
        options = self.options
        if path.suffix.lower() == ".xlsx":
            return xlsx_reader(con, path, options)
        # a byte order mark is the file saying what it is: it wins over a setting
        encoding = _bom_encoding(path) or options.encoding
        if encoding is None or encoding.lower() in UTF8:
            sql = csv_reader(con, path)
            _refuse_invalid_utf8(con, path, options)
            return sql
        with tempfile.TemporaryDirectory(prefix="salespipe-") as tmp:
            copy = Path(tmp) / "utf8.csv"
            _transcode(path, copy, encoding, options)
            return csv_reader(con, copy)  # the rows are in a temp table by now


def _bom_encoding(path: Path) -> str | None:
    with path.open("rb") as fh:
        start = fh.read(3)
    if start == codecs.BOM_UTF8:
        return "utf-8"  # DuckDB skips the mark itself
    return "utf-16" if start[:2] in BOM_UTF16 else None


def _transcode(path: Path, copy: Path, encoding: str, options: FileOptions) -> None:
    """`path` read in `encoding` written to `copy` as UTF-8, 1 MB at a time; line ends are
    kept as they are, so line numbers stay those of the file."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReaderError(f"unknown encoding {encoding!r} (set {options.encoding_fix('...')}"
                          " to a name such as windows-1252, latin-1 or utf-16)") from None
    try:
        with path.open(encoding=encoding, newline="") as src, \
                copy.open("w", encoding="utf-8", newline="") as dst:
            for block in iter(lambda: src.read(1 << 20), ""):
                dst.write(block)
    except UnicodeDecodeError as exc:
        raise ReaderError(f"not readable as {encoding} ({exc.reason}); check "
                          f"{options.encoding_fix(encoding)}") from None


def _refuse_invalid_utf8(con: duckdb.DuckDBPyConnection, path: Path,
                         options: FileOptions) -> None:
    """Stop when DuckDB found bytes that are not UTF-8: the file was saved in another
    encoding, and reading on would turn its accents and currency signs into garbage."""
    bad = con.execute("select min(line) from reject_errors "
                      "where error_type = 'INVALID ENCODING'").fetchall()[0][0]
    if bad is None:
        return
    raw = _line_bytes(path, bad)
    try:
        shown = f"; read as Windows-1252, line {bad} is {raw.decode('cp1252').strip()!r}"
        likely = "windows-1252"
    except UnicodeDecodeError:
        shown, likely = "", "latin-1"
    raise ReaderError(
        f"not UTF-8 (line {bad} has bytes UTF-8 cannot read){shown}. Spreadsheet programs "
        f"often save CSV as Windows-1252: if that reads right, set "
        f"{options.encoding_fix(likely)}, or save the file as UTF-8")


def _line_bytes(path: Path, line: int) -> bytes:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line:
                return raw[:200]
    return b""


def xlsx_reader(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> str:
    """The sheet as text columns named by its header row (the first row with a value),
    `_line` the sheet's row number, and the typed cells beside (module docstring)."""
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise ReaderError(f"not a readable .xlsx workbook ({exc})") from None
    sheet = options.sheet or book.sheet_names[0]
    if sheet not in book.sheet_names:
        raise ReaderError(f"has no sheet {sheet!r} (sheets: {', '.join(book.sheet_names)}); "
                          f"fix {options.sheet_setting}")
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    start = next((i for i, row in enumerate(rows) if any(v != "" for v in row)), None)
    if start is None:
        raise ReaderError(f"sheet {sheet!r} is empty")
    header = _headers(rows[start])
    check_names(header)
    body = [(i + 1, row) for i, row in enumerate(rows[start + 1:], start=start + 1)
            if any(v != "" for v in row)]
    frame = {"_line": pd.array([n for n, _ in body], dtype="Int64")}
    for j, name in enumerate(header):
        cells = [row[j] if j < len(row) else "" for _, row in body]
        frame.update(_columns(name, cells))
    con.register("__xlsx", pd.DataFrame(frame))
    try:
        con.execute("create or replace temp table __good as select * from __xlsx")
    finally:
        con.unregister("__xlsx")
    return Parsed("select * from __good")


def _headers(row: list) -> list[str]:
    names, seen = [], set()
    for j, value in enumerate(row):
        name = _text(value) or f"column{j + 1}"
        while name in seen:
            name += "_1"
        seen.add(name)
        names.append(name)
    return names


def _columns(name: str, cells: list) -> dict:
    """The column as text, plus its number and date cells as typed when it has any."""
    out = {name: pd.array([_text(v) for v in cells], dtype=object)}
    numbers = [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
               for v in cells]
    if any(v is not None for v in numbers):
        out[CELL_NUM + name] = pd.array(numbers, dtype="Float64")
    stamps = [_stamp(v) for v in cells]
    if any(v is not None for v in stamps):
        out[CELL_TS + name] = pd.Series(stamps, dtype="datetime64[us]")
    return out


def _stamp(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


def _text(value) -> str | None:
    """A cell as the text a CSV export would hold (whole numbers without `.0`, dates ISO)."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)
