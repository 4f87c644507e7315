"""A synthetic 1% night of the deal event models, replayed on copies of a warehouse: main's dbt
project (A: `git archive 5799707 dbt_project` unpacked in /tmp/ev-A) against this branch's (B:
its dbt_project copied to /tmp/ev-B), alternating under the machine lock (ab.sh).

    replay.py prepare      base-A / base-B copies of REP_SRC; B's int_stage_events rebuilt
    replay.py night A|B    base-X copied to work-X, the night's edits, REP_SELECT built

REP_DIR holds the copies, REP_AS_OF is the as-of day, REP_MOD the share of deals edited per
history source (1/REP_MOD: a moved HubSpot stage date, a deleted generic stage date, a moved
ActiveCampaign stage change; with REP_EDIT_SNAPSHOT=1 also a snapshot version's amount).
REP_PROJECT_A / REP_PROJECT_B: other dbt projects than /tmp/ev-A|B/dbt_project. Prints the dbt process's CPU seconds and dbt's node seconds."""
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

SRC = os.environ.get("REP_SRC", "/tmp/s9/M2/M/run-duckdb/warehouse.duckdb")
D = os.environ.get("REP_DIR", "/tmp/ev-rep")
AS_OF = os.environ.get("REP_AS_OF", "2026-11-02")
PROJECT = {w: os.environ.get(f"REP_PROJECT_{w}", f"/tmp/ev-{w}/dbt_project") for w in "AB"}
DBT = str(Path(sys.executable).with_name("dbt"))
SELECT = os.environ.get("REP_SELECT", "int_stage_events int_deal_changes int_deal_states "
                        "fct_deal_stage_transitions fct_deal_changes")
MOD = int(os.environ.get("REP_MOD", "100"))
EDITS = [
    ("update staging.stg_hubspot__deal_stage_dates set entered_at = entered_at + interval 1 hour "
    f"where hash(source_deal_id) % {MOD} = 0"),
    ("delete from staging.stg_generic__deal_stage_dates "
    f"where hash(source_deal_id, stage_label) % {3 * MOD} = 1"),
    ("update staging.stg_activecampaign__deal_activities set occurred_at = occurred_at "
    f"+ interval 1 hour where hash(source_deal_id) % {MOD} = 2 and data_type = 'd_stageid'"),
]
if os.environ.get("REP_EDIT_SNAPSHOT"):  # a snapshot change (amount) for int_deal_changes
    EDITS.append("update snapshots.deals_snapshot set amount = coalesce(amount, 0) + 1 "
                 f"where hash(deal_id) % {MOD} = 3 and dbt_valid_to is null")


def dbt(which: str, db: str, *args: str) -> dict:
    env = {**os.environ, "SALESPIPE_WAREHOUSE": db, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "SALESPIPE_DUCKDB_THREADS": "2"}
    target = f"{D}/target-{which}"
    cmd = [DBT, "run", "--project-dir", PROJECT[which], "--profiles-dir", PROJECT[which],
           "--target-path", target, "--log-path", f"{D}/log-{which}",
           "--vars", f"{{as_of: {AS_OF}}}", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    result = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        sys.exit(result.stdout[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results = json.loads(Path(f"{target}/run_results.json").read_text())["results"]
    nodes = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results}
    return {"cpu": round(cpu, 1), "wall": round(time.time() - started, 1), "nodes": nodes}


if sys.argv[1] == "prepare":
    for w in "AB":
        if SRC != f"{D}/base-{w}.duckdb":
            shutil.copy(SRC, f"{D}/base-{w}.duckdb")
    print("B base", dbt("B", f"{D}/base-B.duckdb", "-s", "int_stage_events"))
else:
    w = sys.argv[2]
    db = f"{D}/work-{w}.duckdb"
    shutil.copy(f"{D}/base-{w}.duckdb", db)
    con = duckdb.connect(db)
    for edit in EDITS:
        con.execute(edit)
    con.close()
    print(w, json.dumps(dbt(w, db, "-s", *SELECT.split())))
