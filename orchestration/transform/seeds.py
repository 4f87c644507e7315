"""Seeds loaded only when they changed.

The 10 seeds (settings RevOps edits as CSV) and the 20 tests that read only them cost ~30 dbt
nodes a run while they hardly ever change. Each seed's fingerprint (dbt's checksum of its file,
and its config: column types, schema) is kept IN the warehouse after dbt loaded it
(`meta.seed_fingerprints`), so a new or deleted warehouse, a dropped seed table, an edited CSV
or changed seed config all load the seed again; the models read the seed tables either way
and are rebuilt every run. DuckDB only: on Spark the seed tables live in Spark's warehouse,
which the DuckDB file cannot vouch for.
"""

from __future__ import annotations

import hashlib
import json

import duckdb

TABLE = "meta.seed_fingerprints"


def fingerprints(nodes: list[dict]) -> dict[str, str]:
    """{seed unique_id: fingerprint} of the manifest's seeds."""
    return {node["unique_id"]: _fingerprint(node) for node in nodes
            if node["resource_type"] == "seed"}


def _fingerprint(node: dict) -> str:
    text = json.dumps([node["checksum"], node["config"], node["relation_name"]],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def unchanged(con: duckdb.DuckDBPyConnection, nodes: list[dict]) -> list[dict]:
    """The seeds whose table exists and was loaded from what the project holds now."""
    stored = _stored(con)
    tables = set(con.execute("select schema_name, table_name from duckdb_tables()").fetchall())
    current = fingerprints(nodes)
    return [node for node in nodes if node["resource_type"] == "seed"
            and stored.get(node["unique_id"]) == current[node["unique_id"]]
            and (node["schema"], node["alias"]) in tables]


def exclude_args(seeds: list[dict]) -> list[str]:
    """dbt arguments leaving out `seeds` and the tests that read nothing else. `cautious`: a
    test that also reads a model (relationships to a seed) still runs, as eager would drop it."""
    if not seeds:
        return []
    # one value, space-separated: dagster-dbt takes --exclude out of the arguments and folds
    # it into its own selection (dagster_dbt.asset_utils.extract_runtime_selection_from_args)
    return ["--exclude", " ".join(f"path:{node['original_file_path']}" for node in seeds),
            "--indirect-selection", "cautious"]


def record(con: duckdb.DuckDBPyConnection, nodes: list[dict], results: dict | None) -> None:
    """Keep the fingerprint of every seed dbt loaded in this build."""
    loaded = {r["unique_id"] for r in (results or {}).get("results", [])
              if r["unique_id"].startswith("seed.") and r["status"] == "success"}
    if not loaded:
        return
    current = fingerprints(nodes)
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {TABLE} (unique_id varchar primary key, "
                "fingerprint varchar not null, loaded_at timestamp not null)")
    con.executemany(f"insert or replace into {TABLE} values (?, ?, current_timestamp)",
                    [[seed, current[seed]] for seed in sorted(loaded) if seed in current])


def _stored(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        return dict(con.execute(f"select unique_id, fingerprint from {TABLE}").fetchall())
    except duckdb.CatalogException:  # a warehouse no run has loaded seeds into yet
        return {}
