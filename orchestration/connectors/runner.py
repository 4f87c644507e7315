"""One sync of one connector: dlt pipeline run, cursors held, errors mapped, snapshots written.

Where dlt loads: one DuckDB file per source (paths.py), not the warehouse, because
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

A connector's `follow_ups` (Pipedrive's per-deal update logs) run after the main load, each
stored as its own load, so work too large for one day keeps what it did.

Retries are dlt's requests client (rest.py). A 401/403 fails at once with `ConnectorAuthError`
naming the variable to fix; a token never appears in a message or a log line (errors.py,
redaction.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.connectors.base import Connector
from orchestration.connectors.errors import ConnectorError, explain
from orchestration.connectors.paths import dataset_path
from orchestration.connectors.redaction import redacting
from orchestration.connectors.snapshots import write_snapshots
from orchestration.connectors.status import skipped_line
from orchestration.connectors.windows import (
    CURSOR_MARGIN,
    check_window,
    hold_cursors,
    last_stored_sync,
)
from orchestration.settings import ApiSource, api_settings, apply_defaults

log = logging.getLogger("salespipe.connectors")


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


def sync(connector: Connector, data_dir: Path, api: ApiSource | None = None) -> SyncResult:
    """Sync one source into its dataset, then write its snapshot files.

    Not configured: skipped, with one line saying which variable to set. Any failure raises a
    ConnectorError whose message holds no token; nothing of a failed load is stored and the
    incremental cursors stay where the last stored load left them (a connector's follow-up
    loads finished before the failure stay stored)."""
    api = api or api_settings(connector.name)
    result = SyncResult(connector.name)
    if not api.configured:
        result.skipped = skipped_line(connector, api)
        log.info(result.skipped)
        return result
    started = dt.datetime.now(dt.UTC)
    check_window(connector, last_stored_sync(connector, data_dir), started)
    secrets = api.secrets
    apply_defaults()  # dlt's telemetry off and its retry settings, unless the user set them
    with redacting(secrets):
        try:
            pipeline = _pipeline(connector, data_dir)
            info = pipeline.run(connector.source(api))
            result.loaded = _loaded_rows(pipeline, info)
            hold_cursors(pipeline, connector, started - CURSOR_MARGIN)
            for follow_up in (connector.follow_ups or _none)(api, pipeline):
                pipeline.run(follow_up)
                for table, n in _loaded_rows(pipeline, None).items():
                    result.loaded[table] = result.loaded.get(table, 0) + n
        except ConnectorError:
            raise
        except Exception as exc:  # noqa: BLE001 - dlt wraps every failure in PipelineStepFailed
            raise explain(connector, api, exc) from None
    result.snapshots, result.rows = write_snapshots(connector, data_dir)
    log.info(result.line())
    return result


def _none(api, pipeline):
    return ()


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
