"""A small DuckDB file with what int_activities and its three readers need, copied from the L
warehouse (read-only): staging activity logs without the night's rows (kept in night.*), the
deals, owners and the activity_types seed."""
import sys

import duckdb

L, DEST, CUTOFF = sys.argv[1:4]
c = duckdb.connect(DEST)
c.execute("set threads=2; set memory_limit='2GB'")
c.execute(f"attach '{L}' as l (read_only)")
c.execute("create schema if not exists staging; create schema if not exists intermediate; "
          "create schema if not exists config; create schema if not exists night")
logs = ['stg_hubspot__activities', 'stg_activecampaign__activities',
        'stg_activecampaign__deal_activities', 'stg_generic__activities',
        'stg_pipedrive__activities', 'stg_salesforce__tasks', 'stg_salesforce__events']
night = f"timestamp '{CUTOFF}'"
for t in logs:
    c.execute(f"create or replace table staging.{t} as select * from l.staging.{t} where _loaded_at < {night}")
    c.execute(f"create or replace table night.{t} as select * from l.staging.{t} where _loaded_at >= {night}")
    print(t, c.execute(f"select (select count(*) from staging.{t}), (select count(*) from night.{t})").fetchone())
c.execute("create or replace table intermediate.int_deals as select * from l.intermediate.int_deals")
c.execute("create or replace table intermediate.int_owners as select * from l.intermediate.int_owners")
c.execute("create or replace table config.activity_types as select * from l.config.activity_types")
c.close()
