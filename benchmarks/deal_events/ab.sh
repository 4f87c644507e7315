#!/bin/bash
# Under the machine lock (flock /tmp/machine.lock ./ab.sh): two A/B pairs of the M night (the
# five deal-event models), then one pair at L (int_stage_events alone). Copies prepared first:
#   replay.py prepare                                    (M: /tmp/ev-rep)
#   python copy_l_inputs.py; REP_SRC=/tmp/ev-L/base-A.duckdb REP_DIR=/tmp/ev-L \
#     REP_AS_OF=2026-11-01 REP_SELECT=int_stage_events replay.py prepare
cd "$(dirname "$0")" || exit 1
PY=${PY:-/work/wt-ev/.venv/bin/python}
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in 1 2; do for w in A B; do $PY replay.py night $w; done; done
for w in A B; do
    REP_DIR=/tmp/ev-L REP_AS_OF=2026-11-01 REP_SELECT=int_stage_events $PY replay.py night $w
done
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
