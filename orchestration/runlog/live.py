"""The live view of `salespipe run`: one line per phase of the run (ingest, API sync, dbt
build, checks, report, publish) as its last step finishes, with its counts and the seconds its
steps took, and dbt's progress; all read from the run's Dagster events as they are logged."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

DBT_STEP = "dbt_models"
# Where Dagster puts the DagsterEvent on the records it hands to a logger (log_manager.py).
EVENT_ATTR = "dagster_event"
_RUN_END = {"PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"}
_STEP_END = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


def phase_of(step_key: str) -> str:
    """The phase a step belongs to, from the names the assets are built with."""
    if step_key == DBT_STEP:
        return "dbt build"
    if step_key.startswith("sync_") or "_api_" in step_key:
        return "API sync"
    if step_key.startswith("ingest_"):
        return "ingest"
    if step_key.startswith("published"):
        return "publish"
    if step_key.startswith("reports"):
        return "report"
    return "checks"


def dbt_nodes(manifest: Path) -> int:
    """How many models, seeds, snapshots and data tests `dbt build` runs (unit tests are
    excluded from runs): the length of dbt's progress."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sum(n["resource_type"] in ("model", "seed", "snapshot", "test") for n in nodes)


def _number(metadata, key: str) -> int:
    value = metadata.get(key)
    value = getattr(value, "value", value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass
class _Phase:
    name: str
    steps: set[str] = field(default_factory=set)  # its steps still to finish
    seconds: float = 0.0  # in its steps (they run one at a time, phases interleave)
    ran: int = 0
    failed: int = 0
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    since: str = ""  # when the build a left-out dbt build kept ran (transform/unchanged.py)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def detail(self) -> str:
        if not self.ran:
            return "not run: a step before it failed"
        c = self.counts.get
        if self.name == "ingest":
            unchanged = f" ({c('unchanged')} unchanged)" if c("unchanged") else ""
            text = (f"{c('rows', 0):,} rows landed from {c('files', 0)} file(s){unchanged}, "
                    f"{c('quarantined', 0):,} value(s) quarantined")
        elif self.name == "API sync":
            text = (f"{c('synced', 0):,} rows synced" if c("synced") or c("landed") else
                    "no CRM API configured")
        elif self.name == "dbt build" and c("unchanged") and not c("built"):
            text = (f"nothing changed since the build of {self.since}: its "
                    f"{c('unchanged')} models, seeds and snapshots kept, tests passed then")
        elif self.name == "dbt build":
            text = f"{c('built', 0)} models, seeds and snapshots built, {_tests(self.counts)}"
        elif self.name == "report":
            text = f"{c('open_alerts', 0)} open alerts"
        elif self.name == "publish":
            text = f"{c('marts', 0)} marts published"
        else:
            text = _checks(self.counts)
        if self.failed:
            text += f"; {self.failed} step(s) FAILED"
        if self.skipped:
            text += f"; {self.skipped} step(s) not run"
        return text

    def line(self) -> str:
        return f"{self.name:<10} {self.detail():<56} {self.seconds:6.1f} s"


def _tests(counts: dict[str, int]) -> str:
    warned, failed = counts.get("warned", 0), counts.get("failed", 0)
    return (f"{counts.get('passed', 0)} tests passed" + (f", {warned} warned" if warned else "")
            + (f", {failed} FAILED" if failed else ""))


def _checks(counts: dict[str, int]) -> str:
    return (f"{counts.get('passed', 0)} passed, {counts.get('warned', 0)} warning(s), "
            f"{counts.get('failed', 0)} error(s)")


class LiveView(logging.Handler):
    """A handler of the run's logger (capture.py). The run's first events list the steps it
    will run; a phase's line is printed when its last step ends. dbt's progress is one
    updating line on a terminal, and a line at each `every` percent when the output is a
    file or a pipe (so a log stays short)."""

    def __init__(self, out: TextIO, dbt_total: Callable[[], int] | None = None,
                 every: int = 50):
        super().__init__(logging.DEBUG)
        # Counted when dbt starts: by then the definitions have made sure of the manifest.
        self._count_dbt, self._dbt_total, self._every = dbt_total, 0, every
        self._out, self._tty = out, out.isatty()
        self._phases: dict[str, _Phase] = {}
        self._started: dict[str, float] = {}
        self._dbt_done = self._next_pct = 0
        self._drawn = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, EVENT_ATTR, None)
        if event is None:
            return
        kind = event.event_type_value
        if kind == "LOGS_CAPTURED":  # in-process runs announce their steps with it
            for step in event.event_specific_data.step_keys:
                self._phase(step).steps.add(step)
        elif kind in _RUN_END:
            self.finish()
        elif event.step_key is not None:
            self._step_event(kind, event)

    def finish(self) -> None:
        """Print the phases not printed yet (the end of the run)."""
        for name in list(self._phases):
            self._done(name)

    def _phase(self, step: str) -> _Phase:
        name = phase_of(step)
        return self._phases.setdefault(name, _Phase(name))

    def _done(self, name: str) -> None:
        phase = self._phases.pop(name, None)
        if phase is not None:
            self._print(phase.line())

    def _step_event(self, kind: str, event) -> None:
        phase, step = self._phase(event.step_key), event.step_key
        if kind == "STEP_START":
            self._started[step] = time.monotonic()
            phase.ran += 1
            if phase.name == "dbt build" and self._count_dbt is not None:
                self._dbt_total = self._count_dbt()
        elif kind == "ASSET_MATERIALIZATION":
            self._materialized(phase, event.event_specific_data.materialization.metadata)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            # a warn-level dbt test that fails is a warning (the run goes on), as a WARN check
            phase.add("passed" if data.passed else
                      "warned" if data.severity.value == "WARN" else "failed")
            self._dbt_progress(phase)
        elif kind in _STEP_END:
            phase.failed += kind == "STEP_FAILURE"
            phase.skipped += kind == "STEP_SKIPPED"
            phase.seconds += time.monotonic() - self._started.pop(step, time.monotonic())
            phase.steps.discard(step)
            if not phase.steps:
                self._done(phase.name)

    def _materialized(self, phase: _Phase, metadata) -> None:
        if phase.name == "ingest":
            phase.add("rows", _number(metadata, "rows_loaded"))
            phase.add("files", _number(metadata, "files_loaded"))
            phase.add("unchanged", _number(metadata, "files_unchanged"))
            phase.add("quarantined", _number(metadata, "rows_quarantined"))
        elif phase.name == "API sync":
            phase.add("synced", _number(metadata, "rows_this_sync"))
            phase.add("landed", _number(metadata, "row_count"))
        elif phase.name == "dbt build" and "unchanged_since" in metadata:
            phase.add("unchanged")
            phase.since = str(getattr(metadata["unchanged_since"], "value", ""))
        elif phase.name == "dbt build":
            phase.add("built")
            self._dbt_progress(phase)
        elif phase.name == "report":
            phase.add("open_alerts", _number(metadata, "open_alerts"))
        elif phase.name == "publish":
            tables = metadata.get("tables")
            phase.add("marts", len(getattr(tables, "value", None) or []))

    def _dbt_progress(self, phase: _Phase) -> None:
        if phase.name != "dbt build" or not self._dbt_total:
            return
        self._dbt_done += 1
        pct = min(100, 100 * self._dbt_done // self._dbt_total)
        text = (f"{phase.name:<10} {self._dbt_done}/{self._dbt_total} models and tests "
                f"({pct}%)")
        if self._tty:
            if time.monotonic() - self._drawn >= 0.2:  # redraw at most 5 times a second
                self._out.write(f"\r{text}\x1b[K")
                self._out.flush()
                self._drawn = time.monotonic()
        elif pct >= self._next_pct + self._every and pct < 100:
            self._next_pct = pct - pct % self._every
            self._print(text)

    def _print(self, line: str) -> None:
        self._out.write(f"\r{line}\x1b[K\n" if self._tty else f"{line}\n")
        self._out.flush()
