"""Asset-check results of one run, read from its events (what `salespipe run` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg


@dataclass(frozen=True)
class CheckRow:
    asset: str
    check: str
    passed: bool
    severity: str  # ERROR or WARN
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def line(self) -> str:
        failing = self.metadata.get("unexpected_count")
        counted = f", {failing} failing row(s)" if failing is not None else ""
        if self.metadata.get("failing_columns"):  # a dbt not_null_columns test
            counted = f": {self.metadata['failing_columns']}"
        return f"{self.severity} {self.asset} {self.check}{counted}"


def check_rows(result: dg.ExecuteInProcessResult) -> list[CheckRow]:
    rows = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        ev = event.event_specific_data
        meta = {k: getattr(v, "value", v) for k, v in ev.metadata.items()}
        rows.append(CheckRow(ev.asset_key.to_user_string(), ev.check_name, ev.passed,
                             ev.severity.value, meta))
    return rows


def summary_lines(rows: list[CheckRow]) -> list[str]:
    failed = [r for r in rows if not r.passed]
    # A WARN check that fires is a cleaning task for RevOps, not a broken run: say so.
    warnings = sum(1 for r in failed if r.severity == "WARN")
    head = (f"Data-quality checks: {len(rows) - len(failed)} passed, {warnings} warning(s), "
            f"{len(failed) - warnings} error(s)")
    out = [head]
    out += [f"  {r.line()}" for r in failed]
    return out
