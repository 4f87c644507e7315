"""The full log of a run: a Dagster logger (selected in the run config) hands every event of
the run to the Python logger `salespipe.run`, whose handlers write the log file, stream to the
terminal with --verbose, and feed the live view. dbt's node lines reach Python as stdout
(dagster-dbt re-emits them there), so during the run stdout and stderr are lines of the same
log too."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TextIO

import dagster as dg

RUN_LOGGER = "salespipe.run"
OUTPUT_LOGGER = f"{RUN_LOGGER}.output"  # stdout/stderr lines: dbt's node lines, warnings
LOGGER_KEY = "salespipe_run_log"  # the Dagster logger's name in the run config
FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dg.logger(description="Every event of the run to the Python logger salespipe.run: the run's "
           "log file, the terminal with --verbose, the live view of `salespipe run`.")
def run_logger(_init_context) -> logging.Logger:
    return logging.getLogger(RUN_LOGGER)


RUN_CONFIG = {"loggers": {LOGGER_KEY: {}}}  # only this logger: no console logger


class _Lines(io.TextIOBase):
    """Stands in for stdout or stderr during a run: each line goes to the log (colour codes
    stripped), and as written to `echo` when the run streams to the terminal."""

    encoding = "utf-8"

    def __init__(self, level: int, echo: TextIO | None):
        self._log = logging.getLogger(OUTPUT_LOGGER)
        self._level, self._echo, self._pending = level, echo, ""
        self._busy = False  # a handler that writes to stderr itself must not loop back here

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._echo is not None:
            self._echo.write(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        self._emit(lines)
        return len(text)

    def flush(self) -> None:
        if self._echo is not None:
            self._echo.flush()

    def close_lines(self) -> None:
        self._emit([self._pending])
        self._pending = ""

    def _emit(self, lines: list[str]) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for line in lines:
                if line.strip():
                    self._log.log(self._level, _ANSI.sub("", line))
        finally:
            self._busy = False


class _DagsterOnly(logging.Filter):
    """The terminal stream of --verbose: Dagster's events only; stdout lines are echoed as is."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == RUN_LOGGER


def _handlers(path: Path, stream_level: str | None, view: logging.Handler | None):
    file = logging.FileHandler(path, encoding="utf-8")
    file.setFormatter(logging.Formatter(FORMAT))
    handlers: list[logging.Handler] = [file]
    if stream_level is not None:  # what Dagster's console logger printed, as before
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(stream_level)
        console.setFormatter(logging.Formatter(FORMAT))
        console.addFilter(_DagsterOnly())
        handlers.append(console)
    if view is not None:
        handlers.append(view)
    return handlers


@contextmanager
def run_log(path: Path, stream_level: str | None = None,
            view: logging.Handler | None = None) -> Iterator[logging.Logger]:
    """Everything the run logs and prints goes to `path` (and to the terminal when
    `stream_level` is set, at that level; and to `view`). An exception that ends the run is
    written to the log with its traceback."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(RUN_LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the root logger's handlers (pytest's, the user's) stay out
    handlers = _handlers(path, stream_level, view)
    for handler in handlers:
        logger.addHandler(handler)
    echo = stream_level is not None
    out = _Lines(logging.INFO, sys.stdout if echo else None)
    err = _Lines(logging.WARNING, sys.stderr if echo else None)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            yield logger
    except BaseException:
        logger.exception("the run stopped")
        raise
    finally:
        out.close_lines()
        err.close_lines()
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
