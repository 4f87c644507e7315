"""The CPU of a run's own process before, during and after its dbt step.

    python benchmarks/run_process_cpu.py OUTPUT_FILE salespipe run --as-of 2026-10-31

Runs the command (its output to OUTPUT_FILE) and samples its process's CPU time (user + system,
`/proc/<pid>/stat`) every 20 ms, noting it when the first `dbt` child process appears and when
it is gone; prints one JSON line: the CPU before dbt's process started (start-up, ingest and the
raw checks: the run's critical path, GIL-bound), during dbt, the last sample, and the wall
seconds of those moments. CPU time moves much less than wall time with the machine's load, so
it measures a change of start-up cost on a shared machine (benchmarks/demo_ab.sh uses it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[str]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            found += Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            pass
    return found


def is_dbt(pid: str) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(os.path.basename(a) == b"dbt" for a in argv[:2])


def main(output: str, command: list[str]) -> dict:
    started = time.monotonic()
    with open(output, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    dbt_start = dbt_end = None
    last = 0.0
    while proc.poll() is None:
        try:
            last = cpu_seconds(proc.pid)
            dbt = any(is_dbt(c) for c in children(proc.pid))
        except OSError:  # the process ended between two reads
            break
        now = time.monotonic() - started
        if dbt and dbt_start is None:
            dbt_start = (now, last)
        elif dbt_start and not dbt and dbt_end is None:
            dbt_end = (now, last)
        time.sleep(0.02)
    proc.wait()
    return {"wall": round(time.monotonic() - started, 2), "returncode": proc.returncode,
            "cpu_before_dbt": dbt_start and round(dbt_start[1], 2),
            "dbt_started_at": dbt_start and round(dbt_start[0], 2),
            "cpu_during_dbt": dbt_start and dbt_end and round(dbt_end[1] - dbt_start[1], 2),
            "dbt_ended_at": dbt_end and round(dbt_end[0], 2),
            "cpu_last_sample": round(last, 2)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
