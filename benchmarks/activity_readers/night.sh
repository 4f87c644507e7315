#!/bin/bash
# usage: D=<folder with A.duckdb, B.duckdb> run.sh VARIANT(A|B) STEP(base|night|full)
# The three readers of int_activities on a small copy of a warehouse (setup_copy.py): A is the
# base commit's dbt project (git archive <base> dbt_project, unpacked in /tmp/act-base), B this
# branch's (/tmp/act-B). base: built as of BASE_ASOF; night: the held-back rows landed (night.*),
# built as of NIGHT_ASOF under the machine lock; full: the same with --full-refresh.
set -e
D=${D:-/tmp/act-L}; BASE_ASOF=${BASE_ASOF:-2026-10-31}; NIGHT_ASOF=${NIGHT_ASOF:-2026-11-01}
v=$1; step=$2
proj=$([ "$v" = A ] && echo /tmp/act-base/dbt_project || echo /tmp/act-B/dbt_project)
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SALESPIPE_DUCKDB_MEMORY_LIMIT=2GB SALESPIPE_DUCKDB_THREADS=2
models="int_activities int_activity_summary int_lead_engagement_sums int_deal_last_touch"
dbt=/work/wt-act/.venv/bin/dbt
out=$D/out-$v-$step-$(date +%H%M%S)
mkdir -p $out
lock=$([ "$step" = base ] && echo "" || echo "flock /tmp/machine.lock")
case $step in
  base) cp $D/src.duckdb $D/$v.duckdb; w=$D/$v.duckdb; asof=$BASE_ASOF; extra="";;
  night|full)
    w=$D/work-$v.duckdb; cp $D/$v.duckdb $w; asof=$NIGHT_ASOF
    /work/wt-act/.venv/bin/python - "$w" <<'PY'
import duckdb, sys
c = duckdb.connect(sys.argv[1])
for (t,) in c.execute("select table_name from information_schema.tables where table_schema='night'").fetchall():
    c.execute(f"insert into staging.{t} select * from night.{t}")
c.close()
PY
    extra=$([ "$step" = full ] && echo --full-refresh || true);;
esac
SALESPIPE_WAREHOUSE=$w SALESPIPE_AS_OF=$asof /usr/bin/time -f "%e s wall %U user %S sys" \
  $lock $dbt run -s $models $extra --project-dir $proj --profiles-dir $proj \
  --target-path $out/target --log-path $out/logs > $out/stdout 2>&1 || { tail -30 $out/stdout; exit 1; }
tail -1 $out/stdout
/work/wt-act/.venv/bin/python -c "
import json,sys; r=json.load(open('$out/target/run_results.json'))
print('$v $step', {x['unique_id'].split('.')[-1]: round(x['execution_time'],2) for x in r['results']})"
