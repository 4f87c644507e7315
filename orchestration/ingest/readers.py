"""Readers: SQL that selects an export file's records as text columns, with DuckDB's readers.

Each reader returns a SELECT whose columns are the file's headers (CSV) or record keys (JSON),
all text, plus `_line`; malformed CSV records go to the `__rejects` temp table. Nothing here loops
over rows in Python: DuckDB parses the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from orchestration.ingest.spec import literal, quote

NO_RECORDS = "select cast(null as bigint) as _line where false"


class ReaderError(RuntimeError):
    """The file cannot be parsed at all (as opposed to single bad records)."""


class Parsed(str):
    """A reader's SELECT over a table that already holds the file's records and `_line`: the
    loader reads that table in place rather than copying it (a copy of every page at L)."""


# Column names the readers and the loader use themselves, and what for.
RESERVED = {"_line": "the line number of each record", "__k": "the record order"}
RESERVED_PREFIXES = {"__cell_num__": "a workbook's number cells",
                     "__cell_ts__": "a workbook's date cells"}
GLOB = re.compile(r"([\[\]*?])")


def path_literal(path: Path) -> str:
    """`path` as a SQL string DuckDB's file readers take as that one file, not a pattern.

    DuckDB treats `*`, `?` and `[` in a path as a glob pattern (a list of paths too), so each
    of `* ? [ ]` is written as a one-character class (`[*]`, `[[]`): `deals [final].csv` reads
    that file, not `deals f.csv`. With a backslash in the path as well, DuckDB's glob matches
    no file at all (it takes the backslash for an escape), so such a name is refused."""
    text = str(path)
    if not GLOB.search(text):
        return literal(text)
    if "\\" in text:
        raise ReaderError("its name has a backslash and one of * ? [ ], which salespipe cannot "
                          "pass to DuckDB as one file; rename the file")
    return literal(GLOB.sub(r"[\1]", text))


def check_names(names: list[str], what: str = "column") -> None:
    """Refuse names the readers use themselves (`_line`, ...), naming the fix."""
    for name in names:
        use = RESERVED.get(name) or next(
            (u for prefix, u in RESERVED_PREFIXES.items() if name.startswith(prefix)), None)
        if use:
            raise ReaderError(f"has a {what} named {name!r}, a name salespipe uses for {use}; "
                              f"rename that {what} in the export (or leave it out)")


def json_key_problem(path: Path, key: str | None = None) -> str | None:
    """What DuckDB cannot take in the objects of a JSON file (of its array `key`): an empty
    key, or two keys that differ only in case (SQL names ignore case). Only called once DuckDB
    has failed, so the file is parsed in Python for the message alone."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    records = data.get(key) if key and isinstance(data, dict) else data
    found = _key_problem(records, key or "the file")
    return found or (_key_problem(data, "the file") if key else None)


def _key_problem(value, where: str, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        seen: dict[str, str] = {}
        for name in item:
            if not name.strip():
                return (f"an object in {where} has an empty key ({name!r}); every field needs "
                        "a name: fix or remove that key")
            other = seen.setdefault(name.lower(), name)
            if other != name:
                return (f"an object in {where} has the keys {other!r} and {name!r}, which differ "
                        "only in case (column names ignore case): rename or remove one")
        for name, child in item.items():
            found = _key_problem(child, f"{where}.{name}", depth + 1)
            if found:
                return found
    return None


def csv_reader(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Every field as text, records with too many or too few fields set aside in `__rejects`.

    `_line` is the record's number in the file with the header as line 1, the numbering DuckDB
    uses for rejected records too (a quoted field spanning lines counts as one record)."""
    con.execute("drop table if exists reject_errors")
    con.execute("drop table if exists reject_scans")
    scan = (
        f"read_csv({path_literal(path)}, header = true, all_varchar = true, "
        "store_rejects = true, parallel = false)"
    )
    try:
        # numbered as read (one thread: in file order), so no copy is needed to number them
        con.execute("create or replace temp table __good as select *, "
                    f"row_number() over () + 1 as _line from {scan}")
    except duckdb.Error as exc:
        raise ReaderError(f"not a readable CSV file ({exc})") from None
    check_names([r[0] for r in con.execute("describe __good").fetchall()][:-1])
    con.execute(
        "insert into __rejects select line, '', any_value(csv_line), 'malformed row: ' || "
        "string_agg(distinct lower(cast(error_type as varchar)) || ': ' || error_message, '; ') "
        "from reject_errors group by line"
    )
    # Good record k (`_line` k + 1 as read) sits after every rejected record that has fewer
    # than k good records before it, so each of those shifts its line number by one.
    con.execute(
        "create or replace temp table __reject_pos as select line - 2 - (row_number() over "
        "(order by line) - 1) as good_before from (select distinct line from reject_errors)"
    )
    if not con.execute("select count(*) from __reject_pos").fetchall()[0][0]:
        return Parsed("select * from __good")
    return (
        "select g.* exclude (_line), g._line + (select count(*) from __reject_pos r "
        "where r.good_before < g._line - 1) as _line from __good g"
    )


class JsonArrayReader:
    """Records of the array `key` of a saved API response (`{"deals": [...], "meta": ...}`),
    each field as text (nested values as their JSON text); `_line` is the record's position.
    An `optional` array may be absent (a side-loaded `include` the user did not ask for).

    DuckDB's read_json infers a type for every value of every record before reading, and that
    is most of the cost of landing a response (2.5 s of 3.1 s for a 60 MB page). Here the
    inference stops at the records' fields (which fields there are, not what they hold), then
    read_json reads them all as text: about 1 s for the same page.

    The response may have been parsed already (orchestration/ingest/parse_ahead.py): then
    `parsed` names the table holding its records."""

    def __init__(self, key: str, optional: bool = False):
        self.key, self.optional = key, optional

    def parse_into(self, con: duckdb.DuckDBPyConnection, path: Path, table: str,
                   kind: str = "table") -> bool:
        """Create `table` (a `kind`: table or temp table) with one text column per field and
        one row per record, numbered in `_line`; False (and no table) when the file has no
        records under `key`."""
        found = self._fields(con, path)
        if not found:
            return False
        fields, keys = found
        struct = "STRUCT(" + ", ".join(f"{quote(f)} VARCHAR" for f in fields) + ")[]"
        # Every top-level key gets a type: one left out makes read_json ~15x slower.
        columns = ", ".join(f"{literal(k)}: {literal(struct if k == self.key else 'JSON')}"
                            for k in keys)
        try:
            con.execute(
                f"create or replace {kind} {table} as select unnest({quote(self.key)}, "
                f"max_depth := 2), generate_subscripts({quote(self.key)}, 1) as _line "
                f"from {self._read(path, f'columns = {{{columns}}}')}")
        except duckdb.Error as exc:
            raise self._error(path, exc) from None
        return True

    def _fields(self, con: duckdb.DuckDBPyConnection,
                path: Path) -> tuple[list[str], list[str]] | None:
        """The fields of the records under `key` (every field any record has) and the
        response's top-level keys; None when there are no records."""
        found = _structure_fields(con, path, self.key)
        if found is not None:
            if not found[0]:  # no `key` array in a well-formed response
                return None if self.optional else self._bound_fields(con, path)
            check_names(found[0], "field")
            return found
        return self._bound_fields(con, path)

    def _bound_fields(self, con: duckdb.DuckDBPyConnection,
                      path: Path) -> tuple[list[str], list[str]] | None:
        """`_fields` from read_json's own binding: every response the quick look at its
        structure leaves undecided (no records, not records, malformed), with its message."""
        try:
            # Only binds: DuckDB infers the types down to the records' fields, not below.
            found = con.sql(f"select * from {self._read(path, 'maximum_depth = 3')} limit 0")
        except duckdb.Error as exc:
            if "expected records" in str(exc):
                raise ReaderError(f"not a JSON object; a saved API response is an object "
                                  f"with a {self.key!r} array") from None
            raise self._error(path, exc) from None
        keys = found.columns
        if self.key not in keys:
            if self.optional:
                return None
            raise ReaderError(
                f"no {self.key!r} array in this file (keys found: {', '.join(keys) or 'none'}); "
                f"it should be a saved API response that lists {self.key}"
            )
        records = found.types[keys.index(self.key)]
        if records.id == "list" and records.child.id == "struct":
            fields = [name for name, _ in records.child.children]
            check_names(fields, "field")
            return fields, keys
        if records.id == "null" or (records.id == "list" and self._empty(con, path, keys)):
            return None
        raise ReaderError(json_key_problem(path, self.key)
                          or f"{self.key!r} is not a list of records (objects)")

    def _error(self, path: Path, exc: duckdb.Error) -> ReaderError:
        return ReaderError(json_key_problem(path, self.key)
                           or f"malformed JSON ({str(exc).splitlines()[0]})")

    def _empty(self, con: duckdb.DuckDBPyConnection, path: Path, keys: list[str]) -> bool:
        """Whether the array (typed JSON[]: empty, or records mixed with other values) has
        no elements."""
        columns = ", ".join(f"{literal(k)}: 'JSON'" for k in keys)
        return not con.execute(
            f"select sum(len(cast({quote(self.key)} as JSON[]))) from "
            f"{self._read(path, f'columns = {{{columns}}}')}").fetchall()[0][0]

    @staticmethod
    def _read(path: Path, options: str) -> str:
        # records = true: the response is an object whose keys are columns. Left to detect,
        # DuckDB reads the whole file once more to find that out.
        return (f"read_json({path_literal(path)}, format = 'unstructured', records = true, "
                f"maximum_object_size = {_object_size(path)}, {options})")

    def __call__(self, con: duckdb.DuckDBPyConnection, path: Path,
                 parsed: str | None = None) -> str:
        records = parsed or "__records"
        if not parsed and not self.parse_into(con, path, records, "temp table"):
            return NO_RECORDS
        return Parsed(f"select * from {records}")


def _structure_fields(con: duckdb.DuckDBPyConnection, path: Path,
                      key: str) -> tuple[list[str], list[str]] | None:
    """(fields of the records under `key`, top-level keys) from the file's JSON structure, or
    ([], keys) when the response has no `key`; None when the structure does not plainly show
    records (no object, `key` not a list of objects, an empty or case-repeated name) or the
    file is too large to read as one text: read_json's binding decides those, with its errors.

    Binding read_json costs as much as the read itself (it walks the whole response
    through its reader to find the names: 0.67 s of CPU for a 62 MB contacts page), where
    `json_structure` over the file's text walks it in a third of that, with the same merge
    of record fields in order of first appearance (benchmarks/RESULTS.md, 2026-12-07)."""
    if 2 * path.stat().st_size > 2147483647:
        return None
    try:
        text = con.execute(f"select json_structure(content) from read_text({path_literal(path)})"
                           ).fetchall()[0][0]
        structure = json.loads(text, object_pairs_hook=_unique_pairs)
    except (duckdb.Error, ValueError, ReaderError):
        return None
    if not isinstance(structure, dict) or not _plain_names(list(structure)):
        return None
    keys = list(structure)
    if key not in structure:
        return [], keys
    records = structure[key]
    if not (isinstance(records, list) and len(records) == 1 and isinstance(records[0], dict)
            and records[0] and _plain_names(list(records[0]))):
        return None
    return list(records[0]), keys


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("a name repeated in one object")
    return dict(pairs)


def _plain_names(names: list[str]) -> bool:
    """Names DuckDB takes as columns: none empty, none differing from another only in case."""
    return all(n.strip() for n in names) and len({n.lower() for n in names}) == len(names)


def _object_size(path: Path) -> int:
    # The whole response is one JSON object. DuckDB sizes its read buffer from
    # maximum_object_size, so ask for what this file needs (not 2 GB for every file), which
    # keeps ingestion within SALESPIPE_DUCKDB_MEMORY_LIMIT.
    return min(2147483647, max(16 << 20, 2 * path.stat().st_size))


def json_array_reader(key: str, optional: bool = False) -> JsonArrayReader:
    return JsonArrayReader(key, optional)
