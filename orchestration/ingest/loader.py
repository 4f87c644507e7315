"""Land one export file in its raw table: typed, with load metadata, bad values quarantined.

Every file lands in one transaction: its rows, its quarantine rows and its entry in
`raw._loads` commit together or not at all. A file already loaded with the same content is
skipped, and a changed file at the same path replaces the rows it landed before, so loading the
same input twice changes nothing.

A file is its content, not its path: a file new at its path whose content (hash) is what
another path of the same raw table holds now does not land again. When that other file is gone
from the folder (the folder was moved, the file renamed), its rows follow the file to its new
path, so a later change there replaces them; when it is still there (the same export
downloaded twice, "deals (1).csv"), the copy is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.ingest.parse_ahead import parse_ahead
from orchestration.ingest.readers import Parsed, ReaderError
from orchestration.ingest.spec import Column, RawTable, literal, quote, snake
from orchestration.ingest.tabular import CELL_NUM, CELL_TS
from orchestration.ingest.typing_plan import FormatError, TypingPlan, canonical_expr, plan_file
from orchestration.settings import SettingsError, max_columns_per_file

META_COLUMNS = {
    "_source_file": "varchar",
    "_line": "bigint",
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
}

LOADS_DDL = """
create table if not exists raw._loads (
    load_id varchar, source_system varchar, raw_table varchar, source_file varchar,
    file_sha256 varchar, file_bytes bigint, rows_loaded bigint, rows_quarantined bigint,
    loaded_at timestamp
)"""

QUARANTINE_DDL = """
create table if not exists raw._quarantine (
    load_id varchar, source_system varchar, raw_table varchar, source_file varchar,
    line bigint, column_name varchar, value varchar, reason varchar, quarantined_at timestamp
)"""

# A file that changes while it is read (an upload still in progress) is read again this many
# times, after a pause each time, before it is left for the next run.
READ_ATTEMPTS = 3
CHANGING_PAUSE_SECONDS = 1.0
# Up to this many new columns are added one ALTER each (DuckDB adds a column without touching
# the rows); more in one statement: inside the file's transaction every ALTER keeps the table's
# column list until commit (2,000 ALTERs: 9 s and 1.2 GB; benchmarks/RESULTS.md).
ALTER_AT_MOST = 16
# From this many columns, DuckDB's common-subexpression optimizer is off while the file lands:
# its time grows with the square of the columns (2,000 `nullif(trim(c), '')` columns: 35 s to
# plan one statement, 3 s without it), and a file's statements have no subexpressions to share
# beyond a column's own.
WIDE_FILE_COLUMNS = 300

# A reader turns a file into SQL selecting its records as text columns named by their headers
# plus `_line`; it may register malformed records in the `__rejects` temp table.
Reader = Callable[[duckdb.DuckDBPyConnection, Path], str]
# A hook lands tables derived from the same file (e.g. HubSpot's per-stage date columns).
Hook = Callable[[duckdb.DuckDBPyConnection, "FileLoad"], None]


class IngestError(RuntimeError):
    """An export file cannot be loaded; the message names the file and what to fix."""


class StillChanging(Exception):
    """The file changed while it was read: what was read is not landed."""


@dataclass(frozen=True)
class FileLoad:
    """What one file's load knows: passed to hooks so derived tables carry the same metadata."""

    table: RawTable
    path: Path
    load_id: str
    loaded_at: dt.datetime
    headers: tuple[str, ...]
    typing: TypingPlan | None = None  # how this file's columns were typed

    def meta_sql(self) -> str:
        return (
            f"{literal(str(self.path))} as _source_file, {literal(self.load_id)} as _load_id, "
            f"cast({literal(self.loaded_at.isoformat(sep=' '))} as timestamp) as _loaded_at"
        )


@dataclass
class LoadResult:
    raw_table: str
    files_loaded: int = 0
    files_unchanged: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    still_changing: list[str] = field(default_factory=list)  # files left for the next run
    # (file, file landed with the same content): not landed again, counted unchanged
    same_content: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (file, gone file it replaces)

    def same_content_lines(self) -> list[str]:
        return ([f"{path}: same content as {other} (moved or renamed): its rows now name "
                 "this file" for path, other in self.moved]
                + [f"{path}: same content as {other}, not loaded again"
                   for path, other in self.same_content])

    def add(self, other: LoadResult) -> None:
        self.files_loaded += other.files_loaded
        self.files_unchanged += other.files_unchanged
        self.rows_loaded += other.rows_loaded
        self.rows_quarantined += other.rows_quarantined
        self.still_changing += other.still_changing
        self.same_content += other.same_content
        self.moved += other.moved


def file_state(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is written to or replaced: size, modification time, inode."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(LOADS_DDL)
    con.execute(QUARANTINE_DDL)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def typed_expr(column: Column, source: str) -> str:
    """SQL turning the program-written text column `source` into the column's type (NULL
    when unparseable); files people write are typed by a TypingPlan instead."""
    return canonical_expr(column, source)


def ensure_table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str]) -> None:
    """Create `raw.<name>` or add the columns it lacks: new export columns are kept, not lost."""
    con.execute(
        f"create table if not exists raw.{quote(name)} ("
        + ", ".join(f"{quote(c)} {t}" for c, t in {**columns, **META_COLUMNS}.items())
        + ")"
    )
    existing = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [name],
        ).fetchall()
    }
    missing = {c: t for c, t in columns.items() if c not in existing}
    if len(missing) <= ALTER_AT_MOST:
        for column, type_ in missing.items():
            con.execute(f"alter table raw.{quote(name)} add column {quote(column)} {type_}")
        return
    # DuckDB's ALTER adds one column per statement: many are added by one rewrite instead
    added = ", ".join(f"cast(null as {t}) as {quote(c)}" for c, t in missing.items())
    con.execute(f"create or replace table raw.{quote(name)} as "
                f"select *, {added} from raw.{quote(name)}")


def declared_columns(table: RawTable) -> dict[str, str]:
    types = {"text": "varchar", "timestamp": "timestamp", "number": "double",
             "integer": "bigint", "boolean": "boolean"}
    cols = {c.raw_name: types[c.type] for c in table.columns}
    cols.update({name: "varchar" for name in table.extra_columns})
    return cols


def create_empty(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    """Every declared raw table exists, even with no files, so dbt always finds its sources."""
    ensure_raw_schema(con)
    ensure_table(con, table.name, declared_columns(table))


class _FileLander:
    """Lands a single file; one instance per file keeps the SQL building steps small."""

    def __init__(self, con, table: RawTable, path: Path, reader: Reader, hooks: list[Hook]):
        self.con, self.table, self.path, self.reader, self.hooks = con, table, path, reader, hooks
        self.quarantined = 0
        self.wide = False  # the optimizer setting was changed for a wide file

    def run(self, digest: str, state: tuple) -> LoadResult:
        """Land the file whose content hashed to `digest` when it was in `state`; it is
        committed only if the file is still in that state once read (StillChanging if not)."""
        result = LoadResult(self.table.name)
        if state[0] == 0:
            raise IngestError(
                f"{self.path}: the file is empty (0 bytes). Re-export it from the CRM, or remove "
                "it from the source folder; nothing was loaded from it."
            )
        self.con.execute("begin transaction")
        try:
            rows = self._land(digest)
            if file_state(self.path) != state:
                raise StillChanging(self.path)
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        finally:
            if self.wide:
                self.con.execute("reset disabled_optimizers")
        result.files_loaded, result.rows_loaded = 1, rows
        result.rows_quarantined = self.quarantined
        return result

    def _land(self, digest: str) -> int:
        con, table = self.con, self.table
        con.execute("create or replace temp table __rejects (line bigint, column_name varchar, "
                    "value varchar, reason varchar)")
        try:
            source_sql = self.reader(con, self.path)
        except ReaderError as exc:
            raise IngestError(f"{self.path}: {exc}. Nothing was loaded from it.") from None
        if not isinstance(source_sql, Parsed):  # a view over the rows, as a parsed page is
            con.execute(f"create or replace temp table __src_rows as {source_sql}")
            source_sql = "select * from __src_rows"
        con.execute(f"create or replace temp view __src as {source_sql}")
        headers = tuple(r[0] for r in con.execute("describe __src").fetchall()
                        if r[0] != "_line" and not r[0].startswith((CELL_NUM, CELL_TS)))
        self._check_width(headers)
        if len(headers) >= WIDE_FILE_COLUMNS:
            con.execute("set disabled_optimizers = 'common_subexpressions'")
            self.wide = True
        if headers:  # a file with no records at all (empty JSON array) has no headers to check
            self._check_required(headers)
        try:
            typing = plan_file(con, table, headers, getattr(self.reader, "options", None))
        except FormatError as exc:
            raise IngestError(f"{self.path}: {exc}.") from None
        load = FileLoad(table, self.path, uuid.uuid4().hex, dt.datetime.now(dt.UTC).replace(
            tzinfo=None), headers, typing)
        con.execute(f"delete from raw.{quote(table.name)} where _source_file = ?",
                    [str(self.path)])
        con.execute("delete from raw._quarantine where raw_table = ? and source_file = ?",
                    [table.name, str(self.path)])
        self._build_typed(headers, load)
        self._quarantine(load)
        rows = self._insert(load)
        for hook in self.hooks:
            hook(con, load)
        self.quarantined = con.execute(
            "select count(*) from raw._quarantine where load_id = ?", [load.load_id]
        ).fetchall()[0][0]
        con.execute(
            "insert into raw._loads values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load.load_id, table.source_system, table.name, str(self.path), digest,
             os.stat(self.path).st_size, rows, self.quarantined, load.loaded_at],
        )
        return rows

    def _check_width(self, headers: tuple[str, ...]) -> None:
        try:
            cap = max_columns_per_file()
        except SettingsError as exc:
            raise IngestError(str(exc)) from None
        if len(headers) > cap:
            raise IngestError(
                f"{self.path}: {len(headers):,} columns, more than the {cap:,} a file may have "
                "(SALESPIPE_MAX_COLUMNS_PER_FILE). Export only the columns you need, or raise "
                "the setting (each column is a raw-table column; see README, Security); "
                "nothing was loaded from it.")

    def _check_required(self, headers: tuple[str, ...]) -> None:
        missing = [h for h in self.table.required_headers if h not in headers]
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise IngestError(
                f"{self.path}: required column {names} is missing "
                f"(found {len(headers)} columns: {', '.join(headers[:12])}"
                f"{', ...' if len(headers) > 12 else ''}). "
                "Export the file with that column, or fix the column mapping."
            )

    def _build_typed(self, headers: tuple[str, ...], load: FileLoad) -> None:
        """`__typed`: declared columns typed, unknown columns kept as text, plus metadata."""
        declared = {c.header: c for c in self.table.columns}
        select, taken = [], set()
        for column in self.table.columns:
            select.append(f"{load.typing.expr(column)} as {quote(column.raw_name)}")
            taken.add(column.raw_name)
        for header in headers:
            if header in declared:
                continue
            name = snake(header)
            while name in taken or name in META_COLUMNS:
                name += "_x"
            taken.add(name)
            select.append(f"nullif(trim({quote(header)}), '') as {quote(name)}")
        for name, value in self.table.extra_columns.items():
            select.append(f"{literal(value)} as {quote(name)}")
        # A view: the insert computes it once; a table would copy every row once more.
        self.con.execute(
            f"create or replace temp view __typed as select {', '.join(select)}, "
            f"_line, {load.meta_sql()} from __cells"
        )

    def _quarantine(self, load: FileLoad) -> None:
        """Every value that could not be used, with file, line, column and reason."""
        table, parts = self.table, ["select line, column_name, value, reason from __rejects"]
        present = set(load.headers)
        for column in table.columns:
            if column.type == "text" or column.header not in present:
                continue
            parts.append(
                f"select _line, {literal(column.header)}, {quote(column.header)}, "
                f"{load.typing.failure_reason(column)} from __cells "
                f"where nullif(trim({quote(column.header)}), '') is not null "
                f"and {load.typing.expr(column)} is null"
            )
        if table.id_column:
            id_col = quote(table.id_column)
            parts.append(
                f"select _line, {literal(table.id_column)}, {id_col}, "
                f"'missing id: the row is kept in raw but stays out of the marts' from __src "
                f"where nullif(trim({id_col}), '') is null"
            )
            if table.unique_ids:
                # Repeated ids found by grouping, then joined back: half the time of a window
                # over every row, and almost no row repeats.
                parts.append(
                    f"select s._line, {literal(table.id_column)}, s.{id_col}, "
                    f"'duplicate id: first seen on line ' || d.first_line || ', which is used' "
                    f"from __src as s inner join (select trim({id_col}) as id, min(_line) as "
                    f"first_line from __src where nullif(trim({id_col}), '') is not null "
                    f"group by 1 having count(*) > 1) as d on trim(s.{id_col}) = d.id "
                    f"where s._line > d.first_line"
                )
        union = " union all ".join(parts)
        self.con.execute(
            "insert into raw._quarantine select ?, ?, ?, ?, line, column_name, value, reason, ? "
            f"from ({union}) q(line, column_name, value, reason)",
            [load.load_id, table.source_system, table.name, str(self.path), load.loaded_at],
        )

    def _insert(self, load: FileLoad) -> int:
        columns = {
            r[0]: r[1] for r in self.con.execute("describe __typed").fetchall()
            if r[0] not in META_COLUMNS
        }
        ensure_table(self.con, self.table.name, columns)
        self.con.execute(f"insert into raw.{quote(self.table.name)} by name select * from __typed")
        return self.con.execute("select count(*) from __src").fetchall()[0][0]


def land_files(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    files: list[Path],
    reader: Reader,
    hooks: list[Hook] | None = None,
    present: list[Path] | None = None,
) -> LoadResult:
    """Land each file of one source object; the table exists afterwards even with no files.
    `present` are the object's other files in the folder, when `files` are not all of them:
    a file gone from the folder is one whose rows follow a moved file.

    A file is hashed and read between two looks at its size and modification time: when they
    differ (the file is still being written), nothing of it lands and it is read again after a
    pause, up to READ_ATTEMPTS times, then left for the next run (`still_changing`). So what
    lands is always what was hashed, and a file that grows later has another hash: it is
    loaded again."""
    create_empty(con, table)
    total = LoadResult(table.name)
    pending, run_files = list(files), {str(p) for p in [*files, *(present or [])]}
    for attempt in range(READ_ATTEMPTS):
        if attempt:
            time.sleep(CHANGING_PAUSE_SECONDS)
        pending = _land_once(con, table, pending, reader, hooks or [], total, run_files)
        if not pending:
            break
    total.still_changing = [str(p) for p in pending]
    return total


def _land_once(con, table: RawTable, files: list[Path], reader: Reader, hooks: list[Hook],
               total: LoadResult, run_files: set[str]) -> list[Path]:
    """Land the files whose content is not landed yet; the ones that changed while being read
    are returned. `run_files` are all the files of this object in this run."""
    seen = {}
    for path in files:
        state = file_state(path)  # before hashing: a change while hashing shows at commit
        seen[str(path)] = (state, sha256(path))
    current = _current_digests(con, table)
    changed, changing = [], []
    # the shortest name first: of an export and its copies ("deals (1).csv"), the export holds
    # the rows (files still land in their order)
    for path in sorted(files, key=lambda p: (len(p.name), str(p))):
        key = str(path)
        state, digest = seen[key]
        if current.get(key) == digest:
            total.files_unchanged += 1
            continue
        holder = None if key in current else _holder(current, digest, run_files, seen)
        if holder is None:
            changed.append((path, digest, state))
            current[key] = digest  # a later copy of it in this run is skipped
            continue
        total.files_unchanged += 1
        if holder in run_files:
            total.same_content.append((key, holder))
        else:
            _follow_move(con, table, holder, key)
            current[key] = current.pop(holder)
            total.moved.append((key, holder))
    changed.sort(key=lambda item: files.index(item[0]))
    with parse_ahead(con, reader, [path for path, _, _ in changed]) as read:
        for path, digest, state in changed:
            try:
                total.add(_FileLander(con, table, path, read, hooks).run(digest, state))
            except StillChanging:
                changing.append(path)
    return changing


def _current_digests(con: duckdb.DuckDBPyConnection, table: RawTable) -> dict[str, str]:
    """Each file landed in `table` -> the content hash of its latest landing (what raw holds)."""
    return dict(con.execute(
        "select source_file, arg_max(file_sha256, loaded_at) from raw._loads "
        "where raw_table = ? group by source_file order by source_file", [table.name]
    ).fetchall())


def _holder(current: dict[str, str], digest: str, run_files: set[str],
            seen: dict[str, tuple]) -> str | None:
    """The landed file holding `digest` now: one still in the folder first (unless it is about
    to be replaced by other content in this run), else one gone from it; None if none."""
    holders = [f for f, d in current.items() if d == digest
               and (f not in seen or seen[f][1] == digest)]
    present = [f for f in holders if f in run_files]
    return (present or holders or [None])[0]


def _follow_move(con: duckdb.DuckDBPyConnection, table: RawTable, old: str, new: str) -> None:
    """The rows landed from `old` (in `table` and the tables its hooks fill: same load id),
    its quarantine rows and its loads now name `new`, in one transaction."""
    load_id = con.execute(
        "select arg_max(load_id, loaded_at) from raw._loads where raw_table = ? "
        "and source_file = ?", [table.name, old]).fetchall()[0][0]
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.columns where table_schema = 'raw' "
        "and column_name in ('_load_id', '_source_file') group by 1 having count(*) = 2"
    ).fetchall()]
    con.execute("begin transaction")
    try:
        for name in tables:
            con.execute(f"update raw.{quote(name)} set _source_file = ? "
                        "where _load_id = ? and _source_file = ?", [new, load_id, old])
        con.execute("update raw._quarantine set source_file = ? where load_id = ?",
                    [new, load_id])
        con.execute("update raw._loads set source_file = ? where raw_table = ? and "
                    "source_file = ?", [new, table.name, old])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
