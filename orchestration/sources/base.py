"""What every source module declares: its objects, the files they come from, their tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.ingest.loader import Hook, LoadResult, Reader, create_empty, land_files
from orchestration.ingest.spec import RawTable


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

    def files(self, folder: Path) -> list[Path]:
        """The files matching the pattern; a `.csv` pattern takes the same files saved as
        `.xlsx` workbooks too (CRMs offer both downloads)."""
        patterns = [self.pattern]
        if self.pattern.lower().endswith(".csv"):
            patterns.append(self.pattern[:-4] + ".xlsx")
        return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})

    def load(self, con: duckdb.DuckDBPyConnection, folder: Path) -> LoadResult:
        for table in self.derived:
            create_empty(con, table)
        return land_files(con, self.table, self.files(folder), self.reader, list(self.hooks))
