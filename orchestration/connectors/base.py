# Shared with the Pipedrive/Salesforce connectors: keep this interface stable.
"""The runner every CRM API connector shares: dlt sync, error mapping, canonical landing.

A connector (hubspot.py, activecampaign.py, ...) declares a `Connector`: how to build its dlt
source (dlt's REST API source: paginators, incremental cursors, merge on primary key) from its
`ApiSource` settings, and `Snapshot`s that turn the synced dataset into files shaped like that
CRM's export, landed by the same loader as the exports (typing, quarantine, idempotence), into
the same `raw.<table>` columns the file loaders of orchestration/sources declare. So the dbt
models do not care where data came from.

Where dlt loads: one DuckDB file per source,
`$SALESPIPE_DATA_DIR/connectors/<name>/synced.duckdb`, not the warehouse, because
- the warehouse takes one writer and dbt opens and closes it many times during a run; dlt's
  own connections, staging dataset and `_dlt_*` tables would be a second writer with its own
  life cycle inside the file BI tools get a copy of;
- a sync that fails or is killed halfway leaves the warehouse untouched: only a finished sync
  is turned into snapshot files, and each lands in one loader transaction, so raw tables never
  hold half a sync;
- dlt keeps its incremental cursors in the same file (`_dlt_pipeline_state`, committed with
  the data of the same load), so the cursor never runs ahead of the stored rows; losing the
  warehouse does not lose a sync, and deleting `connectors/<name>/` (dataset and dlt's
  working folder) means a full re-sync.
The run lock still covers syncs: the API assets require the warehouse resource, which holds
the lock for the whole run, so two runs never sync one source at the same time.

Retries (429 honouring Retry-After, 5xx, timeouts, dropped connections) are dlt's requests
client, configured by its RUNTIME__REQUEST_* variables (defaults in orchestration/settings.py).
A 401/403 fails at once with `ConnectorAuthError` naming the variable to fix; a token never
appears in a message or a log line (`redact`, `TokenFilter`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from orchestration.ingest.loader import LoadResult, create_empty, land_files
from orchestration.ingest.readers import ReaderError
from orchestration.ingest.spec import literal, quote
from orchestration.settings import ApiSource, apply_defaults
from orchestration.sources.base import SourceObject

log = logging.getLogger("salespipe.connectors")


class ConnectorError(RuntimeError):
    """A sync failed; the message says which source, what happened and what to do."""


class ConnectorAuthError(ConnectorError):
    """The API refused the credentials (401/403); the message names the variable to fix."""


class ConnectorResponseError(ConnectorError):
    """The API answered with something that is not the documented JSON."""


# ---------------------------------------------------------------------------------------------
# What a connector declares


@dataclass(frozen=True)
class Snapshot:
    """One file shaped like the CRM's export of `target`, built from the synced dataset.

    `sql(con)` returns a SELECT over the dataset's tables as `ds.<table>` whose columns are the
    export's headers, all text in the export's formats; `order_by` makes the file identical
    when nothing changed, so the loader skips it by checksum."""

    target: SourceObject
    sql: Callable[[duckdb.DuckDBPyConnection], str]
    order_by: str


@dataclass(frozen=True)
class SyncWindow:
    """How far back the API still shows what an incremental sync must see (HubSpot's recent
    engagements, Pipedrive's deleted deals: 30 days). A sync that comes later than that after
    the last stored one would miss some of it for good, so it stops instead (`check_window`)."""

    days: int
    missed: str  # what such a sync would miss ("engagements changed in between")
    remedy: str  # how to catch up, in words for the data team


@dataclass(frozen=True)
class Connector:
    name: str  # dlt pipeline and dataset name; the raw source folder it feeds ("hubspot")
    label: str  # for messages ("HubSpot")
    settings: Callable[[], ApiSource]
    source: Callable[[ApiSource], Any]  # ApiSource -> dlt source (dlt.sources.rest_api)
    resources: tuple[str, ...]  # dlt resource names, one Dagster asset spec each
    # Dataset tables the snapshots read, with the columns they need: a table dlt never created
    # (no record ever synced) is an empty stand-in, so snapshot SQL always runs.
    tables: dict[str, dict[str, str]]
    snapshots: tuple[Snapshot, ...]
    window: SyncWindow | None = None
    # (resource, cursor path) of incremental lists not read in modified order: their stored
    # cursor is kept no later than the sync's start (`hold_cursors`)
    cursors_from_start: tuple[tuple[str, str], ...] = ()


@dataclass
class SyncResult:
    connector: str
    skipped: str = ""  # why it was skipped (not configured), else empty
    rows: dict[str, int] = field(default_factory=dict)  # dataset table -> rows after the sync
    loaded: dict[str, int] = field(default_factory=dict)  # dataset table -> rows this sync
    snapshots: list[Path] = field(default_factory=list)

    def line(self) -> str:
        if self.skipped:
            return self.skipped
        loaded = ", ".join(f"{t} {n}" for t, n in sorted(self.loaded.items())) or "nothing new"
        return f"{self.connector} API: synced ({loaded})"


# ---------------------------------------------------------------------------------------------
# Paths


def connectors_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "connectors"


def dataset_path(data_dir: Path, name: str) -> Path:
    # Not `<name>.duckdb`: a catalog named like the dataset confuses DuckDB's binder.
    return connectors_dir(data_dir) / name / "synced.duckdb"


def snapshot_dir(data_dir: Path, name: str) -> Path:
    return connectors_dir(data_dir) / name / "snapshot"


def snapshot_path(data_dir: Path, name: str, obj: SourceObject) -> Path:
    return snapshot_dir(data_dir, name) / f"{obj.name}.parquet"


# ---------------------------------------------------------------------------------------------
# Secrets


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class TokenFilter(logging.Filter):
    """Replaces the tokens in every record passing through (dlt, urllib3, our own logs)."""

    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


LOGGERS = ("dlt", "urllib3", "requests", "salespipe.connectors", "dagster")


@contextmanager
def _redacting(secrets: tuple[str, ...]) -> Iterator[None]:
    flt = TokenFilter(secrets)
    loggers = [logging.getLogger(n) for n in LOGGERS] + [logging.getLogger()]
    handlers = {h for lg in loggers for h in lg.handlers}
    for target in [*loggers, *handlers]:
        target.addFilter(flt)
    try:
        yield
    finally:
        for target in [*loggers, *handlers]:
            target.removeFilter(flt)


# ---------------------------------------------------------------------------------------------
# HTTP: dlt's requests client, throttled to an API's documented rate limit


def throttled_session(per_second: float | None = None, reset_header: str | None = None) -> Any:
    """A dlt requests session (retries per RUNTIME__REQUEST_*, Retry-After honoured) that
    spaces requests to at most `per_second` (ActiveCampaign: 5/s per account) and pauses when
    a response says the rate-limit window is used up (X-RateLimit-Remaining: 0)."""
    from dlt.sources.helpers.requests.retry import Client, _make_retry
    from dlt.sources.helpers.requests.session import Session

    class _Client(Client):
        def _make_session(self) -> Session:
            session = Session(**self._session_kwargs)
            session.mount("http://", self._adapter)
            session.mount("https://", self._adapter)
            send, state = session.send, {"next": 0.0}

            def spaced_send(request, **kwargs):
                wait = state["next"] - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                response = send(request, **kwargs)
                gap = 1.0 / per_second if per_second else 0.0
                remaining = _header_number(response, "X-HubSpot-RateLimit-Remaining",
                                           "X-RateLimit-Remaining")
                if remaining is not None and remaining <= 0:
                    window = _header_number(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
                    # `reset_header`: seconds until the window resets (Pipedrive's
                    # X-RateLimit-Reset), capped so a bogus value cannot stall a run.
                    reset = _header_number(response, reset_header) if reset_header else None
                    gap = max(gap, min(reset, 60.0) if reset is not None
                              else (window or 1000) / 1000)
                state["next"] = time.monotonic() + gap
                return response

            session.send = _make_retry(**self._retry_kwargs).wraps(spaced_send)
            return session

    return _Client(raise_for_status=False).session


def _header_number(response, *names: str) -> float | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def rest_source(name: str, config: dict) -> Any:
    """dlt's REST API source for `config` (its RESTAPIConfig dict), nested objects as JSON."""
    from dlt.sources.rest_api import rest_api_source

    return rest_api_source(config, name=name, max_table_nesting=0)


# ---------------------------------------------------------------------------------------------
# Sync


def _pipeline(connector: Connector, data_dir: Path):
    import dlt

    folder = dataset_path(data_dir, connector.name).parent
    folder.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"salespipe_{connector.name}",
        pipelines_dir=str(folder / "dlt"),  # dlt's working folder and local state copy
        destination=dlt.destinations.duckdb(str(dataset_path(data_dir, connector.name))),
        dataset_name=connector.name,
        progress=None,
    )


def skipped_line(connector: Connector, api: ApiSource) -> str:
    return (f"{connector.label} API: not configured (set {' and '.join(api.missing)} to sync "
            "it), skipped")


def sync(connector: Connector, data_dir: Path, api: ApiSource | None = None) -> SyncResult:
    """Sync one source into its dataset, then write its snapshot files.

    Not configured: skipped, with one line saying which variable to set. Any failure raises a
    ConnectorError whose message holds no token; nothing of a failed run is stored and the
    incremental cursors stay where the last stored load left them."""
    api = api or connector.settings()
    result = SyncResult(connector.name)
    if not api.configured:
        result.skipped = skipped_line(connector, api)
        log.info(result.skipped)
        return result
    started = dt.datetime.now(dt.UTC)
    check_window(connector, last_stored_sync(connector, data_dir), started)
    secrets = api.secrets
    apply_defaults()  # dlt's telemetry off and its retry settings, unless the user set them
    with _redacting(secrets):
        try:
            pipeline = _pipeline(connector, data_dir)
            info = pipeline.run(connector.source(api))
            result.loaded = _loaded_rows(pipeline, info)
            hold_cursors(pipeline, connector, started - CURSOR_MARGIN)
        except ConnectorError:
            raise
        except Exception as exc:  # noqa: BLE001 - dlt wraps every failure in PipelineStepFailed
            raise _explain(connector, api, exc) from None
    result.snapshots, result.rows = write_snapshots(connector, data_dir)
    log.info(result.line())
    return result


# The API's window is counted from the previous sync's requests, which came before its load was
# stored (`_dlt_loads.inserted_at`): a day of margin covers a long sync and clock differences.
WINDOW_MARGIN = dt.timedelta(days=1)


def last_stored_sync(connector: Connector, data_dir: Path) -> dt.datetime | None:
    """When the last sync whose data dlt stored finished (UTC); None before the first."""
    path = dataset_path(data_dir, connector.name)
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None  # held by a writer or unreadable: dlt's own run reports it
    try:
        stored = con.execute(
            f"select max(inserted_at) from {quote(connector.name)}._dlt_loads "
            "where status = 0").fetchone()[0]
    except duckdb.CatalogException:  # no load stored yet
        return None
    finally:
        con.close()
    if stored is None:
        return None
    return stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)


def check_window(connector: Connector, last: dt.datetime | None, now: dt.datetime) -> None:
    """Stop before syncing when the last stored sync is older than the API's window."""
    window = connector.window
    if window is None or last is None:
        return
    age = now - last
    if age <= dt.timedelta(days=window.days) - WINDOW_MARGIN:
        return
    raise ConnectorError(
        f"{connector.label} API: the last stored sync finished {last:%Y-%m-%d %H:%M} UTC, "
        f"{age.days} days ago, and {connector.label} only shows the last {window.days} days "
        f"of {window.missed}, so this sync would miss some of them for good. It stopped "
        f"before asking for anything; nothing was stored. {window.remedy}")


# The API's clock against this machine's, and the moment before the first list request.
CURSOR_MARGIN = dt.timedelta(minutes=15)


def hold_cursors(pipeline, connector: Connector, until: dt.datetime) -> None:
    """Keep the stored cursors of `connector.cursors_from_start` no later than `until`.

    A list read in id (or unknown) order with "updated since the cursor" loses a record that
    changes after it was read when another, read later, changed later still: the highest
    update time seen, the next cursor, then passes the first change. Everything that changed
    before the sync started was in its lists, so a cursor no later than that start misses
    nothing; the next sync asks again for what changed during this one (merged on id). The
    change goes to dlt's local state, and with the next load into the dataset's."""
    if not connector.cursors_from_start:
        return
    with pipeline.managed_state() as state:
        resources = state.get("sources", {}).get(connector.name, {}).get("resources", {})
        for resource, path in connector.cursors_from_start:
            cursor = resources.get(resource, {}).get("incremental", {}).get(path)
            if cursor and cursor.get("last_value") and (
                    dt.datetime.fromisoformat(cursor["last_value"]) > until):
                cursor["last_value"] = until.replace(microsecond=0).isoformat()
                cursor["unique_hashes"] = []  # they were the rows at the old value


def _loaded_rows(pipeline, info) -> dict[str, int]:
    trace = pipeline.last_trace
    counts: dict[str, int] = {}
    try:
        for table, n in trace.last_normalize_info.row_counts.items():
            if not table.startswith("_dlt"):
                counts[table] = counts.get(table, 0) + n
    except AttributeError:  # nothing was extracted
        pass
    return counts


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__


def _explain(connector: Connector, api: ApiSource, exc: BaseException) -> ConnectorError:
    """The innermost meaningful error of a failed sync, in words, without the token."""
    import requests

    secrets = api.secrets
    for err in _chain(exc):
        if isinstance(err, ConnectorError):  # a connector's own words
            return type(err)(redact(str(err), secrets))
        response = getattr(err, "response", None)
        if isinstance(err, requests.HTTPError) and response is not None:
            status = response.status_code
            where = redact(_path(response.url), secrets)
            if where.endswith("/oauth2/token"):  # the client-credentials flow's token request
                return ConnectorAuthError(
                    f"{connector.label} refused the client credentials ({status} "
                    f"{response.reason}) at {where}.{_api_said(response, secrets)} Check "
                    f"{' and '.join(api.client_env)}, and that the connected app allows the "
                    f"client-credentials flow (see the README, {connector.label}). Nothing was "
                    "synced; the last stored sync stays.")
            if status in (401, 403):
                return ConnectorAuthError(
                    f"{connector.label} API refused the credentials ({status} "
                    f"{response.reason}) at {where}. Check {_credential_names(api)}: the "
                    f"token is missing, expired, revoked or lacks a scope (see the README, "
                    f"{connector.label}). Nothing was synced; the last stored sync stays."
                    + _unattended_hint(api))
            return ConnectorError(
                f"{connector.label} API answered {status} {response.reason} at {where} after "
                f"retries.{_api_said(response, secrets)} Nothing from this run was stored; the "
                "next run resumes from the last stored cursor.")
        if isinstance(err, (json.JSONDecodeError, requests.exceptions.JSONDecodeError)):
            return ConnectorResponseError(
                f"{connector.label} API sent a page that is not valid JSON ({err}). Nothing "
                "from this run was stored; the next run resumes from the last stored cursor.")
        if isinstance(err, (requests.ConnectionError, requests.Timeout)):
            return ConnectorError(
                f"{connector.label} API cannot be reached at {api.base_url} "
                f"({type(err).__name__}) after retries. Check {api.base_url_env} and the "
                "network. Nothing from this run was stored.")
    inner = list(_chain(exc))[-1]
    return ConnectorError(redact(
        f"{connector.label} API sync failed: {type(inner).__name__}: {inner}".strip(), secrets))


def _credential_names(api: ApiSource) -> str:
    return " and ".join(api.client_env) if api.client_id else api.token_env


def _unattended_hint(api: ApiSource) -> str:
    if not api.client_env or api.client_id:
        return ""
    return (f" Access tokens expire: for runs nobody attends, set {' and '.join(api.client_env)}"
            " instead, and each run fetches its own token.")


def _api_said(response, secrets: tuple[str, ...]) -> str:
    """The start of the API's error body (e.g. Salesforce's `No such column ...`), redacted."""
    try:
        text = " ".join(response.text.split())[:300]
    except (UnicodeDecodeError, RuntimeError):  # an unreadable or consumed body
        return ""
    return f" The API said: {redact(text, secrets)}." if text else ""


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path or url


# ---------------------------------------------------------------------------------------------
# Snapshots: the synced dataset as files shaped like the CRM's export


def _dataset_views(con: duckdb.DuckDBPyConnection, connector: Connector, path: Path) -> None:
    """Schema `ds`: each dataset table as a view, or an empty stand-in when never synced."""
    con.execute("create schema if not exists ds")
    present = set()
    if path.exists():
        con.execute(f"attach {literal(str(path))} as src (read_only)")
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'src' "
            "and table_schema = ?", [connector.name]).fetchall()}
    for table, columns in connector.tables.items():
        if table in present:
            con.execute(f"create view ds.{quote(table)} as select * from "
                        f"src.{quote(connector.name)}.{quote(table)}")
        else:
            cols = ", ".join(f"{quote(c)} {t}" for c, t in columns.items())
            con.execute(f"create table ds.{quote(table)} ({cols})")


def write_snapshots(connector: Connector, data_dir: Path) -> tuple[list[Path], dict[str, int]]:
    """Write each snapshot as Parquet (atomically: temp file, then rename)."""
    folder = snapshot_dir(data_dir, connector.name)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written, rows = [], {}
    try:
        con.execute("set TimeZone = 'UTC'")
        _dataset_views(con, connector, dataset_path(data_dir, connector.name))
        for table in connector.tables:
            rows[table] = con.execute(f"select count(*) from ds.{quote(table)}").fetchone()[0]
        for snap in connector.snapshots:
            path = snapshot_path(data_dir, connector.name, snap.target)
            tmp = path.with_suffix(".parquet.tmp")
            con.execute(
                f"copy (select *, row_number() over (order by {snap.order_by}) as _line "
                f"from ({snap.sql(con)}) order by _line) to {literal(str(tmp))} (format parquet)")
            os.replace(tmp, path)
            written.append(path)
    finally:
        con.close()
    return written, rows


def parquet_reader(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Reader (orchestration/ingest) of a snapshot file: every column as text, plus `_line`."""
    try:
        columns = con.execute(
            f"describe select * from read_parquet({literal(str(path))})").fetchall()
    except duckdb.Error as exc:
        raise ReaderError(f"unreadable snapshot ({str(exc).splitlines()[0]})") from None
    select = ", ".join(f"cast({quote(name)} as varchar) as {quote(name)}"
                       for name, *_ in columns if name != "_line")
    return f"select {select}, _line from read_parquet({literal(str(path))})"


def land_snapshot(con: duckdb.DuckDBPyConnection, data_dir: Path, connector_name: str,
                  target: SourceObject) -> LoadResult:
    """Land the latest snapshot of `target` in its raw table like an export file: checksum
    (unchanged: skipped), typing, quarantine and hooks of the existing loader."""
    for table in target.derived:
        create_empty(con, table)
    path = snapshot_path(data_dir, connector_name, target)
    files = [path] if path.exists() else []
    return land_files(con, target.table, files, parquet_reader, list(target.hooks))


def api_status_lines() -> list[str]:
    """One line per CRM API for `salespipe run`: what is synced, or why it is skipped."""
    from orchestration.connectors import all_connectors

    lines = []
    for connector in all_connectors():
        api = connector.settings()
        lines.append(skipped_line(connector, api) if not api.configured else
                     f"{connector.label} API: syncing from {api.base_url}")
    return lines
