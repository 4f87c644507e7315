"""Every setting salespipe reads from the environment, with defaults that make the demo work.

This is the one module that reads `SALESPIPE_*` variables. The settings objects below read
them with their defaults and never change the environment. Dagster resources refer to the same
variables through `EnvVar`, and dbt's profiles.yml through `env_var()`, so the two entry points
(the Dagster definitions loader and the command line) call `apply_defaults()` once, which puts
the defaults into the environment for them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.registry import CRMS, ApiVars, crm

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# `salespipe run` keeps this many full run logs in $SALESPIPE_DATA_DIR/logs (the newest).
RUN_LOGS_KEPT = 20


class SettingsError(ValueError):
    """A setting has a value salespipe cannot use; the message names the variable to fix."""


def data_dir() -> Path:
    """SALESPIPE_DATA_DIR, else data/ in the project: where the warehouse and state live."""
    return Path(os.environ.get("SALESPIPE_DATA_DIR") or PROJECT_ROOT / "data")


def _api_defaults() -> dict[str, str]:
    """Every CRM's credential variables, empty (that API is skipped), so each Dagster EnvVar
    resolves; base URLs empty too (the registry's default applies; tests point them at local
    servers)."""
    return {name: "" for c in CRMS if c.api for name in c.api.names}


def _defaults() -> dict[str, str]:
    data_dir_ = data_dir()
    return {
        "SALESPIPE_DATA_DIR": str(data_dir_),
        "SALESPIPE_SOURCE_DIR": str(PROJECT_ROOT / "seeds"),
        "SALESPIPE_WAREHOUSE": str(data_dir_ / "warehouse.duckdb"),
        # Empty means "today": nightly runs measure staleness against the day they run.
        "SALESPIPE_AS_OF": "",
        "SALESPIPE_DUCKDB_THREADS": "",
        # Bounded by default, so a run stays within ~4 GB at 1M deals and 20M activities
        # (DuckDB's own default is 80% of RAM); DuckDB spills to disk beyond it. Raise it on a
        # machine that can spare the memory, for speed.
        "SALESPIPE_DUCKDB_MEMORY_LIMIT": "2GB",
        # What DuckDB picks itself (one thread per core); profiles.yml uses it when
        # SALESPIPE_DUCKDB_THREADS is empty, since DuckDB's SET has no "default" value.
        "SALESPIPE_DUCKDB_DEFAULT_THREADS": str(os.cpu_count() or 1),
        # dbt models and tests built at once (profiles.yml, duckdb target). Two: while one node
        # spends its ~30 ms of dbt's own Python, the other's query uses the cores (a night at M:
        # dbt 31.6 -> 23.1 s on 2 cores, benchmarks/RESULTS.md). Every thread shares one DuckDB
        # database, so SALESPIPE_DUCKDB_MEMORY_LIMIT still bounds them all.
        "SALESPIPE_DBT_THREADS": "2",
        # A dbt build is left out when nothing it reads changed since the last build that
        # passed (orchestration/transform/unchanged.py); false: every run builds and tests.
        "SALESPIPE_DBT_SKIP_UNCHANGED": "true",
        # Engine that runs the dbt models (duckdb | spark) and the Spark settings: see
        # EngineSettings below and profiles.yml (`spark`, `spark_connect`, `spark_cluster`).
        "SALESPIPE_ENGINE": "duckdb",
        # A Spark Connect server in front of a cluster (sc://host:port[/;token=...]); empty:
        # local Spark. Holds a credential when it has a token: never printed (redact_remote).
        "SALESPIPE_SPARK_REMOTE": "",
        # Seconds a cluster's Connect server may not answer during a dbt build before the build
        # is stopped (pyspark's client alone would wait about 10 minutes per statement).
        "SALESPIPE_SPARK_LOST_AFTER": "45",
        "SALESPIPE_SPARK_METHOD": "session",
        "SALESPIPE_SPARK_MASTER": "local[*]",
        "SALESPIPE_SPARK_HOST": "",
        "SALESPIPE_SPARK_PORT": "443",
        "SALESPIPE_SPARK_CLUSTER": "",
        "SALESPIPE_SPARK_ENDPOINT": "",
        "SALESPIPE_SPARK_TOKEN": "",
        "SALESPIPE_SPARK_SCHEMA": "salespipe",
        "SALESPIPE_SPARK_FILE_FORMAT": "parquet",
        # Small marts: Spark's default of 200 shuffle partitions makes each model ~10x slower.
        "SALESPIPE_SPARK_SHUFFLE_PARTITIONS": "4",
        # JVM options of local Spark. C1-only JIT: for a short run on small data, C2's
        # compilation costs more CPU than it saves (a 5-mart rebuild: 55 s instead of 80 s on
        # 2 busy cores); clear it for long runs on large data.
        "SALESPIPE_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m",
        # Local Spark logs errors only (profiles.yml passes this file to the JVM).
        "SALESPIPE_SPARK_LOG4J": str(PROJECT_ROOT / "orchestration" / "engines" /
                                     "log4j2.properties"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        # dlt (CRM API connectors, orchestration/connectors): no telemetry; request retries
        # (5xx, 429 honouring Retry-After, timeouts) with exponential backoff.
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__REQUEST_MAX_ATTEMPTS": "6",
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "1",
        "RUNTIME__REQUEST_MAX_RETRY_DELAY": "120",
        "RUNTIME__REQUEST_TIMEOUT": "60",
        **_api_defaults(),
        # How far back each HubSpot search starts before the stored cursor: HubSpot indexes
        # changes for search "a few moments" after they are made, so a record indexed late
        # behind one already read would be skipped (README, HubSpot).
        "SALESPIPE_HUBSPOT_SEARCH_LOOKBACK_MINUTES": "30",
        "SALESPIPE_SALESFORCE_API_VERSION": "62.0",
        # A single-currency org has no CurrencyIsoCode field: its currency code (e.g. USD).
        "SALESPIPE_SALESFORCE_CURRENCY": "",
        # The drop folder (README, Security): symbolic links in SALESPIPE_SOURCE_DIR are refused
        # unless this is true, and then only links whose target stays inside the folder.
        "SALESPIPE_ALLOW_LINKS_INSIDE": "false",
        # A file with more columns is refused: each column is a raw-table column, and new
        # columns joining a table of 100,000 rows take ~1.9 GB at 2,000 columns and more than
        # the 2 GB memory limit at 3,000 (benchmarks/RESULTS.md, wide files).
        "SALESPIPE_MAX_COLUMNS_PER_FILE": "2000",
    }


def apply_defaults() -> None:
    """Fill unset variables with their defaults (never overrides what the user set), for what
    reads the environment itself: Dagster's EnvVar, dbt's profiles.yml, dlt's RUNTIME__*.
    Called by the entry points only (orchestration/definitions.py, orchestration/cli.py)."""
    for name, value in _defaults().items():
        os.environ.setdefault(name, value)


def _env(name: str) -> str:
    """A variable as the user set it, else its default; the environment is left alone."""
    value = os.environ.get(name)
    return _defaults()[name] if value is None else value


def parse_as_of(value: str | None) -> dt.date:
    """The as-of date: an ISO date, or empty for today."""
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SettingsError(
            f"SALESPIPE_AS_OF / --as-of must be a date like 2026-10-31, got {value!r}"
        ) from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source_dir: Path
    warehouse: Path
    as_of: dt.date
    duckdb_threads: int | None
    duckdb_memory_limit: str | None

    @classmethod
    def from_env(cls) -> Settings:
        threads = _env("SALESPIPE_DUCKDB_THREADS")
        if threads and not threads.isdigit():
            raise SettingsError(f"SALESPIPE_DUCKDB_THREADS must be a whole number, got {threads!r}")
        dbt_threads = _env("SALESPIPE_DBT_THREADS")
        if not (dbt_threads.isdigit() and int(dbt_threads) > 0):
            raise SettingsError("SALESPIPE_DBT_THREADS must be a whole number of 1 or more "
                                f"(dbt models built at once), got {dbt_threads!r}")
        return cls(
            data_dir=Path(_env("SALESPIPE_DATA_DIR")),
            source_dir=Path(_env("SALESPIPE_SOURCE_DIR")),
            warehouse=Path(_env("SALESPIPE_WAREHOUSE")),
            as_of=parse_as_of(_env("SALESPIPE_AS_OF")),
            duckdb_threads=int(threads) if threads else None,
            duckdb_memory_limit=_env("SALESPIPE_DUCKDB_MEMORY_LIMIT") or None,
        )

    @property
    def log_dir(self) -> Path:
        """Where each run's full log (Dagster's events, dbt's lines) is written."""
        return self.data_dir / "logs"


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"SALESPIPE_TIMEZONE must be an IANA time zone like Europe/Berlin, got {name!r}"
        ) from None
    return name


# The oldest storage format DuckDB 2.0 writes: DuckDB 0.10 to 1.1 all read and write it (the
# names v0.10.0 to v1.1.3 give the same format), and it holds every type the marts use;
# measured in the README's "What BI tools should read".
PUBLISH_STORAGE_VERSION = "v1.0.0"


def _storage_version(value: str) -> str:
    """SALESPIPE_PUBLISH_STORAGE_VERSION as DuckDB's ATTACH takes it: `v1.0.0`, or `latest`.
    DuckDB itself refuses a version it does not know, when publishing."""
    version = value.strip() or PUBLISH_STORAGE_VERSION
    version = version if version[:1] in ("v", "l") else f"v{version}"
    if version != "latest" and not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise SettingsError(
            "SALESPIPE_PUBLISH_STORAGE_VERSION must be a DuckDB version like v1.0.0 (the oldest "
            f"DuckDB that should open the published file) or latest, got {value!r}")
    return version


@dataclass(frozen=True)
class OperationsSettings:
    """Nightly operations: publication folder, schedule, source freshness, test pause hook.

    Read when used, so the publication folder follows SALESPIPE_DATA_DIR even when that
    changes within one process (tests)."""

    publish_dir: Path
    schedule_cron: str
    timezone: str
    max_source_age_hours: float
    # Test hook: "<phase>:<seconds>" sleeps at that phase (only "publish" is used) so a test
    # can kill the process at a known point. Empty in production.
    pause_at: str
    # DuckDB storage format of the published file: BI tools embed older DuckDB drivers, which
    # cannot open a file in a newer format (orchestration/publish/compat.py)
    publish_storage_version: str = PUBLISH_STORAGE_VERSION
    # SALESPIPE_PUBLISH_FACTS_BY_MONTH: the large facts' Parquet as a folder of monthly
    # partitions (orchestration/publish/partitions.py; issue 26's decision 4, and at L a night
    # and the weekly rebuild cost less so), or `false` for one file each
    publish_facts_by_month: bool = True

    @classmethod
    def from_env(cls) -> OperationsSettings:
        env = os.environ
        age = env.get("SALESPIPE_MAX_SOURCE_AGE_HOURS") or "36"
        try:
            max_age = float(age)
        except ValueError:
            raise SettingsError(
                f"SALESPIPE_MAX_SOURCE_AGE_HOURS must be a number of hours, got {age!r}"
            ) from None
        return cls(
            publish_dir=Path(env.get("SALESPIPE_PUBLISH_DIR") or data_dir() / "published"),
            schedule_cron=env.get("SALESPIPE_SCHEDULE_CRON") or "0 2 * * *",
            timezone=_timezone(env.get("SALESPIPE_TIMEZONE") or "UTC"),
            max_source_age_hours=max_age,
            pause_at=env.get("SALESPIPE_PAUSE_AT", ""),
            publish_storage_version=_storage_version(
                env.get("SALESPIPE_PUBLISH_STORAGE_VERSION", "")),
            publish_facts_by_month=_true_or_false(
                "SALESPIPE_PUBLISH_FACTS_BY_MONTH", env.get("SALESPIPE_PUBLISH_FACTS_BY_MONTH", ""),
                "true"),
        )

    def pause(self, phase: str) -> None:
        """Sleep if the test hook asks for a pause at `phase` (announced on stderr)."""
        name, _, seconds = self.pause_at.partition(":")
        if name == phase:
            import sys
            import time

            print(f"salespipe: pausing at {phase}", file=sys.stderr, flush=True)
            time.sleep(float(seconds or 60))


@dataclass(frozen=True)
class ReportSettings:
    """The report RevOps reads and the alert webhook.

    Read lazily, like OperationsSettings, so the report folder follows SALESPIPE_DATA_DIR."""

    report_dir: Path
    # Slack-compatible incoming-webhook URL for the summary of new alerts; empty: none sent.
    # A secret (whoever has it posts to the channel): never in repr(), messages or logs.
    alert_webhook: str = field(repr=False)
    # Why a SALESPIPE_ALERT_WEBHOOK that is set is not used (then alert_webhook is empty): a
    # warning, never an error, since the webhook never fails a run; it never holds the URL.
    webhook_problem: str = ""

    @classmethod
    def from_env(cls) -> ReportSettings:
        env = os.environ
        url = env.get("SALESPIPE_ALERT_WEBHOOK", "").strip()
        problem = webhook_problem(url, env.get(WEBHOOK_LOCAL_HTTP, ""))
        return cls(
            report_dir=Path(env.get("SALESPIPE_REPORT_DIR") or data_dir() / "reports"),
            alert_webhook="" if problem else url,
            webhook_problem=problem,
        )


# Allows an http:// webhook on this machine (a relay, the tests' local server); anything else
# must be https://, since the summary names deals, owners and amounts.
WEBHOOK_LOCAL_HTTP = "SALESPIPE_ALERT_WEBHOOK_ALLOW_LOCAL_HTTP"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def webhook_problem(url: str, allow_local_http: str) -> str:
    """Why the webhook URL cannot be used ("" when it can, or when none is set), naming the
    setting and never quoting the URL."""
    if not url:
        return ""
    fix = "no alert summary is sent until then; the report is written as usual"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        host = None
    if host is None or parts.scheme not in ("https", "http") or not url.isprintable() \
            or any(c.isspace() for c in url):
        return ("SALESPIPE_ALERT_WEBHOOK is not a URL like https://hooks.slack.com/services/..."
                f": {fix}")
    if parts.scheme == "https":
        return ""
    allowed = allow_local_http.strip().lower()
    if allowed not in ("", "true", "false", "1", "0", "yes", "no"):
        return f"{WEBHOOK_LOCAL_HTTP} must be true or false: {fix}"
    if host in LOCAL_HOSTS and allowed in ("true", "1", "yes"):
        return ""
    return ("SALESPIPE_ALERT_WEBHOOK must be an https:// URL (http:// only to localhost, with "
            f"{WEBHOOK_LOCAL_HTTP}=true): {fix}")


ENGINES = ("duckdb", "spark")
DBT_LOG_LEVELS = ("none", "debug", "info", "warn", "error")


def _dbt_log_level(value: str) -> str:
    level = value.strip().lower() or "none"
    if level not in DBT_LOG_LEVELS:
        raise SettingsError(f"SALESPIPE_DBT_LOG_FILE must be one of {', '.join(DBT_LOG_LEVELS)}"
                            f" (or empty for none), got {value!r}")
    return level


def redact_remote(url: str) -> str:
    """A Spark Connect URL fit to print: every parameter's value after the first `;`
    (token=..., user_id=...) replaced, so a token never reaches a log or a message."""
    base, _, params = url.partition(";")
    hidden = [f"{p.split('=', 1)[0]}=***" for p in params.split(";") if p]
    return ";".join([base, *hidden])


def _spark_remote(value: str) -> str:
    url = value.strip()
    if url and not re.fullmatch(r"sc://[^/:;]+(:\d+)?(/(;[^;=]+=[^;]*)*)?", url):
        raise SettingsError(
            "SALESPIPE_SPARK_REMOTE must be a Spark Connect URL, sc://host:port (with "
            f"/;token=... where the server needs one), got {redact_remote(url)!r}")
    return url


def _seconds(name: str) -> int:
    value = _env(name).strip()
    if not value.isdigit() or int(value) == 0:
        raise SettingsError(f"{name} must be a whole number of seconds above 0, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class EngineSettings:
    """Which engine runs the dbt models, and where Spark finds the raw layer and its files.

    Read when used, like OperationsSettings, so the folders follow SALESPIPE_DATA_DIR. dbt's
    profiles.yml reads the Spark connection variables (SALESPIPE_SPARK_METHOD, _MASTER, _HOST,
    _PORT, _CLUSTER, _ENDPOINT, _TOKEN, _SCHEMA) through env_var(); the Spark reader of the
    marts (orchestration/engines/spark.py) gets its session settings from here."""

    engine: str
    raw_dir: str  # a folder, or an object-store URI (s3a://, abfss://) a cluster can read
    spark_dir: Path  # local Spark's warehouse dir, Derby metastore and derby.log
    spark_method: str
    file_format: str  # parquet locally; delta/iceberg/hudi on a lakehouse cluster
    # dbt's own log file (every SQL statement at debug): off unless asked for, since writing
    # it costs dbt about 1.5 s a build even on the sample; Dagster keeps dbt's events anyway
    dbt_file_log: str = "none"
    # local Spark's session (the reader of the marts uses the same values as dbt's profile)
    spark_master: str = "local[*]"
    spark_shuffle_partitions: str = "4"
    spark_java_options: str = ""
    spark_log4j: str = ""
    # Spark Connect URL (sc://...); may hold a token, hence kept out of repr()
    spark_remote: str = field(default="", repr=False)
    spark_lost_after: int = 45  # seconds without an answer before a build on it is stopped
    skip_unchanged: bool = True  # leave out a build whose inputs are those of the last clean one

    @classmethod
    def from_env(cls) -> EngineSettings:
        engine = _env("SALESPIPE_ENGINE").strip().lower()
        if engine not in ENGINES:
            raise SettingsError(f"SALESPIPE_ENGINE / --engine must be one of "
                                f"{', '.join(ENGINES)}, got {engine!r}")
        return cls(
            engine=engine,
            raw_dir=os.environ.get("SALESPIPE_RAW_DIR") or str(data_dir() / "raw"),
            spark_dir=Path(os.environ.get("SALESPIPE_SPARK_DIR") or
                           data_dir() / "spark").resolve(),
            spark_method=_env("SALESPIPE_SPARK_METHOD").strip().lower(),
            file_format=_env("SALESPIPE_SPARK_FILE_FORMAT").strip().lower(),
            dbt_file_log=_dbt_log_level(os.environ.get("SALESPIPE_DBT_LOG_FILE", "")),
            spark_master=_env("SALESPIPE_SPARK_MASTER") or "local[*]",
            spark_shuffle_partitions=_env("SALESPIPE_SPARK_SHUFFLE_PARTITIONS") or "4",
            spark_java_options=_env("SALESPIPE_SPARK_JAVA_OPTIONS"),
            spark_log4j=_env("SALESPIPE_SPARK_LOG4J"),
            spark_remote=_spark_remote(_env("SALESPIPE_SPARK_REMOTE")),
            spark_lost_after=_seconds("SALESPIPE_SPARK_LOST_AFTER"),
            skip_unchanged=_true_or_false("SALESPIPE_DBT_SKIP_UNCHANGED",
                                          _env("SALESPIPE_DBT_SKIP_UNCHANGED"), "true"),
        )

    @property
    def uses_connect(self) -> bool:
        """Spark through a Spark Connect server: no local JVM, marts live on the cluster."""
        return self.engine == "spark" and bool(self.spark_remote)

    def dbt_log_args(self) -> list[str]:
        """dbt's flag for its log file (dagster-dbt puts dbt.log in the run's target folder)."""
        return ["--log-level-file", self.dbt_file_log]

    @property
    def dbt_target(self) -> str:
        """The profiles.yml output: duckdb, local Spark (session) or a Spark cluster."""
        if self.engine == "duckdb":
            return "duckdb"
        if self.uses_connect:
            return "spark_connect"
        return "spark" if self.spark_method == "session" else "spark_cluster"

    def export(self) -> None:
        """Put the resolved folders into the environment dbt's profiles.yml reads."""
        os.environ["SALESPIPE_RAW_DIR"] = self.raw_dir
        os.environ["SALESPIPE_SPARK_DIR"] = str(self.spark_dir)
        # dbt scrubs DBT_ENV_SECRET_* values from its logs (the URL may hold a token)
        os.environ["DBT_ENV_SECRET_SALESPIPE_SPARK_REMOTE"] = self.spark_remote


@dataclass(frozen=True)
class ApiSource:
    """One CRM API connector's settings (orchestration/connectors). The token never appears
    in repr() or logs."""

    name: str
    token: str = field(repr=False)
    token_env: str = ""
    base_url: str = ""
    base_url_env: str = ""
    missing: tuple[str, ...] = ()  # variables that must be set for the source to sync
    # OAuth client credentials (Salesforce), which fetch access tokens instead of `token`
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    client_env: tuple[str, ...] = ()  # their variables: (client id, client secret)

    @property
    def configured(self) -> bool:
        return not self.missing

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message or a log line."""
        return tuple(s for s in (self.token, self.client_secret) if s)


def api_settings(name: str, token: str | None = None, base_url: str | None = None,
                 client: tuple[str | None, str | None] = (None, None)) -> ApiSource:
    """Settings of one CRM's API, from the variables the registry names for it
    (orchestration/registry.py): its token and base URL (empty: the registry's default URL; a
    CRM without one, like ActiveCampaign's per-account URL, needs it set) and, where it has
    them, an OAuth client id and secret, which (both set) stand in for the token. Given values
    (a Dagster resource resolved them through EnvVar) win over the environment."""
    api: ApiVars = crm(name).api
    env = os.environ
    token = (env.get(api.token, "") if token is None else token).strip()
    base_url = ((env.get(api.base_url, "") if base_url is None else base_url).strip()
                or api.default_base_url).rstrip("/")
    ids = tuple((env.get(var, "") if value is None else value).strip()
                for var, value in zip(api.client, client, strict=False))
    if len(ids) != 2 or not all(ids):
        ids = ("", "")
    missing = tuple(var for var, value in ((api.base_url, base_url),) if not value)
    if not token and not ids[0]:
        alternative = f"{' and '.join(api.client)} (or {api.token})" if api.client else api.token
        missing = (alternative, *missing)
    return ApiSource(name, token, api.token, base_url, api.base_url, missing,
                     client_id=ids[0], client_secret=ids[1], client_env=api.client)


def hubspot_search_lookback_seconds() -> int:
    """SALESPIPE_HUBSPOT_SEARCH_LOOKBACK_MINUTES (default 30) in seconds: the overlap each
    HubSpot search re-reads before the stored cursor (0 turns it off)."""
    name = "SALESPIPE_HUBSPOT_SEARCH_LOOKBACK_MINUTES"
    value = _env(name).strip() or _defaults()[name]
    if not value.isdigit():
        raise SettingsError(
            f"{name} must be a whole number of minutes (0 or more), like 30; got {value!r}")
    return int(value) * 60


def salesforce_api_version() -> str:
    """SALESPIPE_SALESFORCE_API_VERSION as `62.0` (a leading `v` is accepted)."""
    value = (os.environ.get("SALESPIPE_SALESFORCE_API_VERSION", "") or "62.0").strip()
    value = value[1:] if value[:1] in ("v", "V") else value
    major, dot, minor = value.partition(".")
    if not (major.isdigit() and dot and minor.isdigit()):
        raise SettingsError(
            f"SALESPIPE_SALESFORCE_API_VERSION must be a REST API version like 62.0, got {value!r}")
    return value


def _currency_code(name: str) -> str | None:
    value = os.environ.get(name, "").strip().upper()
    if value and not (len(value) == 3 and value.isalpha()):
        raise SettingsError(f"{name} must be an ISO currency code like USD, got {value!r}")
    return value or None


def salesforce_currency() -> str | None:
    """SALESPIPE_SALESFORCE_CURRENCY: empty for a multi-currency org (each opportunity's
    CurrencyIsoCode is synced), else the single-currency org's ISO code, e.g. USD."""
    return _currency_code("SALESPIPE_SALESFORCE_CURRENCY")


def hubspot_currency() -> str | None:
    """SALESPIPE_HUBSPOT_CURRENCY: the currency of HubSpot deals exported without one (no
    Currency column, or an empty value: the account's company currency), e.g. EUR; empty: such
    amounts have no currency (`unknown` in the metrics)."""
    return _currency_code("SALESPIPE_HUBSPOT_CURRENCY")


def hubspot_file_settings() -> tuple[str | None, str | None]:
    """How HubSpot export files are read (orchestration/sources/hubspot.py): the encoding of
    its CSVs (SALESPIPE_HUBSPOT_ENCODING, e.g. windows-1252; empty: UTF-8, the encoding
    HubSpot writes) and its number format (SALESPIPE_HUBSPOT_NUMBER_FORMAT, an example number
    such as 1,234.56 or 1.234,56; empty: decided per column from the values)."""
    encoding = os.environ.get("SALESPIPE_HUBSPOT_ENCODING", "").strip() or None
    number = os.environ.get("SALESPIPE_HUBSPOT_NUMBER_FORMAT", "").strip() or None
    return encoding, number


def salesforce_file_settings() -> tuple[str | None, str | None, tuple[str, ...]]:
    """How Salesforce report exports are read (orchestration/sources/salesforce.py): their
    encoding (SALESPIPE_SALESFORCE_ENCODING; empty: UTF-8), number format
    (SALESPIPE_SALESFORCE_NUMBER_FORMAT, an example number such as 1,234.56; empty: decided per
    column) and date formats (SALESPIPE_SALESFORCE_DATE_FORMATS, strptime formats separated by
    `;`, e.g. `%d/%m/%Y;%d/%m/%Y %H:%M`; empty: the day/month order read off the file). Reports
    write numbers and dates in the exporting user's locale."""
    encoding = os.environ.get("SALESPIPE_SALESFORCE_ENCODING", "").strip() or None
    number = os.environ.get("SALESPIPE_SALESFORCE_NUMBER_FORMAT", "").strip() or None
    raw = os.environ.get("SALESPIPE_SALESFORCE_DATE_FORMATS", "")
    formats = tuple(f.strip() for f in raw.split(";") if f.strip())
    bad = [f for f in formats if "%" not in f]
    if bad:
        raise SettingsError(f"SALESPIPE_SALESFORCE_DATE_FORMATS must be strptime formats "
                            f"separated by ';' (e.g. %d/%m/%Y;%d/%m/%Y %H:%M), got {raw!r}")
    return encoding, number, formats


def allow_links_inside() -> bool:
    """SALESPIPE_ALLOW_LINKS_INSIDE: whether symbolic links in the source folder are followed
    (only when their target stays inside it); false by default."""
    return _true_or_false("SALESPIPE_ALLOW_LINKS_INSIDE", _env("SALESPIPE_ALLOW_LINKS_INSIDE"),
                          "false")


def _true_or_false(name: str, value: str, default: str) -> bool:
    """A yes/no variable's value (`default` when empty); anything else is refused."""
    value = value.strip().lower() or default
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name} must be true or false, got {value!r}")
    return value in ("true", "1", "yes")


def max_columns_per_file() -> int:
    """SALESPIPE_MAX_COLUMNS_PER_FILE (default 2000): the most columns one export file may
    have; a wider file is refused before it reaches the warehouse."""
    name = "SALESPIPE_MAX_COLUMNS_PER_FILE"
    value = _env(name).strip() or _defaults()[name]
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of columns (1 or more), like 2000; "
                            f"got {value!r}")
    return int(value)
