"""The Dagster definitions: every dbt model is an asset with lineage to the raw assets."""

import dagster as dg

from orchestration.definitions import defs


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
    graph = defs().resolve_asset_graph()
    checks = [c for c in graph.asset_check_keys if c.asset_key.path[0] == "marts"]
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_deals"]) for c in checks)
