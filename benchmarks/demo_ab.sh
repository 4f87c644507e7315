#!/bin/bash
# The demo run of two source trees in alternating runs under the same machine load:
#   git archive <base> | tar -x -C /tmp/base-src
#   bash benchmarks/demo_ab.sh /tmp/base-src . 3 /tmp/ab.txt
# Each run is `python -m orchestration.cli run --as-of 2026-10-31` of one tree (PYTHONPATH set
# to it, this checkout's .venv), with its own data folder (/tmp/demo-ab-<a|b>), timed by
# /usr/bin/time; a line per run in the output file: side, wall s, user s, sys s, 1-min load.
set -e
a=$(realpath "$1"); b=$(realpath "$2"); runs=$3; out=$4
# not realpath: it would resolve the venv's python symlink to the base interpreter
py="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DAGSTER_DISABLE_TELEMETRY=1 RUNTIME__DLTHUB_TELEMETRY=false
for _ in $(seq 1 "$runs"); do
  for side in a b; do
    src=$a; [ $side = b ] && src=$b
    load=$(cut -d' ' -f1 /proc/loadavg)
    (cd "$src" && PYTHONPATH=$src SALESPIPE_DATA_DIR=/tmp/demo-ab-$side \
      /usr/bin/time -f "$side %e %U %S load=$load" -a -o "$out" \
      "$py" -m orchestration.cli run --source-dir "$src/seeds" --as-of 2026-10-31 \
      > "/tmp/demo-ab-$side.out" 2>&1)
  done
done
