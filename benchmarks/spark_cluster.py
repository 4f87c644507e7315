"""A standalone Spark cluster on this machine for the benchmark, sized for M or L:
`python -m benchmarks.spark_cluster [--worker-cores 2] [--worker-memory 8g] [--dir DIR]`.

The launcher is the tests' (tests/spark_cluster.py: a master, one worker, a Spark Connect server,
all from the installed pyspark), with a worker big enough for millions of rows and Spark's own
query settings (codegen and adaptive execution on, as local Spark runs). It prints the sc:// URL
to set as SALESPIPE_SPARK_REMOTE, runs until Ctrl-C or SIGTERM and then stops every process it
started. `python -m benchmarks.run --spark-cluster` starts one itself for its runs and counts its
JVMs' memory and CPU in the figures: they are not in the pipeline's process tree.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tests.spark_cluster import StandaloneCluster

DRIVER_MEMORY = "2g"  # the Connect server's JVM: plans queries, sends result sets back


def executor_memory(worker_memory: str) -> str:
    """The one executor takes the worker's memory less a quarter for the JVM's own overhead."""
    number, unit = int(worker_memory[:-1]), worker_memory[-1].lower()
    megabytes = number * (1024 if unit == "g" else 1)
    return f"{megabytes * 3 // 4}m"


def cluster(root: Path, cores: int, memory: str) -> StandaloneCluster:
    return StandaloneCluster(root, cores=cores, memory=memory,
                             executor_memory=executor_memory(memory),
                             driver_memory=DRIVER_MEMORY, conf={})


def pids(running: StandaloneCluster) -> list[int]:
    """The cluster's JVMs (master, worker, Connect server): the roots of its process trees
    (the worker's executors are its children)."""
    return [proc.pid for proc in running.procs.values()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spark_cluster",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker-cores", type=int, default=2)
    parser.add_argument("--worker-memory", default="8g", help="e.g. 8g or 4096m (default 8g)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/salespipe-spark-cluster"),
                        help="logs, the cluster's warehouse and metastore")
    opts = parser.parse_args(argv)
    running = cluster(opts.dir, opts.worker_cores, opts.worker_memory).launch()
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        print(f"starting (logs in {opts.dir}) ...", file=sys.stderr, flush=True)
        seconds = running.wait()
        print(f"answers after {seconds:.0f} s; Ctrl-C stops it\n"
              f"SALESPIPE_SPARK_REMOTE={running.remote}", flush=True)
        stopped.wait()
    finally:
        running.stop()


if __name__ == "__main__":
    main()
