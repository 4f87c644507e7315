"""The Dagster definitions of salespipe, merged from the packages that each own one job.

`dagster dev -m orchestration.definitions` (what `salespipe ui` runs) and `salespipe run` load
them through `defs()`; nothing here runs at import.
"""

import dagster as dg

from orchestration.alerts import definitions as alerts
from orchestration.checks import definitions as checks
from orchestration.connectors import definitions as connectors
from orchestration.ingest import definitions as ingest
from orchestration.operations import definitions as operations
from orchestration.publish import definitions as publish
from orchestration.resources import shared_resources
from orchestration.settings import apply_defaults
from orchestration.transform import definitions as transform
from orchestration.transform.assets import mart_keys


@dg.definitions
def defs() -> dg.Definitions:
    # Dagster's EnvVar and dbt's profiles.yml read the environment: give them the defaults that
    # make the demo work (never overriding what the user set).
    apply_defaults()
    dbt = transform.defs()
    return dg.Definitions.merge(
        ingest.defs(),
        connectors.defs(),
        dbt,
        checks.defs(),
        alerts.defs(),
        publish.defs(mart_keys(dbt.assets[0])),
        operations.defs(),
        # One DuckDB file takes one writer process at a time, so steps run in one process.
        dg.Definitions(resources=shared_resources(), executor=dg.in_process_executor),
    )
