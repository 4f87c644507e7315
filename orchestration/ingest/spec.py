"""Declarations of raw tables: which columns a file must or may have, and their types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TYPES = ("text", "timestamp", "number", "integer", "boolean")


@dataclass(frozen=True)
class Column:
    """One column of an export file and how it lands in its raw table."""

    header: str
    name: str | None = None  # raw column name; defaults to the header in snake_case
    type: str = "text"
    formats: tuple[str, ...] = ()  # strptime formats for timestamps; empty means ISO 8601
    required: bool = False
    currency: str | None = None  # a number column's currency: the header of that column

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.header!r}: unknown type {self.type!r}")

    @property
    def raw_name(self) -> str:
        return self.name or snake(self.header)


@dataclass(frozen=True)
class RawTable:
    """A table in the `raw` schema, fed by files of one source object."""

    source_system: str
    name: str
    columns: tuple[Column, ...]
    id_column: str | None = None  # header of the column that identifies a record
    file_label: str = "file"  # "line" in CSVs, "record" in JSON arrays
    unique_ids: bool = True
    extra_columns: dict[str, str] = field(default_factory=dict)  # constant columns to add
    # headers outside `columns` that hooks read as dates (generic stage-entered dates), in
    # `date_formats`: their values count when a file's day/month order is decided
    date_headers: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()

    def column(self, header: str) -> Column:
        return next(c for c in self.columns if c.header == header)

    @property
    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.required]


def snake(header: str) -> str:
    """`Country/Region` -> `country_region`; a leading digit gets a `c_` prefix."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", header).strip("_").lower() or "column"
    return f"c_{name}" if name[0].isdigit() else name


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
