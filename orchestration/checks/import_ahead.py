"""Great Expectations imported ahead, in a thread, while a full run ingests and builds.

Importing GX takes seconds of one core (about 4 s of the demo's checks step). The checks are
the first to need it, after dbt's build, while this process mostly waits on the dbt
subprocess: a run that validates starts the import at once, and the checks' own `import` then
finds GX loaded, or waits for the thread through Python's import lock.
"""

from __future__ import annotations

import threading

from orchestration.checks.gx_import import import_gx


def import_ahead() -> threading.Thread:
    thread = threading.Thread(target=_import, name="import-great-expectations", daemon=True)
    thread.start()
    return thread


def _import() -> None:
    try:
        import_gx()
    except Exception:  # noqa: BLE001 - the checks import it again and report the error
        return
