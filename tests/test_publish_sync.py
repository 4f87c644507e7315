"""Publishing brings the previous publication up to date with the rows written since, and the
result always equals the warehouse (orchestration/publish/delta.py).

A small warehouse stands in for a built one: `marts.facts` grows like an incremental mart (a
unique key and `_built_at`, one value per dbt run), `marts.dims` is rebuilt whole each run.
"""

import datetime as dt
import os

import duckdb
import pytest

from orchestration.publish import delta as publish_sync
from orchestration.publish.partitions import chosen
from orchestration.publish.publication import PublishError, current, publish
from orchestration.settings import OperationsSettings

KEYS = {"facts": ["source", "id"]}
RUN_1, RUN_2, RUN_3 = (dt.datetime(2026, 11, d, 2, 0, 0, 123456) for d in (1, 2, 3))


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.facts as select 'crm' as source, i as id, i * 10 as amount, "
                "? as _built_at from range(1000) as t(i)", [RUN_1])
    con.execute("create table marts.dims as select i as id, 'owner ' || i as name "
                "from range(5) as t(i)")
    yield con
    con.close()


def _publish(con, tmp_path):
    return publish(con, tmp_path / "published", "2026-11-01", "test", keys=KEYS)


def _differences(con, tmp_path) -> dict:
    """Rows in only one of the warehouse, the published file and its Parquet, per mart."""
    pub = current(tmp_path / "published")
    con.execute(f"attach '{pub.database}' as p (read_only)")
    try:
        differ = {}
        for name in ("facts", "dims"):
            for other in (f"p.marts.{name}", f"read_parquet('{pub.parquet_dir}/{name}.parquet')"):
                counts = con.execute(
                    f"select (select count(*) from (from marts.{name} except all from {other})),"
                    f" (select count(*) from (from {other} except all from marts.{name}))"
                ).fetchone()
                if any(counts):
                    differ[f"{name} vs {other}"] = counts
        return differ
    finally:
        con.execute("detach p")


def test_a_grown_mart_gets_only_the_rows_written_since(warehouse, tmp_path):
    first = _publish(warehouse, tmp_path)
    assert first.methods == {"facts": "copied", "dims": "copied"}
    # the next run: 10 new rows, 2 rewritten (same key, new values), the dimension rebuilt
    warehouse.execute("delete from marts.facts where id in (3, 4)")
    warehouse.execute("insert into marts.facts select 'crm', i, -i, ? from range(3, 5) t(i)",
                      [RUN_2])
    warehouse.execute("insert into marts.facts select 'crm', i, i, ? from range(1000, 1010) t(i)",
                      [RUN_2])
    warehouse.execute("create or replace table marts.dims as select 1 as id, 'renamed' as name")
    second = _publish(warehouse, tmp_path)
    assert second.methods == {"facts": "delta", "dims": "copied"}
    assert second.full_build_at == first.full_build_at  # started from the previous file
    assert second.tables == {"facts": 1010, "dims": 1}
    assert _differences(warehouse, tmp_path) == {}


def test_rows_the_warehouse_deleted_go_from_the_publication_too(warehouse, tmp_path):
    _publish(warehouse, tmp_path)
    warehouse.execute("delete from marts.facts where id >= 990")  # as a post-hook deletes
    pub = _publish(warehouse, tmp_path)
    assert pub.methods["facts"] == "delta" and pub.tables["facts"] == 990
    assert _differences(warehouse, tmp_path) == {}


def test_an_unchanged_mart_keeps_its_parquet_file(warehouse, tmp_path):
    first = _publish(warehouse, tmp_path)
    first_file = tmp_path / "published" / ".versions" / first.version / "facts.parquet"
    second = _publish(warehouse, tmp_path)
    assert second.methods["facts"] == "unchanged"
    assert os.stat(f"{second.parquet_dir}/facts.parquet").st_ino == first_file.stat().st_ino
    assert _differences(warehouse, tmp_path) == {}


@pytest.mark.parametrize("change", ["full_refresh", "new_column"])
def test_a_rebuilt_or_reshaped_mart_is_copied_whole(warehouse, tmp_path, change):
    _publish(warehouse, tmp_path)
    if change == "full_refresh":  # every row written by the new run
        warehouse.execute("update marts.facts set _built_at = ?, amount = amount + 1", [RUN_3])
    else:
        warehouse.execute("alter table marts.facts add column note varchar default 'n'")
    pub = _publish(warehouse, tmp_path)
    assert pub.methods["facts"] == "copied"
    assert _differences(warehouse, tmp_path) == {}


def test_rows_changed_without_a_new_built_at_are_not_caught(warehouse, tmp_path):
    """The contract the sync relies on, shown: a row rewritten without a new `_built_at` (not
    what dbt does) stays stale. The weekly full rebuild (REBUILD_AFTER) bounds such drift."""
    _publish(warehouse, tmp_path)
    warehouse.execute("update marts.facts set amount = 0 where id = 1")
    _publish(warehouse, tmp_path)
    assert _differences(warehouse, tmp_path) != {}


@pytest.mark.parametrize("reason", ["old", "wal", "free_blocks", "unreadable", "older_format"])
def test_the_file_is_rebuilt_from_nothing_when_the_previous_one_should_not_be_kept(
        warehouse, tmp_path, monkeypatch, reason):
    first = _publish(warehouse, tmp_path)
    previous = tmp_path / "published" / "warehouse.duckdb"
    if reason == "old":
        monkeypatch.setattr(publish_sync, "REBUILD_AFTER", dt.timedelta(0))
    elif reason == "wal":  # someone opened the publication read-write and wrote to it
        previous.with_name(previous.name + ".wal").write_bytes(b"")
    elif reason == "free_blocks":
        monkeypatch.setattr(publish_sync, "MAX_FREE_SHARE", -1.0)
        monkeypatch.setattr(publish_sync, "MIN_FREE_BYTES", -1)
    elif reason == "unreadable":  # e.g. truncated by a full disk outside a publish
        previous.write_bytes(previous.read_bytes()[:4096])
    else:  # published before full_build_at existed
        con = duckdb.connect(str(previous))
        con.execute("alter table meta.publication drop column full_build_at")
        con.close()
    warehouse.execute("update marts.facts set amount = 0 where id = 1")  # a stale row...
    pub = _publish(warehouse, tmp_path)
    assert pub.full_build_at > first.full_build_at
    assert pub.methods == {"facts": "copied", "dims": "copied"}
    assert _differences(warehouse, tmp_path) == {}  # ...is gone after the rebuild


def test_the_file_does_not_grow_by_the_marts_copied_whole_each_night(warehouse, tmp_path):
    rebuild = ("create or replace table marts.dims as select i as id, md5(i::varchar || ?) as name "
               "from range(300000) as t(i)")
    sizes, builds = [], set()
    for night in range(4):
        warehouse.execute(rebuild, [str(night)])
        pub = _publish(warehouse, tmp_path)
        sizes.append(os.path.getsize(pub.database))
        builds.add(pub.full_build_at)
    assert len(builds) == 1  # each night started from the previous file
    # Without make_room a night's copy lands beside the old one's blocks: 1.92x the first
    # night's size every other night. With it, DuckDB's parallel writes still vary the size by
    # up to ~1.4x under load (one suite run saw [6.8, 9.4, 6.8, 7.4] MB), hence 1.6.
    assert max(sizes) < 1.6 * sizes[0], sizes
    assert _differences(warehouse, tmp_path) == {}


# --- a mart whose Parquet is one file per date (partitions.py) -----------------------------------

PARTITIONS = {"history": "day"}


def _night(con, tmp_path, day: str, built: dt.datetime, rows: int = 100):
    """A run scores `day`: that date's rows are replaced (delete+insert on day)."""
    con.execute("create table if not exists marts.history (id bigint, day date, score double, "
                "_built_at timestamp)")
    con.execute("delete from marts.history where day = ?", [day])
    con.execute("insert into marts.history select i, ?, i / 3, ? from range(?) t(i)",
                [day, built, rows])
    return publish(con, tmp_path / "published", day, "test", keys=KEYS, partitions=PARTITIONS)


def _counts(pub) -> dict[str, dict[str, int]]:
    return {mart: {k: v for k, v in how.items() if k in ("written", "linked")}
            for mart, how in pub.partitions.items()}


def _history_files(pub) -> dict[str, int]:
    """Partition folder -> inode of its file."""
    root = f"{pub.parquet_dir}/history"
    return {d: os.stat(f"{root}/{d}/data.parquet").st_ino
            for d in sorted(os.listdir(root)) if d.startswith("day=")}


def _history_differs(con, pub) -> tuple:
    files = f"read_parquet('{pub.parquet_dir}/history/*/*.parquet')"
    return con.execute(
        f"select (select count(*) from (from marts.history except all from {files})),"
        f" (select count(*) from (from {files} except all from marts.history))").fetchone()


def test_a_partitioned_mart_writes_only_the_dates_that_changed(warehouse, tmp_path):
    first = _night(warehouse, tmp_path, "2026-11-01", RUN_1)
    assert _counts(first) == {"history": {"written": 1, "linked": 0}}
    second = _night(warehouse, tmp_path, "2026-11-02", RUN_2)
    assert _counts(second) == {"history": {"written": 1, "linked": 1}}
    before, after = _history_files(first), _history_files(second)
    assert list(after) == ["day=2026-11-01", "day=2026-11-02"]
    assert after["day=2026-11-01"] == before["day=2026-11-01"]  # linked, not rewritten
    assert _history_differs(warehouse, second) == (0, 0)
    # the same date run again (a rerun writes it with its own _built_at): only it is rewritten
    rerun = _night(warehouse, tmp_path, "2026-11-02", RUN_3, rows=90)
    assert _counts(rerun) == {"history": {"written": 1, "linked": 1}}
    assert _history_files(rerun)["day=2026-11-02"] != after["day=2026-11-02"]
    assert _history_differs(warehouse, rerun) == (0, 0)
    # a date the warehouse no longer holds is no longer published
    warehouse.execute("delete from marts.history where day = '2026-11-01'")
    pruned = publish(warehouse, tmp_path / "published", "2026-11-02", "test", keys=KEYS,
                     partitions=PARTITIONS)
    assert list(_history_files(pruned)) == ["day=2026-11-02"]
    assert _history_differs(warehouse, pruned) == (0, 0)


def test_the_weekly_rebuild_links_the_unchanged_partitions_too(warehouse, tmp_path, monkeypatch):
    """The file is built from nothing, yet a partition whose content is the same keeps its file:
    its fingerprint is its content, not `_built_at` (whose drift the rebuild bounds)."""
    first = _night(warehouse, tmp_path, "2026-11-01", RUN_1)
    monkeypatch.setattr(publish_sync, "REBUILD_AFTER", dt.timedelta(0))
    pub = _night(warehouse, tmp_path, "2026-11-02", RUN_2)
    assert pub.full_build_at > first.full_build_at  # rebuilt
    assert _counts(pub) == {"history": {"written": 1, "linked": 1}}
    assert _history_files(pub)["day=2026-11-01"] == _history_files(first)["day=2026-11-01"]
    assert _history_differs(warehouse, pub) == (0, 0)


# --- a large fact published by month (fct_activities, fct_deal_stage_transitions) -----------------

BY_MONTH = {"events": {"month_of": "occurred_at", "as": "event_month"}}


def _events_night(con, tmp_path, built: dt.datetime, sql: str = "", params=()):
    """A run that changes `marts.events` with `sql` (stamping what it writes `built`), then
    publishes. The first call builds 3 months of events and 5 without a date."""
    con.execute("create table if not exists marts.events as select i as id, "
                "timestamp '2026-09-01' + to_days(i % 91) as occurred_at, i * 2 as amount, "
                "$1::timestamp as loaded_at, $1::timestamp as _built_at from range(900) t(i) "
                "union all select 900 + i, null, 0, $1, $1 from range(5) t(i)", [built])
    if sql:
        con.execute(sql, [*params])
    return publish(con, tmp_path / "published", "2026-11-30", "test",
                   keys={**KEYS, "events": ["id"]}, partitions=BY_MONTH)


def _month_files(pub) -> dict[str, tuple[int, int]]:
    """Partition folder -> (inode, mtime) of its file."""
    root = f"{pub.parquet_dir}/events"
    return {d: (os.stat(f"{root}/{d}/data.parquet").st_ino,
                os.stat(f"{root}/{d}/data.parquet").st_mtime_ns)
            for d in sorted(os.listdir(root)) if d.startswith("event_month=")}


def _events_differ(con, pub) -> tuple:
    """Rows in only the mart or only its partitions read back together (the partition column
    and the watermarks left aside: a linked month keeps the `_built_at` and `loaded_at` of the
    run that last changed its rows), and rows whose partition column in the file (a reader that
    does not take it from the path) is not the month of their date."""
    files = f"read_parquet('{pub.parquet_dir}/events/*/*.parquet')"
    in_files = f"read_parquet('{pub.parquet_dir}/events/*/*.parquet', hive_partitioning = false)"
    mart = "select * exclude (loaded_at, _built_at) from marts.events"
    published = f"select * exclude (event_month, loaded_at, _built_at) from {files}"
    return con.execute(
        f"select (select count(*) from ({mart} except all {published})),"
        f" (select count(*) from ({published} except all {mart})),"
        f" (select count(*) from {in_files} where event_month is distinct from "
        f"strftime(occurred_at, '%Y-%m'))").fetchone()


def test_a_fact_published_by_month_rewrites_only_the_months_whose_rows_changed(warehouse,
                                                                                tmp_path):
    first = _events_night(warehouse, tmp_path, RUN_1)
    assert first.partitions["events"]["written_partitions"] == [
        "event_month=2026-09", "event_month=2026-10", "event_month=2026-11",
        "event_month=__HIVE_DEFAULT_PARTITION__"]
    assert first.tables["events"] == 905 and _events_differ(warehouse, first) == (0, 0, 0)
    before = _month_files(first)
    # a night adds events in November, changes one in September and rewrites every October
    # event with the same values (as an incremental model rewrites a changed deal's rows, with a
    # new watermark): only September and November are written
    warehouse.execute("update marts.events set _built_at = $1, loaded_at = $1, "
                      "amount = if(id = 7, -1, amount) where id = 7 or month(occurred_at) = 10",
                      [RUN_2])
    second = _events_night(warehouse, tmp_path, RUN_2,
                           "insert into marts.events select 1000 + i, timestamp '2026-11-20', 1, "
                           "$1, $1 from range(10) t(i)", [RUN_2])
    assert second.partitions["events"] == {
        "written": 2, "linked": 2, "written_rows": 300 + 290 + 10,
        "written_partitions": ["event_month=2026-09", "event_month=2026-11"]}
    assert current(tmp_path / "published").partitions == second.partitions  # publication.json
    after = _month_files(second)
    assert {d for d in after if after[d] != before[d]} == {"event_month=2026-09",
                                                           "event_month=2026-11"}
    assert second.methods["events"] == "delta" and _events_differ(warehouse, second) == (0, 0, 0)
    # rows deleted in the warehouse (a September event, every event without a date) go
    third = _events_night(warehouse, tmp_path, RUN_3, "delete from marts.events "
                          "where id = 5 or occurred_at is null")
    assert third.partitions["events"]["written_partitions"] == ["event_month=2026-09"]
    assert "event_month=__HIVE_DEFAULT_PARTITION__" not in _month_files(third)
    assert third.tables["events"] == 909 and _events_differ(warehouse, third) == (0, 0, 0)
    # nothing changed since: nothing written, every file kept
    again = _events_night(warehouse, tmp_path, RUN_3)
    assert again.partitions["events"] == {"written": 0, "linked": 3, "written_rows": 0,
                                          "written_partitions": []}
    assert _month_files(again) == _month_files(third)


# BI readers' queries for each layout, as the README gives them
READERS = {"false": "select * from read_parquet('{parquet}/events.parquet')",
           "true": "select * exclude (event_month) from read_parquet("
                   "'{parquet}/events/*/*.parquet', hive_partitioning = true)"}


# "" is the setting left unset: by month (issue 26's decision 4)
@pytest.mark.parametrize("setting,by_month", [("false", "false"), ("true", "true"), ("", "true")])
def test_the_facts_layout_is_one_setting_and_each_path_reads_the_whole_mart(
        warehouse, tmp_path, monkeypatch, setting, by_month):
    monkeypatch.setenv("SALESPIPE_PUBLISH_FACTS_BY_MONTH", setting)
    splits = chosen({**BY_MONTH, "history": "day"},
                    OperationsSettings.from_env().publish_facts_by_month)
    assert splits == ({**BY_MONTH, "history": "day"} if by_month == "true" else {"history": "day"})
    _events_night(warehouse, tmp_path, RUN_1)
    pub = publish(warehouse, tmp_path / "published", "2026-11-30", "test", keys=KEYS,
                  partitions=splits)
    assert ("events" in pub.partitions) == (by_month == "true")
    read = READERS[by_month].format(parquet=tmp_path / "published" / "parquet")
    assert warehouse.execute(f"select (select count(*) from (({read}) except all "
                             f"from marts.events)), (select count(*) from (from marts.events "
                             f"except all ({read})))").fetchone() == (0, 0)


def test_a_partitioning_that_does_not_fit_the_mart_names_the_setting(warehouse, tmp_path):
    first = _publish(warehouse, tmp_path)
    with pytest.raises(PublishError, match=r"facts: meta publish_partition_by names 'amount', "
                                           r"which is BIGINT; it must be DATE or TIMESTAMP"):
        publish(warehouse, tmp_path / "published", "2026-11-01", "test", keys=KEYS,
                partitions={"facts": {"month_of": "amount", "as": "month"}})
    assert current(tmp_path / "published") == first


def test_a_failure_while_reusing_the_previous_file_is_reported_as_it_is(warehouse, tmp_path,
                                                                          monkeypatch):
    first = _publish(warehouse, tmp_path)

    def disk_full(*args):
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(publish_sync, "make_room", disk_full)  # before the copy's transaction
    with pytest.raises(PublishError) as err:
        _publish(warehouse, tmp_path)
    assert "No space left on device" in str(err.value)
    assert current(tmp_path / "published") == first
    assert sorted(p.name for p in (tmp_path / "published").iterdir()) == [
        ".versions", "parquet", "publication.json", "warehouse.duckdb"]


# --- the file BI tools' older DuckDB drivers open (compat.py, comments.py) ----------------------

def _storage_format(path) -> str:
    """The storage format DuckDB reads in the file's header, e.g. `v1.0.0+`."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{path}' as f (read_only)")
        return con.execute("select tags['storage_version'] from duckdb_databases() "
                           "where database_name = 'f'").fetchone()[0]
    finally:
        con.close()


def test_the_storage_version_holds_on_every_path_and_a_change_rebuilds(warehouse, tmp_path):
    first = _publish(warehouse, tmp_path)  # the default: SALESPIPE_PUBLISH_STORAGE_VERSION's
    assert first.storage_version == "v1.0.0"
    assert _storage_format(first.database) == "v1.0.0+"
    warehouse.execute("insert into marts.facts select 'crm', i, i, ? from range(1000, 1010) t(i)",
                      [RUN_2])
    second = _publish(warehouse, tmp_path)  # from a copy of the previous file
    assert second.methods["facts"] == "delta" and second.full_build_at == first.full_build_at
    assert _storage_format(second.database) == "v1.0.0+"
    newer = publish(warehouse, tmp_path / "published", "2026-11-02", "test", keys=KEYS,
                    storage_version="v1.4.0")  # the setting changed: the file is rebuilt
    assert newer.methods == {"facts": "copied", "dims": "copied"}
    assert newer.full_build_at > first.full_build_at
    assert _storage_format(newer.database) == "v1.4.0+"
    assert _differences(warehouse, tmp_path) == {}
    newest = "select tags['storage_version'] from duckdb_databases() where database_name = ?"
    warehouse.execute(f"attach '{tmp_path / 'new.duckdb'}' as new")  # DuckDB's default
    try:  # the working warehouse keeps DuckDB's newest format
        assert warehouse.execute(newest, ["warehouse"]).fetchone() == \
            warehouse.execute(newest, ["new"]).fetchone() != ("v1.0.0+",)
    finally:
        warehouse.execute("detach new")


@pytest.mark.parametrize("column", ["'12:00:00'::time_ns", "1::variant"])
def test_a_type_old_readers_lack_is_refused_naming_the_column(warehouse, tmp_path, column):
    first = _publish(warehouse, tmp_path)
    warehouse.execute(f"create table marts.odd as select 1 as id, {column} as at")
    with pytest.raises(PublishError) as refused:
        _publish(warehouse, tmp_path)
    message = str(refused.value)
    needs = "v1.4.0" if "time_ns" in column else "v1.5.0"
    assert "marts.odd.at is" in message and f"DuckDB before {needs} lacks" in message
    assert f"SALESPIPE_PUBLISH_STORAGE_VERSION={needs}" in message
    assert current(tmp_path / "published") == first  # the previous publication stays
    assert not list((tmp_path / "published").glob(".*.tmp"))
    raised = publish(warehouse, tmp_path / "published", "2026-11-01", "test", keys=KEYS,
                     storage_version=needs)
    assert raised.tables["odd"] == 1


def test_an_unknown_storage_version_names_the_setting(warehouse, tmp_path):
    with pytest.raises(PublishError, match=r"SALESPIPE_PUBLISH_STORAGE_VERSION=v9\.9\.9 is not a "
                                           "DuckDB storage version"):
        publish(warehouse, tmp_path / "published", "2026-11-01", "test", storage_version="v9.9.9")


def test_the_setting_refuses_what_is_no_version(monkeypatch):
    from orchestration.settings import OperationsSettings, SettingsError

    assert OperationsSettings.from_env().publish_storage_version == "v1.0.0"
    monkeypatch.setenv("SALESPIPE_PUBLISH_STORAGE_VERSION", "1.4.0")
    assert OperationsSettings.from_env().publish_storage_version == "v1.4.0"
    monkeypatch.setenv("SALESPIPE_PUBLISH_STORAGE_VERSION", "1.4")
    with pytest.raises(SettingsError, match="SALESPIPE_PUBLISH_STORAGE_VERSION must be a DuckDB "
                                            "version like v1.0.0"):
        OperationsSettings.from_env()


def _comments(path) -> dict[str, str | None]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts' union all"
            " select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'").fetchall())
    finally:
        con.close()


def test_dbt_descriptions_become_comments_and_only_dbt_marts_are_published(warehouse, tmp_path):
    from orchestration.publish.comments import MartDoc

    warehouse.execute("create table marts.facts__helper as select 1 as x")  # no dbt mart
    docs = {"facts": MartDoc("One row per fact.\n  Grows each run.",
                             {"id": "The fact's id.", "amount": "In cents.", "gone": "Not there"}),
            "dims": MartDoc()}
    first = publish(warehouse, tmp_path / "published", "2026-11-01", "test", keys=KEYS,
                    docs=docs)
    assert sorted(first.tables) == ["dims", "facts"] and first.left_out == ["facts__helper"]
    assert first.described_columns == 2
    seen = _comments(first.database)
    assert seen["facts"] == "One row per fact. Grows each run."
    assert (seen["facts.id"], seen["facts.amount"], seen["facts.source"]) == \
        ("The fact's id.", "In cents.", None)
    assert seen["dims"] is None
    # the next night starts from this file: a description removed from the yml goes too
    warehouse.execute("insert into marts.facts select 'crm', i, i, ? from range(1000, 1010) t(i)",
                      [RUN_2])
    docs["facts"] = MartDoc("One row per fact.", {"id": "The fact's id."})
    second = publish(warehouse, tmp_path / "published", "2026-11-02", "test", keys=KEYS,
                     docs=docs)
    assert second.methods["facts"] == "delta"
    seen = _comments(second.database)
    assert (seen["facts"], seen["facts.id"], seen["facts.amount"]) == \
        ("One row per fact.", "The fact's id.", None)
