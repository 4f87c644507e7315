"""The benchmark: `python -m benchmarks.run --scale S|M|L [--engine duckdb|spark] [--json OUT]`.

At the named scale it generates exports with `salespipe generate` (S: the bundled seeds/),
runs the full pipeline as of 2026-10-31, runs the plain DuckDB reference script
(benchmarks/reference.sql) on the same exports, lands the next night's 1% delta
(benchmarks/delta.py) and runs the pipeline again incrementally as of 2026-11-01; with
`--nights N`, N such nights one after another (2026-11-01, 11-02, ...), each on its own delta.
Per phase (start-up, ingest, dbt, checks, publish/report) it prints wall time, from the step
timings in Dagster's event log, and peak memory: the resident memory of the whole process tree
(the run and its dbt subprocess), sampled from /proc every 0.2 s; and the CPU seconds its
processes used (each one's own time at its last sample).
`--engine spark --spark-cluster` builds on a standalone Spark cluster started here for the
benchmark (benchmarks/spark_cluster.py) through Spark Connect; its JVMs are not in the run's
process tree, so their memory is sampled with it (peak MB includes them) and their CPU seconds
are reported apart. SALESPIPE_SPARK_* in the environment reach the runs (a cluster of your own:
SALESPIPE_SPARK_REMOTE, with an empty catalog for the full run). It also breaks the dbt phase
down (seconds per group: models by layer, tests, snapshot, seeds) and lists its slowest nodes,
from dbt's run_results.json. The same figures go to JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import dbt_times, spark_cluster
from benchmarks.delta import write_delta

ROOT = Path(__file__).resolve().parent.parent
# deals per export format (three formats); 1.1x activities gives ~20 activities per deal
SCALES = {"S": None, "M": 33_334, "L": 333_334}
ACTIVITY_SCALE = 1.1
SEED = 8
# Bumped when the generator's output changes, so exports kept from an older benchmark are redone
# (2: ActiveCampaign activity logs paged at 100,000 records per response).
GENERATOR_VERSION = 2
AS_OF = dt.date(2026, 10, 31)
PHASES = ("startup", "ingest", "dbt", "checks", "publish_report", "finish")


# --- memory of a process tree, from /proc ------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(roots: list[int], tree: dict[int, list[int]] | None = None) -> list[int]:
    tree, todo, found = _children() if tree is None else tree, list(roots), []
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def tree_rss_mb(*roots: int) -> float:
    return sum(_rss_kb(pid) for pid in _tree(list(roots))) / 1024


def _cpu_ticks(pid: int) -> int:
    """utime + stime of the process itself (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


class CpuMeter:
    """CPU seconds the processes under `roots` used since the meter started, from each one's own
    time at its last sample. Sampled, not summed at exit: dbt does not wait for local Spark's JVM
    (it ends when dbt's pipe closes), so its time never reaches our children's rusage. A process
    loses its last 0.2 s; one that lives less than that is not seen."""

    def __init__(self, roots: list[int]):
        self.roots = roots
        self.first = {pid: _cpu_ticks(pid) for pid in _tree(roots)}
        self.last = dict(self.first)

    def sample(self, tree: dict[int, list[int]]) -> list[int]:
        pids = _tree(self.roots, tree)
        for pid in pids:
            self.last[pid] = max(_cpu_ticks(pid), self.last.get(pid, 0))
        return pids

    def seconds(self) -> float:
        ticks = sum(t - self.first.get(pid, 0) for pid, t in self.last.items())
        return round(ticks / os.sysconf("SC_CLK_TCK"), 1)


@dataclass
class Measured:
    """A child process run to completion, with (time, tree RSS in MB) samples (the cluster's
    JVMs included), its CPU seconds and the cluster's (`cluster_pids`: 0 without one)."""

    seconds: float
    result: dict
    samples: list[tuple[float, float]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    cluster_cpu_seconds: float = 0.0
    cluster_peak_mb: float = 0.0

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return round(max(inside, default=0.0), 1)


def measure(kind: str, rest: list[str], env: dict, out: Path, log: Path,
            cluster_pids: list[int] = ()) -> Measured:
    samples: list[tuple[float, float]] = []
    cluster_mb: list[float] = [0.0]
    cluster_cpu = CpuMeter(list(cluster_pids))
    started = time.time()
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.child", kind, str(out), *rest],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        run_cpu = CpuMeter([proc.pid])
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                tree = _children()
                cluster_mb.append(sum(map(_rss_kb, cluster_cpu.sample(tree))) / 1024)
                run_mb = sum(map(_rss_kb, run_cpu.sample(tree))) / 1024
                samples.append((time.time(), run_mb + cluster_mb[-1]))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        done.set()
        sampler.join()
    if code != 0:
        raise SystemExit(f"benchmark step failed (exit {code}); see {log}")
    return Measured(round(time.time() - started, 2), json.loads(out.read_text()), samples,
                    run_cpu.seconds(), cluster_cpu.seconds(),
                    round(max(cluster_mb), 1))


# --- phases from the run's step timings ---------------------------------------------------------

def phase_of(step: str) -> str:
    if step.startswith("ingest_"):
        return "ingest"
    if step == "dbt_models":
        return "dbt"
    if step.startswith(("published__", "reports__")):
        return "publish_report"
    return "checks"  # GX suites, freshness and alert checks


def phases(run: Measured, launched: float) -> dict[str, dict]:
    """Wall seconds and peak MB per phase; steps run one after another (in-process executor),
    so a phase's time is the sum of its steps' and its peak is the peak during them."""
    steps = run.result["steps"]
    first = min((s[0] for s in steps.values()), default=run.result["ended"])
    last = max((s[1] for s in steps.values()), default=first)
    windows: dict[str, list[tuple[float, float]]] = {
        "startup": [(launched, first)], "finish": [(last, launched + run.seconds)]}
    for key, (start, end) in steps.items():
        windows.setdefault(phase_of(key), []).append((start, end))
    out = {}
    for name in PHASES:
        spans = windows.get(name, [])
        out[name] = {
            "seconds": round(sum(e - s for s, e in spans), 2),
            "peak_mb": max((run.peak(s, e) for s, e in spans), default=0.0),
        }
    return out


# --- data --------------------------------------------------------------------------------------

def prepare_exports(scale: str, workdir: Path) -> tuple[Path, float]:
    """The scale's exports under workdir/<scale>/export, generated once and reused (minus the
    deltas a previous benchmark added); returns the folder and the seconds spent generating."""
    export = workdir / scale / "export"
    marker = export / ".generated.json"
    params = {"deals_per_format": SCALES[scale], "seed": SEED, "activity_scale": ACTIVITY_SCALE,
              "generator": GENERATOR_VERSION}
    if export.is_dir() and marker.exists() and json.loads(marker.read_text()) == params:
        for old in export.glob("*/*-delta-*"):
            old.unlink()
        return export, 0.0
    shutil.rmtree(export, ignore_errors=True)
    started = time.time()
    if SCALES[scale] is None:
        shutil.copytree(ROOT / "seeds", export)
    else:
        subprocess.run([sys.executable, "-m", "orchestration.cli", "generate", "--out",
                        str(export), "--deals", str(SCALES[scale]), "--seed", str(SEED),
                        "--activity-scale", str(ACTIVITY_SCALE)], check=True, cwd=ROOT)
    marker.write_text(json.dumps(params))
    return export, round(time.time() - started, 1)


@dataclass
class Engine:
    """What the runs build on: `name` (SALESPIPE_ENGINE), settings added to their environment
    (a cluster's SALESPIPE_SPARK_REMOTE) and the cluster's JVMs to measure with them."""

    name: str
    label: str = ""
    env: dict = field(default_factory=dict)
    cluster_pids: list[int] = field(default_factory=list)


def pipeline_env(export: Path, data: Path, as_of: dt.date, engine: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESPIPE_")
           or k.startswith(("SALESPIPE_DUCKDB_", "SALESPIPE_SPARK_", "SALESPIPE_RAW_DIR"))}
    env.update({"SALESPIPE_SOURCE_DIR": str(export), "SALESPIPE_DATA_DIR": str(data),
                "SALESPIPE_WAREHOUSE": str(data / "warehouse.duckdb"),
                "SALESPIPE_AS_OF": as_of.isoformat(), "SALESPIPE_ENGINE": engine,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    return env


def run_pipeline_measured(export: Path, data: Path, as_of: dt.date, engine: Engine,
                          name: str) -> dict:
    env = {**pipeline_env(export, data, as_of, engine.name), **engine.env}
    launched = time.time()
    run = measure("pipeline", [], env, data / f"{name}.json", data / f"{name}.log",
                  engine.cluster_pids)
    return {"wall_seconds": run.seconds, "peak_mb": run.peak(), "cpu_seconds": run.cpu_seconds,
            "cluster_cpu_seconds": run.cluster_cpu_seconds,
            "cluster_peak_mb": run.cluster_peak_mb,
            "phases": phases(run, launched), "mart_rows": run.result["mart_rows"],
            "checks_failed": run.result["checks_failed"],
            "dbt_nodes": dbt_times.summarise(run.result.get("dbt_nodes", {}))}


def run_night(export: Path, data: Path, engine: Engine, night: int, of: int) -> dict:
    """Night `night` after the full run: its 1% delta lands beside the exports (new ids each
    night, benchmarks/delta.py), then the pipeline runs incrementally as of that day."""
    day = AS_OF + dt.timedelta(days=night)
    started = time.time()
    delta = write_delta(export, day, fraction=0.01)
    delta_seconds = round(time.time() - started, 1)
    print(f"[bench] incremental run {night}/{of} (as of {day})", file=sys.stderr, flush=True)
    name = "incremental" if night == 1 else f"incremental-{night}"
    run = run_pipeline_measured(export, data, day, engine, name)
    return {"as_of": day.isoformat(), **run, "delta": delta, "delta_seconds": delta_seconds}


def run_reference(export: Path, data: Path) -> dict:
    db = data / "reference.duckdb"
    db.unlink(missing_ok=True)
    env = pipeline_env(export, data, AS_OF, "duckdb")
    run = measure("reference", [str(export), AS_OF.isoformat(), str(db)], env,
                  data / "reference.json", data / "reference.log")
    return {"wall_seconds": run.seconds, "peak_mb": run.peak(), "counts": run.result["counts"]}


def source_counts(full: dict) -> dict:
    """What the full run built: deals, stage transitions, contacts, activities (from the marts'
    row counts; counting the export files again would take minutes at L)."""
    rows = full["mart_rows"]
    return {"deals": rows.get("fct_deals", 0),
            "transitions": rows.get("fct_deal_stage_transitions", 0),
            "contacts": rows.get("dim_contacts", 0), "activities": rows.get("fct_activities", 0)}


# --- report ------------------------------------------------------------------------------------

def table(report: dict) -> str:
    runs = {k: report[k] for k in ("full", "incremental") if k in report}
    lines = [f"{'phase':<16}" + "".join(f"{k + ' s':>16}{k + ' MB':>16}" for k in runs)]
    for phase in PHASES:
        lines.append(f"{phase:<16}" + "".join(
            f"{r['phases'][phase]['seconds']:>16.1f}{r['phases'][phase]['peak_mb']:>16.0f}"
            for r in runs.values()))
    lines.append(f"{'total':<16}" + "".join(
        f"{r['wall_seconds']:>16.1f}{r['peak_mb']:>16.0f}" for r in runs.values()))
    lines.append(f"{'CPU s: run':<16}" + "".join(
        f"{r.get('cpu_seconds', 0):>16.1f}{'':>16}" for r in runs.values()))
    if any(r.get("cluster_cpu_seconds") for r in runs.values()):
        lines.append(f"{'cluster JVMs':<16}" + "".join(
            f"{r['cluster_cpu_seconds']:>16.1f}{r['cluster_peak_mb']:>16.0f}"
            for r in runs.values()))
    ref = report.get("reference")
    if ref:
        lines.append(f"{'reference SQL':<16}{ref['wall_seconds']:>16.1f}{ref['peak_mb']:>16.0f}")
    for key, value in report["ratios"].items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines + nights_table(report.get("nights", [])) + dbt_table(runs))


def nights_table(nights: list[dict]) -> list[str]:
    """One line per incremental night, to see whether a night's cost grows with history."""
    if not nights:
        return []
    lines = ["", f"{'night':<8}{'as of':<12}{'total s':>10}" + "".join(
        f"{p + ' s':>18}" for p in PHASES[1:5]) + f"{'peak MB':>10}"]
    for n, night in enumerate(nights, 1):
        lines.append(f"{n:<8}{night['as_of']:<12}{night['wall_seconds']:>10.1f}" + "".join(
            f"{night['phases'][p]['seconds']:>18.1f}" for p in PHASES[1:5])
            + f"{night['peak_mb']:>10.0f}")
    return lines


def dbt_table(runs: dict[str, dict]) -> list[str]:
    """The dbt phase of each run by group (models per layer, tests, ...) and its slowest nodes:
    what made a night slow, from dbt's own timings."""
    empty = {"groups": {}, "slowest": []}
    nodes = {name: run.get("dbt_nodes") or empty for name, run in runs.items()}
    first = next(iter(nodes.values()), empty)["groups"]
    lines = ["", f"{'dbt nodes':<24}" + "".join(f"{k + ' s':>16}{'nodes':>8}" for k in nodes)]
    groups = {g for n in nodes.values() for g in n["groups"]}
    for group in sorted(groups, key=lambda g: -first.get(g, {"seconds": 0.0})["seconds"]):
        cells = (n["groups"].get(group, {"seconds": 0.0, "nodes": 0}) for n in nodes.values())
        lines.append(f"{group:<24}" + "".join(f"{c['seconds']:>16.1f}{c['nodes']:>8}"
                                               for c in cells))
    for name, n in nodes.items():
        if n.get("threads", 1) > 1:  # the node seconds above overlap
            lines.append(f"{name}: dbt ran {n['threads']} nodes at once (SALESPIPE_DBT_THREADS)")
        lines.append(f"slowest dbt nodes, {name} run:")
        lines += [f"  {seconds:>7.2f}  {label}" for label, seconds in n["slowest"]]
    return lines


def ratios(report: dict) -> dict:
    full, inc, ref = report["full"], report.get("incremental"), report.get("reference")
    out = {}
    if ref:
        # issue 26: against the fair reference (every file landed, the core outputs built)
        out["full / reference (target L <= 3, M <= 4)"] = round(
            full["wall_seconds"] / ref["wall_seconds"], 2)
    if inc:
        out["incremental / full (target L <= 0.20, M <= 0.35)"] = round(
            inc["wall_seconds"] / full["wall_seconds"], 3)
    nights = report.get("nights")
    if nights:  # does a night cost more as history piles up?
        out[f"night {len(nights)} / night 1"] = round(
            nights[-1]["wall_seconds"] / nights[0]["wall_seconds"], 3)
    out["peak MB (target < 4096 at L)"] = max(
        r["peak_mb"] for r in (full, inc, ref) if r)
    return out


def _cell(run: dict | None) -> str:
    """'total (ingest/dbt/checks/publish)' seconds of one pipeline run, for RESULTS.md."""
    if not run:
        return "-"
    p = run["phases"]
    parts = "/".join(f"{p[k]['seconds']:.0f}" for k in ("ingest", "dbt", "checks",
                                                        "publish_report"))
    return f"{run['wall_seconds']:.1f} ({parts})"


def _last_night(report: dict) -> str:
    nights = report.get("nights")
    return f"; night {len(nights)}: {_cell(nights[-1])}" if nights else ""


def record(report: dict, path: Path) -> None:
    """One row more at the end of the Runs table of benchmarks/RESULTS.md (older rows stay)."""
    ref, r = report.get("reference"), report["ratios"]
    row = [report["date"], report["scale"], report["engine"],
           f"{report['sources']['deals']:,} / {report['sources']['activities']:,}",
           _cell(report["full"]), _cell(report.get("incremental")) + _last_night(report),
           f"{ref['wall_seconds']:.1f}" if ref else "-",
           str(r.get("full / reference (target L <= 3, M <= 4)", "-")),
           str(r.get("incremental / full (target L <= 0.20, M <= 0.35)", "-")),
           f"{r['peak MB (target < 4096 at L)']:.0f}",
           f"{report['load_before'][0]:.2f} / {report['load_after'][0]:.2f}",
           report["machine"], f"`{report['command']}`"]
    lines = path.read_text().splitlines(keepends=True)
    at = lines.index("## Runs\n") + 1
    while at < len(lines) and not lines[at].startswith("|"):  # to the table
        at += 1
    while at < len(lines) and lines[at].startswith("|"):  # past its last row
        at += 1
    lines.insert(at, "| " + " | ".join(row) + " |\n")
    path.write_text("".join(lines))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=list(SCALES), required=True)
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/salespipe-bench"),
                        help="where exports and warehouses go (default /tmp/salespipe-bench)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--no-incremental", action="store_true", help="full run only")
    parser.add_argument("--nights", type=int, default=1,
                        help="incremental nights to run one after another, each on its own 1%% "
                             "delta (default 1): whether a night's cost grows with history")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference script")
    parser.add_argument("--record", action="store_true",
                        help="add a row to the Runs table of benchmarks/RESULTS.md")
    parser.add_argument("--resume", action="store_true",
                        help="keep the stages an interrupted benchmark finished (its report.json)")
    parser.add_argument("--spark-cluster", action="store_true",
                        help="with --engine spark: build on a standalone cluster started here, "
                             "through Spark Connect (benchmarks/spark_cluster.py)")
    parser.add_argument("--worker-cores", type=int, default=2, help="the cluster's (default 2)")
    parser.add_argument("--worker-memory", default="8g", help="the cluster's (default 8g)")
    opts = parser.parse_args(argv)
    if opts.spark_cluster and opts.engine != "spark":
        parser.error("--spark-cluster builds with Spark: add --engine spark")

    report = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "scale": opts.scale, "engine": opts.engine,
              "command": "python -m benchmarks.run " + " ".join(argv or sys.argv[1:]),
              "machine": f"{platform.node()}, {os.cpu_count()} cores, "
                         f"{_mem_gb():.0f} GB, {platform.system()} {platform.release()}",
              "load_before": os.getloadavg()}
    data = opts.workdir / opts.scale / f"run-{opts.engine}{'-cluster' * opts.spark_cluster}"
    partial = data / "report.json"
    if opts.resume and partial.exists():  # stages done before: full run, reference
        report = {**json.loads(partial.read_text()), "command": report["command"]}
        export = opts.workdir / opts.scale / "export"
    else:
        export, report["generate_seconds"] = prepare_exports(opts.scale, opts.workdir)
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
    with engine_for(opts, data) as engine:
        report["engine"] = engine.label
        run_stages(opts, report, export, data, engine)
    report["load_after"] = os.getloadavg()
    report["ratios"] = ratios(report)
    print(table(report))
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if opts.json:
        opts.json.write_text(text)
    if opts.record:
        record(report, Path(__file__).with_name("RESULTS.md"))
    return report


@contextlib.contextmanager
def engine_for(opts: argparse.Namespace, data: Path) -> Iterator[Engine]:
    """The engine of the runs; with --spark-cluster, a cluster that lives as long as they do
    (its catalog under `data`, so --resume finds the full run's tables)."""
    if not opts.spark_cluster:
        yield Engine(opts.engine, opts.engine)
        return
    cluster = spark_cluster.cluster(data / "cluster", opts.worker_cores, opts.worker_memory)
    try:
        seconds = cluster.launch().wait()
        print(f"[bench] standalone cluster at {cluster.remote} answers after {seconds:.0f} s",
              file=sys.stderr, flush=True)
        yield Engine("spark", f"spark on a standalone cluster ({opts.worker_cores} cores, "
                     f"{opts.worker_memory}) via Spark Connect",
                     {"SALESPIPE_SPARK_REMOTE": cluster.remote}, spark_cluster.pids(cluster))
    finally:
        cluster.stop()


def run_stages(opts: argparse.Namespace, report: dict, export: Path, data: Path,
               engine: Engine) -> None:
    """The full run, the reference script and the nights, each kept in report.json as it ends."""
    partial = data / "report.json"
    if "full" not in report:
        print(f"[bench] {opts.scale}: full run on {export}", file=sys.stderr, flush=True)
        report["full"] = run_pipeline_measured(export, data, AS_OF, engine, "full")
        report["sources"] = source_counts(report["full"])
        partial.write_text(json.dumps(report, default=str))
    if not opts.no_reference and "reference" not in report:
        print("[bench] reference script", file=sys.stderr, flush=True)
        report["reference"] = run_reference(export, data)
        partial.write_text(json.dumps(report, default=str))
    if not opts.no_incremental and "incremental" not in report:
        for old in export.glob("*/*-delta-*"):  # an interrupted run's drop
            old.unlink()
        nights = [run_night(export, data, engine, n, opts.nights)
                  for n in range(1, opts.nights + 1)]
        report["delta"], report["delta_seconds"] = nights[0]["delta"], nights[0]["delta_seconds"]
        report["incremental"] = nights[0]
        if len(nights) > 1:
            report["nights"] = nights


def _mem_gb() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 1024 / 1024


if __name__ == "__main__":
    main()
