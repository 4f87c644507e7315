"""The Dagster internals orchestration/runlog/instance.py builds the run's instance from still
exist and still work as it assumes. An upgrade of Dagster that moves or reshapes them fails
here, naming what to check, instead of breaking every run (or silently opening a SQLite
connection per event again)."""

import inspect

import dagster as dg
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

from orchestration.runlog.instance import HeldConnectionEventLog, ephemeral_instance

UPGRADE = ("Dagster changed what orchestration/runlog/instance.py builds on; read its docstring "
           "and adapt it or go back to DagsterInstance.ephemeral(): ")


def test_the_connection_methods_are_still_the_storage_interface():
    for name in ("run_connection", "index_connection"):
        assert name in SqlEventLogStorage.__abstractmethods__, UPGRADE + f"{name} is no longer abstract"
        assert name in vars(InMemoryEventLogStorage), UPGRADE + f"{name} not implemented upstream"
    params = list(inspect.signature(InMemoryEventLogStorage.__init__).parameters)
    assert params[:3] == ["self", "inst_data", "preload"], UPGRADE + f"__init__{params}"


@dg.asset
def numbers() -> int:
    return 1


@dg.asset_check(asset=numbers)
def positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _connections_of_a_run(instance: dg.DagsterInstance) -> int:
    """SQLite connections the event log opens while a two-step run stores its events; the run's
    materialization and check evaluation are read back from it."""
    opened = []
    storage = instance.event_log_storage
    engine_connect = storage._engine.connect
    storage._engine.connect = lambda *a, **k: opened.append(1) or engine_connect(*a, **k)
    result = dg.materialize([numbers, positive], instance=instance)
    assert result.success
    assert instance.get_latest_materialization_event(dg.AssetKey("numbers")) is not None
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]
    return len(opened)


def test_a_run_on_the_instance_stores_its_events_through_one_connection():
    instance = ephemeral_instance()
    assert isinstance(instance.event_log_storage, HeldConnectionEventLog), \
        UPGRADE + type(instance.event_log_storage).__name__
    held = _connections_of_a_run(instance)
    stock = _connections_of_a_run(dg.DagsterInstance.ephemeral())
    # Dagster's own storage opens one per read or write; the held one only where Dagster reads
    # its engine directly (a few calls), so a Dagster that stops calling run_connection /
    # index_connection shows up here as the stock count
    assert held * 4 < stock, UPGRADE + f"{held} connections for the run, {stock} upstream"
