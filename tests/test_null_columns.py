"""A model's not-null columns are one dbt test (tests/generic/not_null_columns.sql): when it
fails, the run's error and the Dagster asset check name each null column with its row count."""

import dagster as dg
import duckdb

from orchestration.pipeline import assets_and_resources, failed_steps

STAGES = dg.AssetKey(["intermediate", "int_pipeline_stages"])


def test_a_failed_not_null_test_names_each_column_and_its_rows(seeds_run_copy):
    warehouse = seeds_run_copy
    con = duckdb.connect(str(warehouse))  # the staging rows int_pipeline_stages reads
    con.execute("""update staging.stg_hubspot__pipeline_stages set source_pipeline_id = null
                   where source_stage_id in (select source_stage_id
                   from staging.stg_hubspot__pipeline_stages order by 1 limit 2)""")
    con.execute("""update staging.stg_hubspot__pipeline_stages set source_stage_id = null
                   where source_stage_id = (select max(source_stage_id)
                   from staging.stg_hubspot__pipeline_stages)""")
    con.close()
    result = _build(STAGES)
    check = _failed_check(result, "not_null_int_pipeline_stages")
    assert check.metadata["null_rows_by_column"].value == {"pipeline_id": 2, "stage_id": 1}
    assert check.metadata["failing_columns"].value == (
        "stage_id: 1 null row, pipeline_id: 2 null rows")
    (step, message), = failed_steps(result)
    assert step == "dbt_models"
    assert message == ("dbt build: 1 failed\ntest not_null_int_pipeline_stages: "
                       "stage_id: 1 null row, pipeline_id: 2 null rows")


OWNERS = dg.AssetKey(["intermediate", "int_owners"])


def test_a_failed_error_test_says_why_and_the_fix(seeds_run_copy):
    """dbt's own message for a failed test is a row count; the run's error adds the test's
    description, where the yml says what the data means and how to fix it (here: a Salesforce
    report names an Opportunity Owner whom two API users are, which a name join would fan
    out)."""
    warehouse = seeds_run_copy
    con = duckdb.connect(str(warehouse))  # the staging rows int_owners reads
    con.execute("""insert into staging.stg_salesforce__users by name
                   select * from (values ('005A', 'Lu Chan'), ('005B', 'Lu Chan'))
                   as u(source_owner_id, owner_name)""")
    con.execute("""insert into staging.stg_salesforce__opportunities by name
                   select '006X' as source_deal_id, 'Lu Chan' as owner_name""")
    con.close()
    result = _build(OWNERS)
    (step, message), = failed_steps(result)
    assert step == "dbt_models"
    first, why = message.splitlines()[1:3]
    assert first.startswith("test int_owners_owner_name_identifies_one_owner: Got 1 result")
    assert why.startswith("  Error: owner_name_key is the key int_deals, int_contacts")
    assert "make the two users' names differ in Salesforce" in why


ACTIVITIES = dg.AssetKey(["marts", "fct_activities"])


def test_a_scoped_not_null_test_names_the_columns_of_the_whole_table(seeds_run_copy):
    """fct_activities' not-null test reads only the rows written since it last passed (meta
    tested_since, macros/tested_through.sql): a row a later run wrote with nulls fails it, and
    the asset check names each column with its null rows in the whole table."""
    warehouse = seeds_run_copy
    con = duckdb.connect(str(warehouse))
    con.execute("""insert into marts.fct_activities by name
                   select * replace (activity_id || '-later' as activity_id,
                       case when activity_id = (select min(activity_id) from marts.fct_activities)
                            then null else activity_type end as activity_type,
                       null as loaded_at, _built_at + interval 1 second as _built_at)
                   from marts.fct_activities order by activity_id limit 3""")
    whole = con.execute("""select count(*) filter (where activity_type is null),
                                  count(*) filter (where loaded_at is null)
                           from marts.fct_activities""").fetchone()
    con.close()
    assert whole == (1, 3)
    result = _build(ACTIVITIES)
    check = _failed_check(result, "not_null_fct_activities")
    assert check.metadata["null_rows_by_column"].value == {"activity_type": 1, "loaded_at": 3}
    (_step, message), = failed_steps(result)
    assert message == ("dbt build: 1 failed\ntest not_null_fct_activities: "
                       "activity_type: 1 null row, loaded_at: 3 null rows")


def _build(key: dg.AssetKey) -> dg.ExecuteInProcessResult:
    assets, resources = assets_and_resources()
    return dg.materialize(assets, resources=resources, raise_on_error=False,
                          selection=dg.AssetSelection.assets(key))


def _failed_check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    check, = [c for c in result.get_asset_check_evaluations() if c.check_name == name]
    assert not check.passed
    return check
