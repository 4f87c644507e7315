"""Great Expectations imported ahead, in a thread, from the start of a full run's steps.

Importing GX takes over a second of one core, and the raw tables' checks, a second into the
run, are the first to need it: a run that validates starts the import in a thread and the
checks' own `import` then finds GX loaded, or waits for the thread through Python's import
lock. The thread starts at the run's RUN_START event, not before: until then this process
builds the job and stores the run's ~600 planned events in its SQLite event log, and each
SQLite call lets the importing thread take the GIL for up to 5 ms (that work took 3-5x as
long beside the import). The ingest steps after it wait on DuckDB, which the import can use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from orchestration.checks.gx_import import import_gx
from orchestration.runlog.live import EVENT_ATTR

RUN_START = "PIPELINE_START"  # DagsterEventType.RUN_START's value


def import_ahead() -> threading.Thread:
    thread = threading.Thread(target=_import, name="import-great-expectations", daemon=True)
    thread.start()
    return thread


@contextmanager
def import_ahead_at_run_start(logger: logging.Logger) -> Iterator[None]:
    """Start import_ahead when `logger` (the run's, runlog/capture.py) gets the run's
    RUN_START event; inside this block only."""
    handler = _AtRunStart()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class _AtRunStart(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self._started = False

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, EVENT_ATTR, None)
        if not self._started and getattr(event, "event_type_value", None) == RUN_START:
            self._started = True
            import_ahead()


def _import() -> None:
    try:
        import_gx()
    except Exception:  # noqa: BLE001 - the checks import it again and report the error
        return
