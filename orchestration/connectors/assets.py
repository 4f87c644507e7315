"""CRM API sync assets: one multi-asset per connector (orchestration/connectors), one asset key
per synced dlt resource, `api/<source>/<resource>`.

Lineage: CRM API -> `api/<source>/<resource>` (the dlt dataset in
`$SALESPIPE_DATA_DIR/connectors/<source>/synced.duckdb`) -> `raw/<table>` -> dbt. The raw-ingest
asset of each table depends on the sync of its source and lands the sync's snapshot beside the
export files (ingest/assets.py calls `land_api_snapshots`), so a configured API feeds the same raw
tables the exports do. A source with no credentials is skipped with one log line; its assets
report `skipped` and the raw tables keep whatever the files gave.

No Dagster retry policy here: dlt already retries 429/5xx/timeouts per request, and a 401 must
fail at once rather than be retried.
"""


from pathlib import Path

import dagster as dg
import duckdb

from orchestration.connectors import all_connectors
from orchestration.connectors.base import Connector
from orchestration.connectors.runner import sync
from orchestration.connectors.snapshots import land_snapshot
from orchestration.ingest.loader import LoadResult
from orchestration.registry import with_connectors
from orchestration.settings import Settings, api_settings


class CrmApi(dg.ConfigurableResource):
    """One CRM API's credentials, from SALESPIPE_<CRM>_TOKEN / _BASE_URL (or _URL) via EnvVar
    (Salesforce: also _CLIENT_ID / _CLIENT_SECRET); no credentials: the source is skipped."""

    token: str = ""
    base_url: str = ""
    client_id: str = ""
    client_secret: str = ""


def resource_key(connector: Connector) -> str:
    return f"{connector.name}_api"


def api_resources() -> dict[str, CrmApi]:
    """The resources of every connector (the variables the registry names for it)."""
    out = {}
    for crm in with_connectors():
        client = dict(zip(("client_id", "client_secret"),
                          (dg.EnvVar(name) for name in crm.api.client), strict=False))
        out[f"{crm.name}_api"] = CrmApi(token=dg.EnvVar(crm.api.token),
                                        base_url=dg.EnvVar(crm.api.base_url), **client)
    return out


def asset_key(connector: Connector, resource: str) -> dg.AssetKey:
    return dg.AssetKey(["api", connector.name, resource])


def sync_asset(connector: Connector) -> dg.AssetsDefinition:
    key = resource_key(connector)

    @dg.multi_asset(
        name=f"sync_{connector.name}_api",
        specs=[dg.AssetSpec(asset_key(connector, r), group_name=f"api_{connector.name}",
                            kinds={"dlt", "duckdb"},
                            description=f"{connector.label} {r}, synced from the API by dlt")
               for r in connector.resources],
        required_resource_keys={key, "warehouse"},  # warehouse: holds the run lock
    )
    def _sync(context: dg.AssetExecutionContext):
        creds: CrmApi = getattr(context.resources, key)
        api = api_settings(connector.name, token=creds.token, base_url=creds.base_url,
                           client=(creds.client_id, creds.client_secret))
        result = sync(connector, Settings.from_env().data_dir, api)
        # `salespipe run` already printed the skip line; the UI shows debug lines too.
        (context.log.debug if result.skipped else context.log.info)(result.line())
        for resource in connector.resources:
            metadata = {"skipped": bool(result.skipped),
                        "rows": result.rows.get(resource, 0),
                        "rows_this_sync": result.loaded.get(resource, 0)}
            yield dg.MaterializeResult(asset_key=asset_key(connector, resource),
                                       metadata=metadata)

    return _sync


def api_sync_assets() -> list[dg.AssetsDefinition]:
    return [sync_asset(c) for c in all_connectors()]


def _targets(source: str) -> dict[str, list[tuple[Connector, object]]]:
    """Object name -> (connector, snapshot target) for the connectors feeding `source`."""
    found: dict[str, list] = {}
    for connector in all_connectors():
        if connector.name != source:
            continue
        for snap in connector.snapshots:
            found.setdefault(snap.target.name, []).append((connector, snap.target))
    return found


def api_deps(source: str, object_name: str) -> list[dg.AssetKey]:
    """Sync assets a raw-ingest asset of (`source`, `object_name`) waits for."""
    return [asset_key(c, r) for c, _ in _targets(source).get(object_name, [])
            for r in c.resources]


def land_api_snapshots(con: duckdb.DuckDBPyConnection, source: str, object_name: str,
                       data_dir: Path | None = None) -> LoadResult | None:
    """Land the latest API snapshot of this object, if a connector feeds it (None if not)."""
    targets = _targets(source).get(object_name)
    if not targets:
        return None
    data_dir = data_dir or Settings.from_env().data_dir
    total = None
    for connector, target in targets:
        result = land_snapshot(con, data_dir, connector.name, target)
        if total is None:
            total = result
        else:
            total.add(result)
    return total


def landing_assets(connector: Connector, skip: set[str] = frozenset()) -> list[dg.AssetsDefinition]:
    """Raw-ingest assets for the objects of a connector that no export loader lands (all of
    Pipedrive's; Salesforce's but the report exports, named in `skip`): one multi-asset per
    snapshot target, keyed `raw/<table>` like the export assets, landing the snapshot with the
    same loader. (Objects with an export land through their export assets in ingest/assets.py
    instead.)"""
    deps = [asset_key(connector, r) for r in connector.resources]
    return [_landing_asset(connector, snap.target, deps) for snap in connector.snapshots
            if snap.target.name not in skip]


def _landing_asset(connector: Connector, target, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """One landing multi-asset. Built per target in its own function: Dagster reads every
    parameter of an asset function as an input, so `target` cannot be a default argument."""
    from orchestration.resources import DuckDBWarehouse

    @dg.multi_asset(
        name=f"ingest_{connector.name}_api_{target.name}",
        specs=[dg.AssetSpec(["raw", t], group_name=f"raw_{connector.name}",
                            kinds={"duckdb"}, deps=deps,
                            description=f"{connector.label} {target.name} from the API")
               for t in target.tables],
    )
    def _land(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
        with warehouse.connect() as con:
            result = land_snapshot(con, Settings.from_env().data_dir, connector.name, target)
            counts = {t: con.execute(f'select count(*) from raw."{t}"').fetchone()[0]
                      for t in target.tables}
        context.log.info(f"{connector.label} {target.name}: {result.rows_loaded} rows "
                         f"landed, {result.rows_quarantined} value(s) quarantined")
        for table in target.tables:
            yield dg.MaterializeResult(asset_key=["raw", table],
                                       metadata={"row_count": counts[table]})

    return _land
