"""The publication asset: runs after every mart is built and checked, publishes them for BI.

It depends on every dbt model in `marts`, so Dagster skips it when dbt fails (a failing
ERROR-severity dbt test fails the dbt step). Asset checks that run as their own steps (Great
Expectations suites) gate it when they are `blocking=True`; as a second guard it refuses to
publish when any ERROR-severity check of this run has failed.
"""

import dagster as dg

from orchestration.publish.compat import readers
from orchestration.publish.partitions import chosen
from orchestration.publish.publication import publish
from orchestration.resources import DuckDBWarehouse
from orchestration.settings import EngineSettings, OperationsSettings, Settings
from orchestration.transform.assets import dbt_project
from orchestration.transform.manifest import incremental_keys, mart_docs, published_partitions


def failed_error_checks(context: dg.AssetExecutionContext) -> list[str]:
    """`asset/check` of every ERROR-severity check that failed earlier in this run."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(f"{evaluation.asset_key.to_user_string()}/{evaluation.check_name}")
    return failed


def publication_asset(marts: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publication, after every mart in `marts` (the dbt models of schema `marts`)."""

    @dg.asset(
        key=["published", "warehouse"],
        deps=marts,
        group_name="published",
        kinds={"duckdb", "parquet"},
        description="The marts as BI tools read them: a DuckDB file and Parquet files in "
                    "SALESPIPE_PUBLISH_DIR, replaced atomically once every ERROR check passed.",
    )
    def published_warehouse(context: dg.AssetExecutionContext,
                            warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
        return _publish(context, warehouse)

    return published_warehouse


def _publish(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    failed = failed_error_checks(context)
    if failed:
        raise dg.Failure(f"not published: ERROR-severity checks failed: {', '.join(failed)}")
    engine = EngineSettings.from_env()
    if engine.engine != "duckdb":
        # On Spark the marts already are Parquet tables in Spark's warehouse (schema marts),
        # where BI tools read them through Spark; the DuckDB publication is for the DuckDB path.
        from orchestration.engines.spark import marts_location

        tables = marts_location(engine)
        where = "the cluster's warehouse" if engine.uses_connect else \
            engine.spark_dir / "warehouse" / "marts.db"
        context.log.info(f"{engine.engine}: {len(tables)} marts live in {where}; nothing copied")
        return dg.MaterializeResult(metadata={"engine": engine.engine,
                                              "tables": dg.MetadataValue.json(tables)})
    ops = OperationsSettings.from_env()
    as_of = Settings.from_env().as_of.isoformat()
    manifest = dbt_project().manifest_path
    with warehouse.connect() as con:
        pub = publish(con, ops.publish_dir, as_of, context.run.run_id, pause=ops.pause,
                      keys=incremental_keys(manifest, "marts"),
                      partitions=chosen(published_partitions(manifest, "marts"),
                                        ops.publish_facts_by_month),
                      storage_version=ops.publish_storage_version,
                      docs=mart_docs(manifest, "marts"))
    how = {m: sorted(t for t, v in pub.methods.items() if v == m) for m in set(pub.methods.values())}
    context.log.info(f"published {len(pub.tables)} marts to {pub.database} ({pub.version}); "
                     + "; ".join(f"{m}: {', '.join(t)}" for m, t in sorted(how.items())))
    context.log.info(f"storage format {pub.storage_version} (SALESPIPE_PUBLISH_STORAGE_VERSION): "
                     f"{readers(pub.storage_version)} open it; "
                     f"{pub.described_columns} columns described from the dbt yml")
    if pub.left_out:
        context.log.warning(f"not published, not dbt marts: {', '.join(pub.left_out)} in the "
                            "warehouse's marts schema (BI tools see the dbt marts only)")
    return dg.MaterializeResult(metadata={
        "database": dg.MetadataValue.path(pub.database),
        "parquet_dir": dg.MetadataValue.path(pub.parquet_dir),
        "version": pub.version,
        "tables": dg.MetadataValue.json(pub.tables),
        "methods": dg.MetadataValue.json(pub.methods),
        "full_build_at": pub.full_build_at,
        "storage_version": pub.storage_version,
        "described_columns": pub.described_columns,
        "parquet_partitions": dg.MetadataValue.json(pub.partitions),
    })
