#!/bin/bash
# The demo run of two source trees in alternating runs under the same machine load:
#   git archive <base> | tar -x -C /tmp/base-src
#   bash benchmarks/demo_ab.sh /tmp/base-src . 3 /tmp/ab.txt [/tmp/my-ab]
# Each run is `python -m orchestration.cli run --as-of 2026-10-31` of one tree (PYTHONPATH set
# to it, this checkout's .venv), with its own data folder (<prefix>-<a|b>, prefix /tmp/demo-ab
# unless given: two people timing at once need their own), timed by /usr/bin/time; two lines
# per run in the output file: side, wall s, user s, sys s, 1-min load; side and the run
# process's own CPU before/during its dbt step (benchmarks/run_process_cpu.py, JSON; its
# polling is in the first line's user s, alike on both sides). A data
# folder that exists is used as it is (warm runs); remove it for a run from nothing.
set -e
a=$(realpath "$1"); b=$(realpath "$2"); runs=$3; out=$4; prefix=${5:-/tmp/demo-ab}
# not realpath: it would resolve the venv's python symlink to the base interpreter
py="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
here="$(cd "$(dirname "$0")" && pwd)"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DAGSTER_DISABLE_TELEMETRY=1 RUNTIME__DLTHUB_TELEMETRY=false
for _ in $(seq 1 "$runs"); do
  for side in a b; do
    src=$a; [ $side = b ] && src=$b
    load=$(cut -d' ' -f1 /proc/loadavg)
    (cd "$src" && PYTHONPATH=$src SALESPIPE_DATA_DIR=$prefix-$side \
      /usr/bin/time -f "$side %e %U %S load=$load" -a -o "$out" \
      "$py" "$here/run_process_cpu.py" "$prefix-$side.out" \
      "$py" -m orchestration.cli run --source-dir "$src/seeds" --as-of 2026-10-31 \
      | sed "s/^/$side /" >> "$out")
  done
done
