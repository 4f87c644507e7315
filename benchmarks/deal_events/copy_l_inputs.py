"""int_stage_events and its inputs copied from the L warehouse (attached read-only) into
/tmp/ev-L/base-A.duckdb (0.3 GB): replay.py's base at L (REP_DIR=/tmp/ev-L).

    copy_l_inputs.py [SOURCE DEST [schema.table ...]]   other paths, and more tables to copy
"""
import sys

import duckdb

STAGING = ["stg_hubspot__deal_stage_dates", "stg_hubspot__deals",
           "stg_activecampaign__deal_activities", "stg_generic__deal_stage_dates",
           "stg_generic__deals", "stg_pipedrive__deal_changes", "stg_pipedrive__deals",
           "stg_salesforce__opportunity_history"]
TABLES = [("staging", t) for t in STAGING] + [
    ("snapshots", "deals_snapshot"), ("intermediate", "int_deals"),
    ("intermediate", "int_pipeline_stages"), ("intermediate", "int_stage_events")]
SOURCE, DEST = (sys.argv[1:3] if len(sys.argv) > 2
                else ("/tmp/s9/L/L/run-duckdb/warehouse.duckdb", "/tmp/ev-L/base-A.duckdb"))
TABLES += [tuple(name.split(".")) for name in sys.argv[3:]]

con = duckdb.connect(DEST)
con.execute(f"attach '{SOURCE}' as l (read_only)")
for schema, table in TABLES:
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {schema}.{table} as select * from l.{schema}.{table}")
con.execute("detach l")
con.close()
