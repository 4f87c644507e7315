"""Raw-ingest assets: one per source object, each landing its export files in `raw.<table>`.

Asset keys are `raw/<table>`, the same keys the dbt translator gives the dbt sources, which is
what draws lineage from raw tables to the staging models that read them.
"""


from collections.abc import Callable
from pathlib import Path

import dagster as dg

from orchestration.connectors.assets import api_deps, land_api_snapshots, landing_assets
from orchestration.ingest.loader import IngestError, LoadResult, create_empty
from orchestration.ingest.spec import RawTable
from orchestration.registry import CRMS, Crm
from orchestration.resources import DuckDBWarehouse, SourceFiles
from orchestration.sources.base import SourceObject

RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def _results(tables: list[str], result: LoadResult, counts: dict[str, int], folder: str):
    for table in tables:
        metadata = {"row_count": dg.MetadataValue.int(counts[table]), "folder": folder}
        if table == result.raw_table:
            metadata.update({
                "files_loaded": result.files_loaded,
                "files_unchanged": result.files_unchanged,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "files_still_changing": len(result.still_changing),
            })
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=metadata)


def _count(warehouse_con, tables: list[str]) -> dict[str, int]:
    return {t: warehouse_con.execute(f'select count(*) from raw."{t}"').fetchall()[0][0]
            for t in tables}


def _land(obj: SourceObject, con, folder, root) -> LoadResult:
    try:
        return obj.load(con, folder, root)
    except IngestError as exc:
        # Bad input is no transient failure: retrying it only delays the message.
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def _resolve(resolve, source_files: SourceFiles) -> SourceObject | None:
    try:
        return resolve(source_files)
    except IngestError as exc:  # a bad mapping.yml: retrying cannot fix it either
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def raw_asset(source: str, name: str, tables: list[str],
              resolve: "Callable[[SourceFiles], SourceObject | None]",
              empty: list[RawTable]) -> dg.AssetsDefinition:
    """A multi-asset landing one object's files; `resolve` finds the object's spec at run time
    (the generic source's spec depends on its mapping.yml)."""

    @dg.multi_asset(
        name=f"ingest_{source}_{name}",
        specs=[dg.AssetSpec(["raw", t], group_name=f"raw_{source}", kinds={"duckdb"},
                            description=f"{source} {name} as exported, landed by salespipe",
                            deps=api_deps(source, name))  # the CRM API sync, if any
               for t in tables],
        retry_policy=RETRY,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse,
               source_files: SourceFiles):
        folder = source_files.folder(source)
        obj = _resolve(resolve, source_files) if folder.is_dir() else None
        with warehouse.connect() as con:
            if obj is None:
                context.log.info(f"{source} {name}: no files in {folder}, skipped")
                for table in empty:
                    create_empty(con, table)
                result = LoadResult(tables[0])
            else:
                result = _land(obj, con, folder, Path(source_files.source_dir))
                for path in result.still_changing:
                    context.log.warning(
                        f"{path}: still being written (it changed each time it was read); "
                        "not loaded this run, the next run loads it")
                for line in result.same_content_lines():
                    context.log.info(line)
                context.log.info(
                    f"{source} {name}: {result.files_loaded} file(s) loaded, "
                    f"{result.files_unchanged} unchanged, {result.rows_loaded} rows, "
                    f"{result.rows_quarantined} value(s) quarantined")
            api = land_api_snapshots(con, source, name)  # the latest API sync, beside files
            if api is not None and api.files_loaded:
                result.add(api)
                context.log.info(f"{source} {name}: API snapshot landed, {api.rows_loaded} rows")
            counts = _count(con, tables)
        yield from _results(tables, result, counts, str(folder))

    return _asset


def _static(module, obj: SourceObject) -> dg.AssetsDefinition:
    return raw_asset(module.FOLDER, obj.name, obj.tables, lambda _files: obj,
                     [obj.table, *obj.derived])


def _from_mapping(module, name: str) -> dg.AssetsDefinition:
    """An object of an export whose spec depends on its files (the generic CSV's mapping.yml)."""
    tables = module.TABLES[name]
    empty = [t for t in module.EMPTY_TABLES if t.name in tables]

    def resolve(files: SourceFiles) -> SourceObject | None:
        found = {o.name: o for o in module.objects(files.folder(module.FOLDER))}
        return found.get(name)

    return raw_asset(module.FOLDER, name, tables, resolve, empty)


def _crm_assets(crm: Crm) -> list[dg.AssetsDefinition]:
    module = crm.export_module()
    if module is None:
        # A CRM API with no export format (Pipedrive): raw tables landed from its
        # syncs only, created empty when the API is not configured.
        return landing_assets(crm.connector_module().CONNECTOR)
    if hasattr(module, "objects"):
        return [_from_mapping(module, name) for name in module.TABLES]
    assets = [_static(module, obj) for obj in module.OBJECTS]
    if crm.connector:
        # API objects no export file carries (Salesforce's contacts, tasks, users...)
        covered = {obj.name for obj in module.OBJECTS}
        assets += landing_assets(crm.connector_module().CONNECTOR, skip=covered)
    return assets


def raw_assets() -> list[dg.AssetsDefinition]:
    """Every CRM's raw-ingest assets, in the registry's order."""
    return [asset for crm in CRMS for asset in _crm_assets(crm)]
