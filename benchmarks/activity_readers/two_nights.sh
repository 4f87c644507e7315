#!/bin/bash
# M over two nights with this branch's code (/tmp/act-B): base as of 10-31 without either
# night's rows, night 1 (rows landed 08:15) as of 11-01, night 2 (08:16) as of 11-02, then a
# copy rebuilt with --full-refresh as of 11-02.
set -e
here=$(cd "$(dirname "$0")" && pwd); mkdir -p /tmp/act-M2; cd /tmp/act-M2
py=/work/wt-act/.venv/bin/python; dbt=/work/wt-act/.venv/bin/dbt; proj=/tmp/act-B/dbt_project
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SALESPIPE_DUCKDB_MEMORY_LIMIT=2GB SALESPIPE_DUCKDB_THREADS=2
$py $here/setup_copy.py /tmp/s8/M/M/run-duckdb/warehouse.duckdb /tmp/act-M2/w.duckdb "2026-12-07 08:15:00"
models="int_activities int_activity_summary int_lead_engagement_sums int_deal_last_touch"
run() { SALESPIPE_WAREHOUSE=$1 SALESPIPE_AS_OF=$2 $dbt run -s $models $3 --project-dir $proj --profiles-dir $proj --target-path /tmp/act-M2/target --log-path /tmp/act-M2/logs | tail -1; }
land() { $py - "$1" "$2" "$3" <<'PY'
import duckdb, sys
c = duckdb.connect(sys.argv[1])
for (t,) in c.execute("select table_name from information_schema.tables where table_schema='night'").fetchall():
    c.execute(f"insert into staging.{t} select * from night.{t} where _loaded_at >= timestamp '{sys.argv[2]}' and _loaded_at < timestamp '{sys.argv[3]}'")
c.close()
PY
}
run w.duckdb 2026-10-31
land w.duckdb "2026-12-07 08:15:00" "2026-12-07 08:16:00"; run w.duckdb 2026-11-01
land w.duckdb "2026-12-07 08:16:00" "2026-12-07 08:17:00"; run w.duckdb 2026-11-02
cp w.duckdb f.duckdb; run f.duckdb 2026-11-02 --full-refresh
$py $here/compare.py w.duckdb w.duckdb f.duckdb
