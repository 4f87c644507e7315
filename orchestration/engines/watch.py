"""Stop a dbt build whose Spark cluster went away (SALESPIPE_SPARK_REMOTE).

pyspark's Connect client retries an unavailable server for about ten minutes per statement
(its DefaultPolicy: 15 retries, waits growing to 60 s), a policy set in the client's
constructor, which dbt-spark does not expose; dbt then starts each independent model, each
waiting as long. So while dbt runs on a cluster, a thread here opens a TCP connection to the
Connect server every few seconds and waits for its gRPC handshake (a hung server's port still
accepts connections: the kernel answers for it); once the server has not answered for
SALESPIPE_SPARK_LOST_AFTER seconds, it stops dbt (SIGTERM, then SIGKILL) and the step fails
with `ClusterWatch.lost`.
"""

from __future__ import annotations

import subprocess
import threading
import time

from orchestration.engines.connect import handshake_problem, tcp_problem
from orchestration.settings import EngineSettings, redact_remote

MAX_INTERVAL = 5.0  # seconds between probes (less when SALESPIPE_SPARK_LOST_AFTER is small)
STOP_GRACE = 10  # seconds dbt gets to exit on SIGTERM before SIGKILL


class ClusterWatch:
    """Probes the cluster while `process` (dbt) runs; `lost` is the step's error, or ''."""

    def __init__(self, settings: EngineSettings, process: subprocess.Popen):
        self.settings, self.process = settings, process
        self.interval = min(MAX_INTERVAL, settings.spark_lost_after / 3)
        self.lost = ""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cluster-watch", daemon=True)

    def start(self) -> ClusterWatch:
        if self.settings.uses_connect:
            self._thread.start()
        return self

    def stop(self) -> str:
        """End the watch (dbt has ended); what `lost` says."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.lost

    def _watch(self) -> None:
        answered = time.monotonic()
        while not self._done.wait(self.interval) and self.process.poll() is None:
            problem = (tcp_problem(self.settings, timeout=self.interval)
                       or handshake_problem(self.settings, timeout=self.interval))
            if problem is None:
                answered = time.monotonic()
            elif time.monotonic() - answered >= self.settings.spark_lost_after:
                self.lost = self._message(problem, time.monotonic() - answered)
                self._stop_dbt()
                return

    def _message(self, problem: str, seconds: float) -> str:
        return (f"the Spark cluster at SALESPIPE_SPARK_REMOTE="
                f"{redact_remote(self.settings.spark_remote)} stopped answering during the dbt "
                f"build ({problem}, for {seconds:.0f} s), so dbt was stopped and the last "
                "publication stays as it was: restart the cluster's Spark Connect server and run again (allow "
                "more time with SALESPIPE_SPARK_LOST_AFTER)")

    def _stop_dbt(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
