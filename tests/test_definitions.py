"""The Dagster definitions: every dbt model is an asset with lineage to the raw assets."""

import json

import dagster as dg

from orchestration.definitions import defs
from orchestration.transform.assets import dbt_project


def test_definitions_load_and_dbt_models_have_raw_lineage():
    graph = defs().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert "raw/hubspot_deals" in keys and "marts/fct_deal_stage_transitions" in keys
    staging = graph.get(dg.AssetKey(["staging", "stg_hubspot__deals"]))
    assert dg.AssetKey(["raw", "hubspot_deals"]) in staging.parent_keys
    transitions = graph.get(dg.AssetKey(["marts", "fct_deal_stage_transitions"]))
    assert dg.AssetKey(["intermediate", "int_stage_events"]) in transitions.parent_keys


def test_every_dbt_source_is_produced_by_an_ingest_asset():
    graph = defs().resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    raw_deps = {
        parent
        for key in graph.get_all_asset_keys()
        for parent in graph.get(key).parent_keys
        if parent.path[0] == "raw"
    }
    bookkeeping = {dg.AssetKey(["raw", "_quarantine"]), dg.AssetKey(["raw", "_loads"])}
    assert raw_deps - bookkeeping <= materializable


def test_dbt_tests_are_asset_checks():
    """Every data test dbt attaches to a mart is an asset check of that mart, by its name."""
    graph = defs().resolve_asset_graph()
    checks = {(c.asset_key.path[-1], c.name) for c in graph.asset_check_keys
              if c.asset_key.path[0] == "marts"}
    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"]
    marts = {key: n["name"] for key, n in nodes.items()
             if n["resource_type"] == "model" and n["fqn"][1] == "marts"}
    tests = {(marts[n["attached_node"]], n["name"]) for n in nodes.values()
             if n["resource_type"] == "test" and n.get("attached_node") in marts}
    assert len({model for model, _ in tests}) > 5 and len(tests) > 50
    assert tests <= checks, sorted(tests - checks)[:10]
