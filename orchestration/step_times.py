"""When each step of a Dagster run started and ended, from the run's event log.

The benchmark (benchmarks/run.py) groups these into phases (ingest, dbt, checks, publish and
report) and matches them with memory samples, so its figures come from the run itself."""

from __future__ import annotations

import dagster as dg

_END = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


def step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[float]]:
    """{step_key: [started, ended]} in Unix seconds, in the order the steps started."""
    steps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            steps[event.step_key] = [entry.timestamp, entry.timestamp]
        elif event.event_type_value in _END and event.step_key in steps:
            steps[event.step_key][1] = entry.timestamp
    return steps
