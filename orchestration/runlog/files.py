"""One full log file per run under $SALESPIPE_DATA_DIR/logs; the newest ones are kept."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLog:
    """A run's id, chosen before it starts, and the file its full log goes to."""

    run_id: str
    path: Path

    @classmethod
    def new(cls, log_dir: Path) -> RunLog:
        run_id = str(uuid.uuid4())  # the form of Dagster's own run ids
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return cls(run_id, log_dir / f"run-{stamp}-{run_id[:8]}.log")


def prune(log_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest run logs (their names sort by start time)."""
    old = sorted(log_dir.glob("run-*.log"), reverse=True)[keep:]
    for path in old:
        path.unlink(missing_ok=True)
    return old
