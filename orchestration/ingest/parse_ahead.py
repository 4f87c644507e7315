"""Parse the next JSON responses on other threads while the current one lands.

DuckDB parses one JSON object on one thread, and a saved API response is one object, so
landing pages one after another keeps one core busy and leaves the others idle (at L, parsing
is most of landing an ActiveCampaign page). Here up to `threads` pages are parsed ahead, each
on its own cursor into an in-memory database that all cursors of the connection share. Pages
still land one at a time, in order, each in its own transaction, exactly as without this.

A page whose parse fails here (malformed JSON, memory) is simply parsed again by the loader,
which reports the error against its file as it always did.
"""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.ingest.readers import ReaderError

Read = Callable[[duckdb.DuckDBPyConnection, Path], str]


class _Ahead:
    def __init__(self, con: duckdb.DuckDBPyConnection, reader, paths: list[Path], workers: int):
        self.reader, self.waiting = reader, list(paths)
        self.db = f"__parse_ahead_{uuid.uuid4().hex[:8]}"
        con.execute(f"attach ':memory:' as {self.db}")
        # cursors are made here, on the caller's thread; each worker borrows one
        self.cursors: queue.Queue = queue.Queue()
        for _ in range(workers):
            self.cursors.put(con.cursor())
        self.janitor = con.cursor()  # drops parsed pages outside the landing transaction
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="parse-ahead")
        self.futures: dict[Path, Future] = {}
        self.submitted = 0
        self.landed: list[str] = []
        for _ in range(workers):
            self._submit_next()

    def _submit_next(self) -> None:
        if self.waiting:
            path = self.waiting.pop(0)
            self.futures[path] = self.pool.submit(self._parse, path, self.submitted)
            self.submitted += 1

    def _parse(self, path: Path, index: int) -> str | None:
        cursor = self.cursors.get()
        table = f"{self.db}.page_{index}"
        try:
            return table if self.reader.parse_into(cursor, path, table) else None
        except (duckdb.Error, ReaderError):
            return None
        finally:
            self.cursors.put(cursor)

    def read(self, con: duckdb.DuckDBPyConnection, path: Path) -> str:
        """The reader's SELECT for `path`, from its parsed page when there is one."""
        for table in self.landed:  # the files they came from are committed by now
            self.janitor.execute(f"drop table if exists {table}")
        self.landed.clear()
        future = self.futures.pop(path, None)
        self._submit_next()
        parsed = future.result() if future else None
        if parsed:
            self.landed.append(parsed)
        return self.reader(con, path, parsed=parsed)

    def close(self, con: duckdb.DuckDBPyConnection) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        while not self.cursors.empty():
            self.cursors.get().close()
        self.janitor.close()
        con.execute(f"detach {self.db}")


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select current_setting('threads')").fetchone()[0])


@contextmanager
def parse_ahead(con: duckdb.DuckDBPyConnection, reader, paths: list[Path]) -> Iterator[Read]:
    """A reader for `paths` (landed in this order) that parses ahead, when `reader` can
    (it has `parse_into`), there is more than one page and DuckDB may use more than one thread;
    otherwise `reader` itself."""
    workers = min(_threads(con), len(paths))
    if not hasattr(reader, "parse_into") or workers < 2:
        yield reader
        return
    ahead = _Ahead(con, reader, paths, workers)
    try:
        yield ahead.read
    finally:
        ahead.close(con)
