"""Seeds are loaded only when they changed (orchestration/transform/seeds.py): a fingerprint
kept in the warehouse says what each seed table was loaded from."""

import dagster as dg
import duckdb

from orchestration.pipeline import assets_and_resources, run_pipeline
from orchestration.settings import DBT_PROJECT_DIR

SEEDS = 10


def _dbt_build() -> dg.AssetSelection:
    """The whole dbt project with its tests, nothing else: dagster-dbt runs it unsubsetted, as
    a full run does, without the ingest, GX checks and publication around it."""
    assets, _ = assets_and_resources()
    dbt = next(a for a in assets if isinstance(a, dg.AssetsDefinition) and a.op.name == "dbt_models")
    return dg.AssetSelection.assets(*dbt.keys).without_checks() | dg.AssetSelection.checks(
        *dbt.check_keys)


def _differences(con, table: str) -> tuple[int, int]:
    """Rows of `table` in the new build and not in the original (`old`), and the reverse.
    `_built_at` says when, not what. Two builds of the same data sum doubles in another order
    (the last digits differ between any two builds, seeds loaded or not), so doubles are equal
    within 1e-9 relative: the rows are matched on their other columns (which identify a row of
    every mart) and compared column by column; without doubles, EXCEPT ALL both ways."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = "
        "'warehouse' and table_schema = ? and table_name = ? and column_name <> '_built_at'",
        table.split(".")).fetchall()
    keys = [f'"{c}"' for c, kind in columns if kind not in ("DOUBLE", "FLOAT")]
    doubles = [f'"{c}"' for c, kind in columns if kind in ("DOUBLE", "FLOAT")]
    new, old = f"warehouse.{table}", f"old.{table}"
    if not doubles:
        cols = ", ".join(keys)
        return tuple(con.execute(f"select count(*) from (select {cols} from {a} except all "
                                 f"select {cols} from {b})").fetchone()[0]
                     for a, b in ((new, old), (old, new)))
    for side in (new, old):  # the match below needs the other columns to identify a row
        assert con.execute(f"select count(*) = count(distinct ({', '.join(keys)})) "
                           f"from {side}").fetchone()[0], table
    on = " and ".join(f"n.{k} is not distinct from o.{k}" for k in keys)
    near = " and ".join(f"(n.{d} is not distinct from o.{d} or abs(n.{d} - o.{d}) <= "
                        f"1e-9 * greatest(abs(n.{d}), abs(o.{d}), 1))" for d in doubles)
    probe = "_here"  # 1 on a row that exists on its side of the join
    return con.execute(
        f"select count(*) filter (where o.{probe} is null and n.{probe} is not null "
        f"  or (o.{probe} is not null and n.{probe} is not null and not ({near}))), "
        f"count(*) filter (where n.{probe} is null and o.{probe} is not null "
        f"  or (o.{probe} is not null and n.{probe} is not null and not ({near}))) "
        f"from (select 1 as _here, * from {new}) n full join "
        f"(select 1 as _here, * from {old}) o on {on}").fetchone()


def test_a_new_warehouse_keeps_every_seeds_fingerprint(seeds_build):
    con = duckdb.connect(str(seeds_build.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from meta.seed_fingerprints").fetchone()[0] == SEEDS
    finally:
        con.close()


def test_only_changed_or_missing_seeds_are_loaded_and_the_marts_equal_a_full_build(
        seeds_build, workspace, monkeypatch, tmp_path):
    warehouse = seeds_build.copy_to(tmp_path)
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SALESPIPE_AS_OF", "2026-10-31")  # the build's
    con = duckdb.connect(str(warehouse))
    try:
        # lead_score_grades as if loaded from an older CSV: another B threshold, another print
        con.execute("update config.lead_score_grades set min_score = 60 where grade = 'B'")
        con.execute("update meta.seed_fingerprints set fingerprint = 'an older csv' "
                    "where unique_id = 'seed.salespipe.lead_score_grades'")
        con.execute("drop table config.alert_stale_days")  # a seed table gone
        loaded_at = dict(con.execute(
            "select unique_id, loaded_at from meta.seed_fingerprints").fetchall())
    finally:
        con.close()

    summary = run_pipeline(selection=_dbt_build(), stream=False)

    checked = {(row.asset.removeprefix("config/"), row.check) for row in summary.checks
               if row.asset.startswith("config/")}
    changed = {"lead_score_grades", "alert_stale_days"}
    assert {seed for seed, _ in checked} >= changed  # their tests ran
    # of the other seeds' tests only those that also read a model (a relationship)
    assert {check.split("_")[0] for seed, check in checked if seed not in changed} == {
        "relationships"}
    con = duckdb.connect(str(warehouse))
    try:
        csv = DBT_PROJECT_DIR / "seeds" / "lead_score_grades.csv"
        assert con.execute("select * from config.lead_score_grades except all "
                           f"select * from read_csv('{csv}')").fetchall() == []
        now = dict(con.execute("select unique_id, loaded_at from meta.seed_fingerprints")
                   .fetchall())
        reloaded = {k.rsplit(".", 1)[1] for k in now if now[k] != loaded_at.get(k)}
        assert reloaded == {"lead_score_grades", "alert_stale_days"}
        con.execute(f"attach '{seeds_build.warehouse}' as old (read_only)")
        marts = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'old' "
            "and schema_name = 'marts'").fetchall()]
        assert len(marts) >= 20
        assert {m: _differences(con, f"marts.{m}") for m in marts} == {m: (0, 0) for m in marts}
    finally:
        con.close()
