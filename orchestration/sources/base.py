"""What every source module declares: its objects, the files they come from, their tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.ingest.loader import (
    FileLoad,
    Hook,
    LoadResult,
    Reader,
    create_empty,
    land_files,
)
from orchestration.ingest.spec import RawTable, literal, quote
from orchestration.sources.drop_folder import check_pattern, readable


@dataclass(frozen=True)
class SourceObject:
    """One object of a source (deals, contacts, ...): a file pattern, a reader, a raw table.

    `derived` are further raw tables that `hooks` fill from the same file."""

    name: str
    table: RawTable
    pattern: str
    reader: Reader
    hooks: tuple[Hook, ...] = ()
    derived: tuple[RawTable, ...] = field(default_factory=tuple)

    @property
    def tables(self) -> list[str]:
        return [self.table.name] + [t.name for t in self.derived]

    def files(self, folder: Path, root: Path | None = None) -> list[Path]:
        """The files matching the pattern; a `.csv` pattern takes the same files saved as
        `.xlsx` workbooks too (CRMs offer both downloads). Only files inside `root`, the source
        folder holding `folder` (its parent by default), are taken; anything else is refused
        (orchestration/sources/drop_folder.py)."""
        pattern = check_pattern(self.pattern, f"{folder}: file pattern of {self.name}")
        patterns = [pattern]
        if pattern.lower().endswith(".csv"):
            patterns.append(pattern[:-4] + ".xlsx")
        root = root or folder.parent
        found = {p for pattern in patterns for p in folder.glob(pattern)}
        allowed = [readable(p, root) for p in found if p.is_symlink() or p.is_file()]
        return sorted(p for p in allowed if p.is_file())

    def load(self, con: duckdb.DuckDBPyConnection, folder: Path,
             root: Path | None = None) -> LoadResult:
        files = self.files(folder, root)  # refused before anything lands
        for table in self.derived:
            create_empty(con, table)
        return land_files(con, self.table, files, self.reader, list(self.hooks))


def fill_currency(con: duckdb.DuckDBPyConnection, load: FileLoad, column: str,
                  currency: str | None) -> None:
    """Give the file's amounts that came without a currency the one a setting names (a CRM
    writes none where the account has a single currency); no setting: they keep none."""
    if currency:
        con.execute(f"update raw.{quote(load.table.name)} set {quote(column)} = "
                    f"{literal(currency)} where _source_file = ? and {quote(column)} is null "
                    "and amount is not null", [str(load.path)])
