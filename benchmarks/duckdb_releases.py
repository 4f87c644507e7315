"""Older DuckDB releases, each in its own virtualenv: the DuckDB a BI tool embeds, for the
publication's reader tests (tests/bi_clients.py) and `python -m benchmarks.bi_readers`.

A virtualenv lives in the system temp folder under a name keyed by the DuckDB and Python
versions, so a machine installs each release once (~15 s, one wheel from the package registry)
and later runs reuse it; parallel test workers wait on a lock instead of installing twice.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def duckdb_python(version: str) -> Path:
    """The Python of a virtualenv holding DuckDB `version` (wheels only), made once."""
    tag = f"{sys.version_info.major}{sys.version_info.minor}"
    venv = Path(tempfile.gettempdir()) / f"salespipe-duckdb-{version}-py{tag}"
    python, done = venv / "bin" / "python", venv / ".installed"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)  # a half-made one from a killed run
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--only-binary",
                                  ":all:", f"duckdb=={version}"],
                                 check=False, capture_output=True, text=True)
            if pip.returncode:
                raise RuntimeError(f"could not install duckdb=={version} from the package "
                                   f"registry into {venv}: {pip.stderr[-2000:]}")
            done.touch()
    return python
