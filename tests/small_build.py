"""One build of the hand-worked fixture (tests/fixtures/small, as of 2024-03-31) per pytest
worker, for the tests that start from it: `run_pipeline()` on the fixture as it is, which
test_end_to_end, test_operations and test_bad_input each ran for themselves (~30-45 s of a
loaded core each).

A test gets the build as it was after its run AT THE PATH IT RAN AT: raw._loads, the raw
tables' `_source_file` and the publication's links name the source and data folders, and a
build copied elsewhere would meet its files as moved ones on its next run (another scenario
than a run again on the same files). So the build and its snapshot stay in the worker's own
temp folder, and `restore()` puts the snapshot back in place for each test that asks; the
worker runs one test at a time.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from conftest import Workspace, make_workspace

from orchestration.pipeline import RunSummary, run_pipeline
from orchestration.runlog.live import LiveView


class SmallBuild:
    """`root` (exports/ and data/ as make_workspace lays them out), its pristine copy, the
    run's summary and what the run's live view printed."""

    def __init__(self, root: Path, snapshot: Path, summary: RunSummary, live: str):
        self.root, self.snapshot, self.summary, self.live = root, snapshot, summary, live

    @classmethod
    def build(cls, root: Path) -> SmallBuild:
        with pytest.MonkeyPatch.context() as env:
            make_workspace(root, env).copy_fixture()
            live = io.StringIO()
            summary = run_pipeline(view=LiveView(live))
        snapshot = root.with_name(root.name + ".built")
        shutil.copytree(root, snapshot, symlinks=True)
        return cls(root, snapshot, summary, live.getvalue())

    def restore(self, env: pytest.MonkeyPatch) -> Workspace:
        """The build back at `root` as its run left it, and `env` pointing there."""
        held = _open_under(self.root)
        # A DuckDB database this process still holds open would be reused by the next
        # connect() to its path: the test would read the previous test's warehouse.
        assert not held, f"still open in this process, cannot restore the build: {held}"
        shutil.rmtree(self.root)
        shutil.copytree(self.snapshot, self.root, symlinks=True)
        return make_workspace(self.root, env)


def _open_under(folder: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():  # not Linux: nothing to check with
        return []
    paths = []
    for fd in fds.iterdir():
        try:
            paths.append(os.readlink(fd))
        except OSError:  # closed since listed
            continue
    return [p for p in paths if p.startswith(f"{folder}/")]
