"""Run the whole pipeline in-process (what `salespipe run` and the tests call) and summarise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.settings import Settings


class PipelineFailed(RuntimeError):
    """A step failed; the message lists each failed step with its error."""


@dataclass
class RunSummary:
    warehouse: Path
    as_of: str
    mart_rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    flagged_deals: int = 0

    def lines(self) -> list[str]:
        out = [f"Warehouse: {self.warehouse}", f"As of: {self.as_of}", "Marts (rows):"]
        width = max((len(n) for n in self.mart_rows), default=0)
        out += [f"  marts.{name:<{width}}  {rows:>9,}" for name, rows in self.mart_rows.items()]
        out.append(f"Quarantined values: {self.quarantined:,} (see marts.data_quarantine)")
        out.append(f"Deals flagged for pipeline cleaning: {self.flagged_deals:,}")
        return out


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            text = error.message.strip() if error else "unknown error"
            cause = error.cause if error else None
            while cause is not None:  # the user-facing message is usually the innermost one
                text = cause.message.strip()
                cause = cause.cause
            messages.append(f"{event.step_key}: {text}")
    return messages


def run_pipeline(selection: str | None = None, log_level: str = "INFO") -> RunSummary:
    """Materialize every asset (or `selection`) with the settings in the environment."""
    settings = Settings.from_env()
    from orchestration.definitions import all_assets, resources

    result = dg.materialize(
        all_assets,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    if not result.success:
        raise PipelineFailed("\n".join(_failures(result)) or "the run failed")
    return summarise(settings)


def summarise(settings: Settings) -> RunSummary:
    summary = RunSummary(settings.warehouse, settings.as_of.isoformat())
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        for name in marts:
            summary.mart_rows[name] = con.execute(
                f'select count(*) from marts."{name}"').fetchall()[0][0]
        summary.quarantined = con.execute("select count(*) from raw._quarantine").fetchall()[0][0]
        if "deal_alerts" in marts:
            summary.flagged_deals = con.execute(
                "select count(distinct deal_id) from marts.deal_alerts "
                "where status <> 'resolved'").fetchall()[0][0]
    finally:
        con.close()
    return summary
