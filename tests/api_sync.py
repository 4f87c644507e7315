"""Helpers shared by the API connector tests (test_api_*.py): the generated company a local API
serves, syncs into a temp folder, the snapshots landed in a temp warehouse with the same loader
`salespipe run` uses, and the faults every connector must survive."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from orchestration.connectors import runner
from orchestration.connectors.base import Connector
from orchestration.connectors.errors import ConnectorAuthError, ConnectorError
from orchestration.connectors.paths import dataset_path
from orchestration.connectors.snapshots import land_snapshot
from orchestration.generate import generate
from orchestration.settings import api_settings


def company(name: str, deals: int, seed: int, formats: list[str], folder: str = ""):
    """A module-scoped fixture called `name` (assign it to a module variable of that name): the
    company `salespipe generate` writes once per test module in `formats`, which a local API
    serves; its `folder` (one CRM's exports), else the whole output."""

    @pytest.fixture(scope="module", name=name)
    def generated(tmp_path_factory) -> Path:
        out = tmp_path_factory.mktemp(f"{formats[0]}_{name}")
        generate(out, deals, seed, formats=formats)
        return out / folder if folder else out

    return generated


def syncing(connector: Connector, token: str):
    """`sync(api, data_dir, token=token)`: `connector` synced from the local API `api`."""
    def sync(api, data_dir: Path, token: str = token):
        return runner.sync(connector, data_dir,
                           api_settings(connector.name, token=token, base_url=api.url))
    return sync


def landing(connector: Connector):
    """`landed(data_dir)`: the latest snapshots landed in the raw tables of a warehouse in
    `data_dir`; returns an open connection."""
    def landed(data_dir: Path) -> duckdb.DuckDBPyConnection:
        return land(connector, data_dir, data_dir / "warehouse.duckdb")
    return landed


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def landed_rows(landed, data_dir: Path, sql: str) -> list[tuple]:
    """`sql` over the raw tables once `landed(data_dir)` landed the latest snapshots."""
    con = landed(data_dir)
    try:
        return rows(con, sql)
    finally:
        con.close()


def land(connector: Connector, data_dir: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Land the connector's latest snapshots in `warehouse`; returns an open connection."""
    con = duckdb.connect(str(warehouse))
    con.execute("set TimeZone = 'UTC'")
    for snap in connector.snapshots:
        land_snapshot(con, data_dir, connector.name, snap.target)
    return con


def dataset_rows(data_dir: Path, connector: Connector, table: str, sql: str = "count(*)"):
    """A value from the synced dlt dataset (None when the table was never created)."""
    path = dataset_path(data_dir, connector.name)
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?", [connector.name, table]).fetchone()[0]
        if not exists:
            return None
        return con.execute(f"select {sql} from {connector.name}.{table}").fetchone()[0]
    finally:
        con.close()


def row_counts(con: duckdb.DuckDBPyConnection, tables) -> dict[str, int]:
    """Rows of each `raw.<table>`."""
    return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}


def assert_unique_ids(con: duckdb.DuckDBPyConnection, tables) -> None:
    """No record landed twice: every `raw.<table>` has one row per `id`."""
    for table in tables:
        total, distinct = con.execute(
            f"select count(*), count(distinct id) from raw.{table}").fetchone()
        assert total == distinct, f"raw.{table} has duplicate ids"


def age_last_sync(data_dir: Path, connector: Connector, days: float) -> None:
    """Make the stored syncs look `days` older, as if none had run since."""
    con = duckdb.connect(str(dataset_path(data_dir, connector.name)))
    try:
        con.execute(f"update {connector.name}._dlt_loads set inserted_at = inserted_at - "
                    f"to_microseconds(cast({days} * 86400e6 as bigint))")
    finally:
        con.close()


def assert_refused_at_once(server, call: Callable[[], object], variable: str, secret: str,
                           caplog, capfd) -> None:
    """`call`, a sync with a token the API refuses, fails at its first request with a
    ConnectorAuthError naming `variable` and the 401, and `secret` shows nowhere: not in the
    message, the logs (debug level), stdout or stderr."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectorAuthError) as failure:
        call()
    message = str(failure.value)
    assert variable in message and "401" in message
    assert len(server.requests) == 1  # failed at once, no retries
    out, errors = capfd.readouterr()
    for text in (message, caplog.text, out, errors):
        assert secret not in text


def interrupted(server, call: Callable[[], object], after: int = 1, path: str = "",
                match: str | None = None) -> None:
    """`call`, a sync, with the API going down (503s) after `after` answers (to `path`, else to
    any request): it fails with a ConnectorError (matching `match`)."""
    server.inject("interrupt", path=path, times=None, after=after)
    with pytest.raises(ConnectorError, match=match):
        call()
