"""Every dbt model, seed and snapshot as a Dagster asset, with dbt tests as asset checks.

Keys: dbt sources map to `raw/<table>` (the raw-ingest assets), models to `<layer>/<model>`;
groups follow the layer folders (staging, intermediate, marts).
"""


import graphlib
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from orchestration.engines import mart_reader
from orchestration.engines.prepare import prepare_dbt
from orchestration.engines.watch import ClusterWatch
from orchestration.resources import DuckDBWarehouse
from orchestration.settings import DBT_PROJECT_DIR, EngineSettings
from orchestration.transform import seeds, unchanged
from orchestration.transform.dagster_dbt_import import dagster_dbt
from orchestration.transform.failures import dbt_failure
from orchestration.transform.manifest import ensure_manifest, manifest_nodes
from orchestration.transform.null_columns import is_null_columns_check, null_counts, with_counts
from orchestration.transform.parse_state import keep_parse_state, restore_parse_state
from orchestration.transform.run_folders import prune_run_folders


def dbt_project() -> dagster_dbt.DbtProject:
    return dagster_dbt.DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class SalespipeTranslator(dagster_dbt.DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "seed":
            return "config"
        if props["resource_type"] == "snapshot":
            return "snapshots"
        parts = props.get("fqn", [])
        return parts[1] if len(parts) > 2 else "models"


def dbt_vars(extra: dict | None = None) -> list[str]:
    """`--vars` for this run: only what the engine's preparation adds (the raw tables on Spark).
    The as-of date reaches dbt as SALESPIPE_AS_OF (macros/as_of.sql), not as a var: changed
    vars make dbt re-parse the whole project, while the environment leaves its parse state
    alone, so a nightly run reuses the prepared manifest."""
    return ["--vars", json.dumps(extra)] if extra else []


def build_dbt_models(project: dagster_dbt.DbtProject) -> dg.AssetsDefinition:
    """Every dbt model, seed and snapshot of `project` as one multi-asset. Built when the
    definitions load, not at import: it needs the manifest, which may need a `dbt parse`."""
    ensure_manifest(project)

    @dagster_dbt.dbt_assets(manifest=project.manifest_path,
                            dagster_dbt_translator=SalespipeTranslator(), project=project)
    def dbt_models(context: dg.AssetExecutionContext, dbt: dagster_dbt.DbtCliResource,
                   warehouse: DuckDBWarehouse):
        yield from _build(context, dbt, warehouse, Path(project.project_dir))

    return dbt_models


def _build(context: dg.AssetExecutionContext, dbt: dagster_dbt.DbtCliResource,
           warehouse: DuckDBWarehouse, project_dir: Path):
    # The engine in use (SALESPIPE_ENGINE) picks the profiles.yml output; Spark first gets the
    # raw layer as Parquet (orchestration/engines/prepare.py).
    engine = EngineSettings.from_env()
    extra = prepare_dbt(engine, warehouse.connect)
    if extra:
        context.log.info(f"{engine.engine}: {len(extra['raw_tables'])} raw tables written as "
                         f"Parquet to {engine.raw_dir}")
    target = Path("target") / f"dbt_models-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    nodes = manifest_nodes(project_dir / "target" / "manifest.json")
    current, done, kept = _what_changed(context, engine, warehouse, project_dir, extra, nodes)
    if done:
        yield from _left_as_built(context, done)
        return
    if kept:
        context.log.info(f"{len(kept)} seeds unchanged since loaded: not loaded again")
    # Unit tests check the SQL, not the data, so they belong to CI (tests/test_dbt_unit.py),
    # not to every nightly run: dbt's own advice for production builds.
    args = ["build", *dbt_vars(extra), "--target", engine.dbt_target,
            "--exclude-resource-type", "unit_test", *seeds.exclude_args(kept),
            *engine.dbt_log_args()]
    restore_parse_state(project_dir, target, engine.dbt_target)
    # A failed build ends the step with what failed (model or test, dbt's message), not
    # dagster-dbt's "the dbt CLI process failed": dbt's whole output is in the run's log.
    held = []  # failed not_null_columns checks, named once dbt lets go of the warehouse
    with warehouse.released():  # dbt's process writes the file: this one lets go of it
        invocation = dbt.cli(args, target_path=target, context=context, raise_on_error=False)
        watch = ClusterWatch(engine, invocation.process).start()  # a cluster lost stops dbt
        for event in invocation.stream():
            if is_null_columns_check(event, invocation.manifest):
                held.append(event)
            else:
                yield event
        invocation.process.wait()  # its lock on the file goes with the process
    if watch.stop():
        raise dg.Failure(description=watch.lost)
    if invocation.is_successful():
        keep_parse_state(project_dir, target, engine.dbt_target)
    pruned = prune_run_folders(project_dir)
    if pruned:
        context.log.info(f"removed {len(pruned)} old dbt run folders from {project_dir / 'target'}")
    results = _run_results(invocation)
    if engine.engine == "duckdb":
        with warehouse.connect() as con:
            seeds.record(con, nodes, results)
            if current and invocation.is_successful():
                unchanged.record(con, current, nodes, results, context.run.run_id)
    counts = _null_counts(results, invocation.manifest, warehouse) if held else {}
    yield from (with_counts(event, counts) for event in held)
    if not invocation.is_successful():
        raise dg.Failure(description=dbt_failure(results, invocation.process.returncode,
                                                 counts, invocation.manifest))


def _what_changed(context: dg.AssetExecutionContext, engine: EngineSettings,
                  warehouse: DuckDBWarehouse, project_dir: Path, extra: dict | None,
                  nodes: list[dict]):
    """(the build's inputs, the clean build that read the same if any, the seeds unchanged)."""
    with warehouse.connect() as con:
        current = _build_inputs(context, engine, con, project_dir, extra)
        done = unchanged.vouched(con, current, nodes) if current else None
        if done:
            return current, done, []
        if engine.engine == "duckdb":  # dbt's on-run-start hook forgets too; a build may stop first
            unchanged.forget(con)
        return current, None, _unchanged_seeds(context, engine, con, nodes)


def _unchanged_seeds(context: dg.AssetExecutionContext, engine: EngineSettings,
                     con: duckdb.DuckDBPyConnection, nodes: list[dict]) -> list[dict]:
    """The seeds a build of the whole project leaves out (orchestration/transform/seeds.py)."""
    if engine.engine != "duckdb":  # Spark's seed tables are not in the DuckDB file
        return []
    if context.is_subset:  # dagster-dbt selects the nodes itself (and may set how tests follow)
        return []
    return seeds.unchanged(con, nodes)


def _build_inputs(context: dg.AssetExecutionContext, engine: EngineSettings,
                  con: duckdb.DuckDBPyConnection, project_dir: Path,
                  extra: dict | None) -> unchanged.Inputs | None:
    """What a whole build reads (orchestration/transform/unchanged.py), or None where a build
    is never left out: a Dagster subset, another engine, or the setting turned off."""
    if engine.engine != "duckdb" or context.is_subset or not engine.skip_unchanged:
        return None
    return unchanged.inputs(con, project_dir, extra)


def _left_as_built(context: dg.AssetExecutionContext, done: unchanged.Vouched):
    """Each model, seed and snapshot reported as it stands, so the steps after dbt (checks,
    report, publication) run on it; its tests are not run again: they passed on these rows."""
    since = f"{done.built_at:%Y-%m-%d %H:%M:%S} UTC"
    context.log.info(f"dbt build left out: nothing it reads changed since the build of {since} "
                     f"(run {done.run_id[:8]}), in which every model and test passed")
    metadata = {"unchanged_since": since, "built_in_run": done.run_id}
    deps = context.assets_def.asset_deps
    selected = context.selected_asset_keys
    # Dagster takes a multi-asset's outputs in the order of its asset graph only
    order = graphlib.TopologicalSorter({key: deps.get(key, set()) & selected for key in selected})
    for key in order.static_order():
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(key),
                        metadata=metadata)


def _null_counts(results: dict | None, manifest: dict, warehouse: DuckDBWarehouse) -> dict:
    with warehouse.connect() as con:
        return null_counts(results, manifest, mart_reader(con).query)


def _run_results(invocation) -> dict | None:
    try:
        return invocation.get_artifact("run_results.json")
    except (OSError, ValueError):  # dbt stopped before writing it (e.g. a compilation error)
        return None


def mart_keys(models: dg.AssetsDefinition) -> list[dg.AssetKey]:
    """The keys of the models BI reads (schema `marts`): what publication waits for."""
    return [key for key in models.keys if key.path[0] == "marts"]
