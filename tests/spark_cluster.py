"""A standalone Spark cluster on 127.0.0.1, started from the installed pyspark: a master, one
worker with bounded cores and memory, and a Spark Connect server on the master (pyspark 4
ships the server in its jars: nothing is downloaded). What `SALESPIPE_SPARK_REMOTE` points at
in the tests, as it would at a team's cluster.

Each process is started in its own process group and stopped by that id (SIGTERM, then
SIGKILL), so the executors a worker forks go with it; `stop()` runs also when a test failed.
Ports are picked free, so two test sessions on one machine do not meet.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pyspark

from orchestration.engines.connect import ClusterUnreachable, check_cluster
from orchestration.settings import PROJECT_ROOT, EngineSettings

SPARK_HOME = Path(pyspark.__file__).parent
LOG4J = PROJECT_ROOT / "orchestration" / "engines" / "log4j2.properties"
# Small JVMs for a small sample; C1-only JIT (as local Spark's default) for short runs.
JVM = f"-XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile={LOG4J}"
WORKER_CORES, WORKER_MEMORY = 2, "1g"
# The sample's ~90 small queries: compiling each plan to Java (whole-stage codegen) and
# re-planning it at run time (AQE) cost more CPU than running it; off, the cluster's JVMs spent
# 15-38% less CPU on the build (two paired runs)
SMALL_QUERIES = {"spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandaloneCluster:
    """`cores`/`memory`: the worker's; `executor_memory`/`driver_memory`: the JVMs it and the
    Connect server start; `conf`: the server's Spark settings (default: tuned for the sample)."""

    def __init__(self, root: Path, cores: int = WORKER_CORES, memory: str = WORKER_MEMORY,
                 executor_memory: str = "768m", driver_memory: str = "768m",
                 conf: dict[str, str] | None = None):
        self.root = root
        self.cores, self.memory, self.conf = cores, memory, SMALL_QUERIES if conf is None else conf
        self.executor_memory, self.driver_memory = executor_memory, driver_memory
        self.warehouse = root / "warehouse"
        self.master_port, self.connect_port = free_port(), free_port()
        self.master = f"spark://127.0.0.1:{self.master_port}"
        self.remote = f"sc://127.0.0.1:{self.connect_port}"
        self.procs: dict[str, subprocess.Popen] = {}

    def _env(self, daemon: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
        env.update({"SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LOG_DIR": str(self.root), "SPARK_WORKER_DIR": str(self.root / "work")})
        if daemon:  # master and worker only: spark-submit would apply it to the driver too
            env.update({"SPARK_DAEMON_MEMORY": "256m", "SPARK_DAEMON_JAVA_OPTS": JVM})
        return env

    def _start(self, name: str, cmd: list[str]) -> None:
        out = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(cmd, cwd=self.root, env=self._env(name != "connect"),
                                            stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        out.close()

    def launch(self) -> StandaloneCluster:
        """Start the three processes and return at once (`wait` until they answer), so the
        JVMs start while the caller does other work."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.launched = time.monotonic()
        bin_ = SPARK_HOME / "bin"
        self._start("master", [str(bin_ / "spark-class"), "org.apache.spark.deploy.master.Master",
                               "--host", "127.0.0.1", "--port", str(self.master_port),
                               "--webui-port", "0"])
        self._start("worker", [str(bin_ / "spark-class"), "org.apache.spark.deploy.worker.Worker",
                               "--host", "127.0.0.1", "--cores", str(self.cores),
                               "--memory", self.memory, "--webui-port", "0", self.master])
        conf = {"spark.connect.grpc.binding.address": "127.0.0.1",
                "spark.connect.grpc.binding.port": self.connect_port,
                "spark.sql.warehouse.dir": self.warehouse, "spark.ui.enabled": "false",
                "spark.executor.memory": self.executor_memory, "spark.cores.max": self.cores,
                "spark.driver.extraJavaOptions": f"{JVM} -Dderby.system.home={self.root}",
                "spark.executor.extraJavaOptions": JVM, **self.conf}
        self._start("connect", [str(bin_ / "spark-submit"), "--master", self.master,
                                "--driver-memory", self.driver_memory,
                                "--name", "salespipe-connect", "--class",
                                "org.apache.spark.sql.connect.service.SparkConnectServer",
                                *[a for k, v in conf.items() for a in ("--conf", f"{k}={v}")],
                                "spark-internal"])
        return self

    def settings(self, **changes) -> EngineSettings:
        """What a client of this cluster reads from SALESPIPE_* (with `changes`)."""
        return replace(EngineSettings(engine="spark", raw_dir=str(self.root / "raw"),
                                      spark_dir=self.root / "client", spark_method="session",
                                      file_format="parquet", spark_remote=self.remote),
                       **changes)

    def wait(self, timeout: float = 600) -> float:
        """Until the Connect server answers a query; the seconds since `launch`."""
        deadline = self.launched + timeout
        while True:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"Spark {dead} exited at start: {self.log_tail(dead[0])}")
            try:
                check_cluster(self.settings())
                return time.monotonic() - self.launched
            except ClusterUnreachable:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer in {timeout:.0f} s: "
                                       f"{self.log_tail('connect')}") from None
                time.sleep(1)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.is_file() else ""

    def kill_connect_server(self) -> None:
        self._stop("connect", grace=0)

    def _stop(self, name: str, grace: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30)):
            try:
                os.killpg(proc.pid, sig)  # the group this process leads: it and its children
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # what the leader left behind in its group (a worker's executors)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for name in ("connect", "worker", "master"):
            self._stop(name)
