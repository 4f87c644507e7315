"""The private dagster-dbt behaviour salespipe overrides (orchestration/transform/dbt_cli.py)
still exists and is still used as the override assumes. An upgrade of dagster-dbt that renames
or reshapes it fails here, with what to check, instead of silently making every run slower (or
breaking it)."""

import importlib.metadata
import inspect
import json
import subprocess
import sys
import textwrap

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.dbt_cli import DbtCli
from orchestration.transform.definitions import dbt_executable

UPGRADE = ("dagster-dbt changed a private API that orchestration/transform/dbt_cli.py "
           "overrides; read that module's docstring and adapt or drop the override: ")


def _upstream(name: str):
    for cls in DbtCliResource.__mro__:
        if name in vars(cls):
            return vars(cls)[name]
    raise AssertionError(UPGRADE + f"DbtCliResource.{name} is gone")


def test_the_overridden_members_still_exist_with_the_same_shape():
    cli_version = _upstream("_cli_version")
    assert hasattr(cli_version, "func"), UPGRADE + "_cli_version is no longer a cached property"
    adapter = _upstream("_initialize_dbt_core_adapter")
    assert list(inspect.signature(adapter).parameters) == ["self", "args"], \
        UPGRADE + f"_initialize_dbt_core_adapter{inspect.signature(adapter)}"


def test_cli_still_reads_the_version_and_survives_a_missing_adapter():
    # the override returns None for the adapter: dagster-dbt must still tolerate a run without
    # one, and still decide by the version whether to load it
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source, UPGRADE + "cli() no longer reads _cli_version"
    assert "adapter = self._initialize_dbt_core_adapter(args)" in source, \
        UPGRADE + "cli() no longer calls _initialize_dbt_core_adapter(args)"
    assert "adapter: BaseAdapter | None = None" in source, \
        UPGRADE + "cli() may no longer accept running without an adapter"


def test_the_overrides_are_in_effect(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or None)
    resource = DbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                      dbt_executable=dbt_executable())
    assert resource._cli_version == version.parse(importlib.metadata.version("dbt-core"))
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    assert calls == [], "the version was asked from a `dbt --version` subprocess"


# The definitions' dbt assets and checks, and whether dbt-core was imported to load them, in a
# fresh interpreter (what a process imported before decides how dagster-dbt imports).
DEFINITIONS = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "dagster-dbt first":
        import dagster_dbt  # imported as is: its path with dbt-core
    from orchestration.definitions import defs
    graph = defs().get_repository_def().asset_graph
    from dagster_dbt.compat import DBT_PYTHON_VERSION
    print(json.dumps({"assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
                      "checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
                      "dbt_core_path": DBT_PYTHON_VERSION is not None,
                      "dbt_imported": "dbt.adapters.base" in sys.modules}))
""")


def _definitions(first: str) -> dict:
    done = subprocess.run([sys.executable, "-c", DEFINITIONS, first], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_definitions_load_without_dbt_core_and_describe_the_same_assets_and_checks():
    """orchestration/transform/dagster_dbt_import.py: dagster-dbt imported without dbt-core
    gives the same dbt assets and checks as with it, and the process never imports dbt."""
    lite, core = _definitions("as salespipe does"), _definitions("dagster-dbt first")
    assert (lite["dbt_core_path"], lite["dbt_imported"]) == (False, False)
    assert (core["dbt_core_path"], core["dbt_imported"]) == (True, True)
    assert len(lite["checks"]) > 200 and any(a.startswith("marts/") for a in lite["assets"])
    assert (lite["assets"], lite["checks"]) == (core["assets"], core["checks"])
