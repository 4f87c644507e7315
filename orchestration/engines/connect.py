"""Spark through a Spark Connect server (SALESPIPE_SPARK_REMOTE): a cluster's marts read back
as pandas, and the check that the server answers before a run starts.

dbt builds on the cluster through dbt-spark's `session` method (profiles.yml `spark_connect`):
pyspark's builder returns a Connect client when `spark.remote` is set, so no JVM starts here.
This module opens the same kind of session for the Python parts of a run (checks, the report
and alerts, the run summary); the marts are the cluster's catalog tables, so they are queried
in place and only small results (counts, alert lists, one mart) travel back, as Arrow.
The URL may hold a token: messages show it through `redact_remote` only.
"""

from __future__ import annotations

import atexit
import socket
from urllib.parse import urlsplit

import pandas as pd

from orchestration.settings import EngineSettings, redact_remote

DEFAULT_PORT = 15002  # Spark Connect's, when the URL names none
CONNECT_TIMEOUT = 10  # seconds to open the TCP connection to the server
MAX_BACKOFF_MS = 10_000  # longest wait between two retries of a statement
_SESSIONS: dict[str, object] = {}


class ClusterUnreachable(RuntimeError):
    """The Spark Connect server does not answer; the message names SALESPIPE_SPARK_REMOTE."""


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url.split(";", 1)[0].replace("sc://", "http://", 1))
    return parts.hostname or "", parts.port or DEFAULT_PORT


def _unreachable(settings: EngineSettings, why: str) -> ClusterUnreachable:
    return ClusterUnreachable(
        f"the Spark cluster at SALESPIPE_SPARK_REMOTE={redact_remote(settings.spark_remote)} "
        f"does not answer ({why}): start its Spark Connect server, or fix "
        "SALESPIPE_SPARK_REMOTE (unset it to build on local Spark)")


def retry_policy(seconds: float):
    """pyspark's default retry policy with only as many retries as fit in `seconds`
    (SALESPIPE_SPARK_LOST_AFTER): its own (15 retries, waits growing to 60 s) waits about ten
    minutes before a statement to a server that went away fails."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    policy = DefaultPolicy(max_backoff=MAX_BACKOFF_MS)
    waited, wait, retries = 0.0, policy.initial_backoff, 0
    while waited + wait <= seconds * 1000:
        waited, retries = waited + wait, retries + 1
        wait = min(wait * policy.backoff_multiplier, MAX_BACKOFF_MS)
    return DefaultPolicy(max_retries=retries, max_backoff=MAX_BACKOFF_MS)


def _close(spark) -> None:
    if not spark.client.is_closed:
        spark.client.close()


def session(settings: EngineSettings):
    """The Connect session of this process (one per URL, reused)."""
    if settings.spark_remote not in _SESSIONS:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.remote(settings.spark_remote).create()
        spark.client.set_retry_policies([retry_policy(settings.spark_lost_after)])
        # pyspark's own clean-up at exit calls the server (and retries when it is gone);
        # registered after it, this runs first and closes the channel, so it is skipped
        atexit.register(_close, spark)
        try:
            spark.conf.set("spark.sql.session.timeZone", "UTC")  # the first call to the server
        except Exception:
            _close(spark)
            raise
        _SESSIONS[settings.spark_remote] = spark
    return _SESSIONS[settings.spark_remote]


def tcp_problem(settings: EngineSettings, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Why the Connect server's port does not accept a connection (None: it does)."""
    host, port = _address(settings.spark_remote)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def handshake_problem(settings: EngineSettings, timeout: float) -> str | None:
    """Why the Connect server, its port open, does not finish gRPC's handshake in `timeout`
    seconds (None: it does). The kernel accepts TCP connections for a JVM that hangs (stopped,
    stuck in garbage collection); the HTTP/2 settings (and TLS) it owes the client it does not
    send. A fresh channel each time: a reused one would answer from its old connection."""
    import grpc
    from pyspark.sql.connect.client.core import DefaultChannelBuilder

    channel = DefaultChannelBuilder(settings.spark_remote).toChannel()
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        return f"the port accepts connections but the server does not answer in {timeout:.0f} s"
    finally:
        channel.close()
    return None


def check_cluster(settings: EngineSettings) -> str:
    """The cluster's Spark version, or ClusterUnreachable. The TCP connection is tried first:
    pyspark's client retries a refused connection with backoff for minutes before it fails."""
    if (problem := tcp_problem(settings)) is not None:
        raise _unreachable(settings, problem)
    try:
        return session(settings).version
    except Exception as exc:  # noqa: BLE001 - gRPC and pyspark errors alike mean no cluster
        if (spark := _SESSIONS.pop(settings.spark_remote, None)) is not None:
            _close(spark)
        why = type(exc).__name__
        if "SSL" in str(exc):  # pyspark speaks TLS to any host but localhost once a token is set
            why = "TLS handshake failed: with a token in the URL the server must serve TLS"
        raise _unreachable(settings, why) from None


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class ConnectReader:
    """`query(sql)` on the tables dbt built on the cluster (schema-qualified: marts.fct_deals)."""

    def __init__(self, settings: EngineSettings):
        self.spark = session(settings)

    def table_names(self, schema: str) -> list[str]:
        if not self.spark.catalog.databaseExists(schema):
            return []
        return sorted(t.name for t in self.spark.catalog.listTables(schema)
                      if not t.name.endswith(("__dbt_tmp", "__dbt_rebuild")))

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()


def marts_location(settings: EngineSettings) -> dict[str, str]:
    """Where the cluster keeps each mart (its catalog's Location: a folder or an object-store
    URI), for the publish step's metadata."""
    reader = ConnectReader(settings)
    found = {}
    for table in reader.table_names("marts"):
        rows = reader.query(f"describe table extended marts.{_quote(table)}")
        location = rows.loc[rows["col_name"] == "Location", "data_type"]
        found[table] = str(location.iloc[0]) if len(location) else ""
    return found
