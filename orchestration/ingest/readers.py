"""Readers: SQL that selects an export file's records as text columns, with DuckDB's readers.

Each reader returns a SELECT whose columns are the file's headers (CSV) or record keys (JSON),
all text, plus `_line`; malformed CSV records go to the `__rejects` temp table. Nothing here loops
over rows in Python: DuckDB parses the files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.ingest.spec import literal, quote

NO_RECORDS = "select cast(null as bigint) as _line where false"


class ReaderError(RuntimeError):
    """The file cannot be parsed at all (as opposed to single bad records)."""


def csv_reader(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Every field as text, records with too many or too few fields set aside in `__rejects`.

    `_line` is the record's number in the file with the header as line 1, the numbering DuckDB
    uses for rejected records too (a quoted field spanning lines counts as one record)."""
    con.execute("drop table if exists reject_errors")
    con.execute("drop table if exists reject_scans")
    scan = (
        f"read_csv({literal(str(path))}, header = true, all_varchar = true, "
        "store_rejects = true, parallel = false)"
    )
    try:
        con.execute(f"create or replace temp table __good as select * from {scan}")
    except duckdb.Error as exc:
        raise ReaderError(f"not a readable CSV file ({exc})") from None
    con.execute(
        "insert into __rejects select line, '', any_value(csv_line), 'malformed row: ' || "
        "string_agg(distinct lower(cast(error_type as varchar)) || ': ' || error_message, '; ') "
        "from reject_errors group by line"
    )
    # Good record k sits after every rejected record that has fewer than k good records before
    # it, so each of those shifts its line number by one.
    con.execute(
        "create or replace temp table __reject_pos as select line - 2 - (row_number() over "
        "(order by line) - 1) as good_before from (select distinct line from reject_errors)"
    )
    return (
        "select g.* exclude (__k), g.__k + 1 + (select count(*) from __reject_pos r "
        "where r.good_before < g.__k) as _line "
        "from (select *, row_number() over () as __k from __good) g"
    )


class JsonArrayReader:
    """Records of the array `key` of a saved API response (`{"deals": [...], "meta": ...}`),
    each field as text (nested objects as their JSON text); `_line` is the record's position.
    An `optional` array may be absent (a side-loaded `include` the user did not ask for).

    The response may have been parsed already (orchestration/ingest/parse_ahead.py): then
    `parsed` names the table holding it."""

    def __init__(self, key: str, optional: bool = False):
        self.key, self.optional = key, optional

    @staticmethod
    def parse_sql(path: Path) -> str:
        # The whole response is one JSON object. DuckDB sizes its read buffer from
        # maximum_object_size, so ask for what this file needs (not 2 GB for every file), which
        # keeps ingestion within SALESPIPE_DUCKDB_MEMORY_LIMIT.
        size = min(2147483647, max(16 << 20, 2 * path.stat().st_size))
        return (
            f"select * from read_json({literal(str(path))}, format = 'unstructured', "
            f"maximum_object_size = {size})"
        )

    def __call__(self, con: duckdb.DuckDBPyConnection, path: Path,
                 parsed: str | None = None) -> str:
        # Parsed once into a table: describing the file and unnesting from it would each
        # parse the whole response again.
        response = parsed or "__response"
        if not parsed:
            try:
                con.execute(f"create or replace temp table __response as {self.parse_sql(path)}")
            except duckdb.Error as exc:
                raise ReaderError(f"malformed JSON ({str(exc).splitlines()[0]})") from None
        keys = [r[0] for r in con.execute(f"describe {response}").fetchall()]
        if self.key not in keys:
            con.execute("drop table if exists __response")
            if self.optional:
                return NO_RECORDS
            raise ReaderError(
                f"no {self.key!r} array in this file (keys found: {', '.join(keys) or 'none'}); "
                f"it should be a saved API response that lists {self.key}"
            )
        con.execute(
            f"create or replace temp table __records as "
            f"select unnest({quote(self.key)}, max_depth := 2) from {response}"
        )
        con.execute("drop table if exists __response")
        columns = con.execute("describe __records").fetchall()
        if len(columns) == 1 and columns[0][1] == "JSON":  # an empty array has no fields
            return NO_RECORDS
        select = ", ".join(
            f"cast({quote(name)} as varchar) as {quote(name)}" for name, *_ in columns
        )
        return f"select {select}, row_number() over () as _line from __records"


def json_array_reader(key: str, optional: bool = False) -> JsonArrayReader:
    return JsonArrayReader(key, optional)
