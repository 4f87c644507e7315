"""Every setting salespipe reads from the environment, with defaults that make the demo work.

This is the one module that reads `SALESPIPE_*` variables. Dagster resources refer to the same
variables through `EnvVar`; `apply_defaults()` puts the defaults into the environment first so
that `EnvVar` (and dbt's `env_var()`) always resolve.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class SettingsError(ValueError):
    """A setting has a value salespipe cannot use; the message names the variable to fix."""


def _defaults() -> dict[str, str]:
    data_dir = Path(os.environ.get("SALESPIPE_DATA_DIR", PROJECT_ROOT / "data"))
    return {
        "SALESPIPE_DATA_DIR": str(data_dir),
        "SALESPIPE_SOURCE_DIR": str(PROJECT_ROOT / "seeds"),
        "SALESPIPE_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
        # Empty means "today": nightly runs measure staleness against the day they run.
        "SALESPIPE_AS_OF": "",
        "SALESPIPE_DUCKDB_THREADS": "",
        "SALESPIPE_DUCKDB_MEMORY_LIMIT": "",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


def apply_defaults() -> None:
    """Fill unset variables with their defaults (never overrides what the user set)."""
    for name, value in _defaults().items():
        os.environ.setdefault(name, value)


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
        apply_defaults()
        env = os.environ
        threads = env["SALESPIPE_DUCKDB_THREADS"]
        if threads and not threads.isdigit():
            raise SettingsError(f"SALESPIPE_DUCKDB_THREADS must be a whole number, got {threads!r}")
        return cls(
            data_dir=Path(env["SALESPIPE_DATA_DIR"]),
            source_dir=Path(env["SALESPIPE_SOURCE_DIR"]),
            warehouse=Path(env["SALESPIPE_WAREHOUSE"]),
            as_of=parse_as_of(env["SALESPIPE_AS_OF"]),
            duckdb_threads=int(threads) if threads else None,
            duckdb_memory_limit=env["SALESPIPE_DUCKDB_MEMORY_LIMIT"] or None,
        )


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"SALESPIPE_TIMEZONE must be an IANA time zone like Europe/Berlin, got {name!r}"
        ) from None
    return name


@dataclass(frozen=True)
class OperationsSettings:
    """Nightly operations: publication folder, schedule, source freshness, test pause hook.

    Read lazily (not via `apply_defaults`) so the publication folder follows
    SALESPIPE_DATA_DIR even when that changes within one process (tests)."""

    publish_dir: Path
    schedule_cron: str
    timezone: str
    max_source_age_hours: float
    # Test hook: "<phase>:<seconds>" sleeps at that phase (only "publish" is used) so a test
    # can kill the process at a known point. Empty in production.
    pause_at: str

    @classmethod
    def from_env(cls) -> OperationsSettings:
        env = os.environ
        data_dir = Path(env.get("SALESPIPE_DATA_DIR") or PROJECT_ROOT / "data")
        age = env.get("SALESPIPE_MAX_SOURCE_AGE_HOURS") or "36"
        try:
            max_age = float(age)
        except ValueError:
            raise SettingsError(
                f"SALESPIPE_MAX_SOURCE_AGE_HOURS must be a number of hours, got {age!r}"
            ) from None
        return cls(
            publish_dir=Path(env.get("SALESPIPE_PUBLISH_DIR") or data_dir / "published"),
            schedule_cron=env.get("SALESPIPE_SCHEDULE_CRON") or "0 2 * * *",
            timezone=_timezone(env.get("SALESPIPE_TIMEZONE") or "UTC"),
            max_source_age_hours=max_age,
            pause_at=env.get("SALESPIPE_PAUSE_AT", ""),
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
    alert_webhook: str

    @classmethod
    def from_env(cls) -> ReportSettings:
        env = os.environ
        data_dir = Path(env.get("SALESPIPE_DATA_DIR") or PROJECT_ROOT / "data")
        return cls(
            report_dir=Path(env.get("SALESPIPE_REPORT_DIR") or data_dir / "reports"),
            alert_webhook=env.get("SALESPIPE_ALERT_WEBHOOK", "").strip(),
        )
