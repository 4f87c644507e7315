#!/bin/bash
# night.sh A|B base|night|replay : build the activity aggregates on a copy (A: main's dbt project
# at 5799707, B: /work/wt-sums). base: base0 -> base-V as of BASE_ASOF; night: base-V ->
# night-V with the held-back rows landed, as of NIGHT_ASOF. Prints CPU s and dbt node seconds.
set -e
V=$1; P=$2; D=${D:-/tmp/sums-L}
BASE_ASOF=${BASE_ASOF:-2026-10-31}; NIGHT_ASOF=${NIGHT_ASOF:-2026-11-01}
if [ "$V" = A ]; then PROJ=/tmp/sums-A/dbt_project; else PROJ=/work/wt-sums/dbt_project; fi
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SALESPIPE_DUCKDB_MEMORY_LIMIT=2GB SALESPIPE_DUCKDB_DEFAULT_THREADS=2 SALESPIPE_DBT_THREADS=2
PY=/work/wt-sums/.venv/bin/python
SEL="int_activities int_activity_summary int_deal_last_touch int_lead_engagement_sums"
if [ "$P" = base ]; then
  cp $D/base0.duckdb $D/base-$V.duckdb; W=$D/base-$V.duckdb; ASOF=$BASE_ASOF; EXTRA=${EXTRA:-}
else
  cp $D/base-$V.duckdb $D/night-$V.duckdb; W=$D/night-$V.duckdb; ASOF=$NIGHT_ASOF; EXTRA=${EXTRA:-}
  $PY - "$W" <<'PYEOF'
import sys, duckdb
c = duckdb.connect(sys.argv[1])
for (t,) in c.sql("select table_name from duckdb_tables() where schema_name='night'").fetchall():
    c.sql(f"insert into staging.{t} by name select * from night.{t}")
c.close()
PYEOF
fi
T=$D/target-$V-$P
export SALESPIPE_WAREHOUSE=$W
/usr/bin/time -f "CPU %U+%S wall %e maxrss %M" /work/wt-sums/.venv/bin/dbt run -q -s $SEL $EXTRA --project-dir $PROJ --profiles-dir $PROJ \
  --target-path $T --log-path $T/logs --vars "{as_of: $ASOF}" 2>&1 | tail -3
$PY -c "
import json; r=json.load(open('$T/run_results.json'))
for x in r['results']: print('  %-45s %6.2f' % (x['unique_id'].split('.')[-1], x['execution_time']))
print('  sum %.2f' % sum(x['execution_time'] for x in r['results']))"
