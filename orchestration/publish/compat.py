"""Which DuckDB versions can open the published file: its storage format, and the column types
an older reader lacks.

BI tools embed the DuckDB of their own release (Metabase's and DBeaver's JDBC drivers,
Superset's duckdb-engine, Evidence's Node package), and a DuckDB refuses a file in a newer
storage format than its own. So the publication is written in the format of
SALESPIPE_PUBLISH_STORAGE_VERSION (`ATTACH ... (STORAGE_VERSION ...)`), while the working
warehouse keeps DuckDB's newest.

The format alone is not enough: DuckDB 2.0 writes some newer types into an old-format file, and
a reader that lacks one of them cannot open the file at all, not even the marts without it
(measured: a TIME_NS column makes DuckDB 1.1 to 1.3 fail on opening). So a mart with such a type
stops the publication, naming the column, until the model casts it or the setting is raised.
"""

from __future__ import annotations

import re

import duckdb

SETTING = "SALESPIPE_PUBLISH_STORAGE_VERSION"

# type (as information_schema spells it) -> (the first DuckDB that reads it, what to cast to).
# Measured by writing one column of each type into a v1.0.0-format file with DuckDB 2.0.1 and
# opening it with DuckDB 0.10.3, 1.1.3, 1.2.2, 1.3.2 and 1.4.5; VARIANT DuckDB itself refuses
# to write below v1.5.0. Every other type the marts use (numbers, decimals, text, dates,
# timestamps, lists, structs) is read by all of them.
NEWER_TYPES = {
    "VARIANT": ("v1.5.0", "JSON or VARCHAR"),
    "TIME_NS": ("v1.4.0", "TIME"),
    "BIGNUM": ("v1.1.0", "HUGEINT or DOUBLE"),
    "VARINT": ("v1.1.0", "HUGEINT or DOUBLE"),
}


def version_tuple(version: str) -> tuple[int, ...]:
    """`v1.4.0` -> (1, 4, 0); `latest` sorts after every release."""
    if version == "latest":
        return (999,)
    return tuple(int(part) for part in version.lstrip("v").split("."))


def too_new(con: duckdb.DuckDBPyConnection, schema: str, names: list[str],
            storage_version: str) -> list[str]:
    """A sentence for each column of the tables `names` in `schema` (of the database `con` is
    connected to) that a DuckDB as old as `storage_version` cannot read; [] if none."""
    oldest = version_tuple(storage_version)
    problems = []
    for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? "
            "and list_contains(?, table_name) order by table_name, ordinal_position",
            [schema, names]).fetchall():
        for type_, (needs, cast) in NEWER_TYPES.items():
            if re.search(rf"\b{type_}\b", data_type) and version_tuple(needs) > oldest:
                problems.append(
                    f"{schema}.{table}.{column} is {data_type}: DuckDB before {needs} lacks "
                    f"{type_} and cannot open a file holding it at all (cast it to {cast} in "
                    f"the model, or set {SETTING}={needs}: BI tools then need DuckDB {needs} "
                    "or later)")
    return problems


def unknown_version(storage_version: str, error: duckdb.Error) -> str:
    """The message when DuckDB does not know the version the setting names."""
    return (f"{SETTING}={storage_version} is not a DuckDB storage version this DuckDB "
            f"({duckdb.__version__}) can write: {str(error).splitlines()[0]}")


def readers(storage_version: str) -> str:
    """Who can open a file written in `storage_version`, for messages."""
    oldest = duckdb.__version__ if storage_version == "latest" else storage_version.lstrip("v")
    return f"DuckDB {oldest} and later"
