"""Where a run's dbt step spent its time: each node's execution time, from dbt's own files.

A run's dbt invocation writes `run_results.json` (seconds per model, test, seed, snapshot) and
`manifest.json` (each node's folder) into `dbt_project/target/dbt_models-<run id[:7]>-*`
(orchestration/transform/assets.py). The benchmark (benchmarks/run.py) reports these next to its
phases, so a slow night points at the models that made it slow."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR


def run_folder(run_id: str, project_dir: Path = DBT_PROJECT_DIR) -> Path | None:
    """The target folder of the run's dbt step (the newest, should it have run twice)."""
    folders = [p for p in (project_dir / "target").glob(f"dbt_models-{run_id[:7]}-*")
               if (p / "run_results.json").is_file()]
    return max(folders, key=lambda p: (p / "run_results.json").stat().st_mtime, default=None)


def node_times(folder: Path) -> dict[str, dict]:
    """{unique_id: {"seconds", "group", "thread"}}; group: "models: <layer folder>" for a model
    (staging, intermediate, marts), else the resource type (test, seed, snapshot); thread: the
    dbt worker thread that ran it (SALESPIPE_DBT_THREADS of them run nodes at once)."""
    results = json.loads((folder / "run_results.json").read_text())["results"]
    manifest_path = folder / "manifest.json"
    nodes = json.loads(manifest_path.read_text())["nodes"] if manifest_path.is_file() else {}
    out = {}
    for result in results:
        uid = result["unique_id"]
        kind = uid.split(".", 1)[0]
        fqn = nodes.get(uid, {}).get("fqn", [])
        group = f"models: {fqn[1]}" if kind == "model" and len(fqn) > 2 else kind
        out[uid] = {"seconds": round(result.get("execution_time") or 0.0, 3), "group": group,
                    "thread": result.get("thread_id")}
    return out


def summarise(times: dict[str, dict], top: int = 12) -> dict:
    """Seconds and node count per group, the `top` slowest nodes, and how many dbt threads ran
    them (with two, the nodes' seconds add up to as much as twice the dbt phase)."""
    groups: dict[str, dict] = {}
    for node in times.values():
        entry = groups.setdefault(node["group"], {"seconds": 0.0, "nodes": 0})
        entry["seconds"] += node["seconds"]
        entry["nodes"] += 1
    for entry in groups.values():
        entry["seconds"] = round(entry["seconds"], 2)
    slowest = sorted(times.items(), key=lambda kv: kv[1]["seconds"], reverse=True)[:top]
    # the hooks (on-run-start/end) run on dbt's main thread, the nodes on its worker threads
    threads = len({node.get("thread") for node in times.values()} - {None, "main"}) or 1
    return {"groups": dict(sorted(groups.items(), key=lambda kv: -kv[1]["seconds"])),
            "threads": threads,
            "slowest": [[_label(uid), node["seconds"]] for uid, node in slowest]}


def _label(unique_id: str) -> str:
    """'model lead_scores', 'test unique_dim_contacts_contact_id' (no project, no hash)."""
    parts = unique_id.split(".")
    return f"{parts[0]} {parts[2]}" if len(parts) > 2 else unique_id
