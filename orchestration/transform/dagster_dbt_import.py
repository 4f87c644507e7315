"""dagster-dbt imported without dbt-core in this process.

dagster-dbt imports dbt-core's adapter base, results and node types at import time when dbt-core
is installed (about 1.3 s of one core, before anything else can run), and then selects the
project's nodes with dbt's own selection engine (a dbt `Manifest` built from manifest.json)
when the definitions load. salespipe's run process needs neither: dbt runs in its own process
(`DbtCli`), the dbt assets select the whole project, and the override of
`_initialize_dbt_core_adapter` leaves no adapter here. Imported with `dbt` hidden, dagster-dbt
takes its path for an install without dbt-core (the one it has for dbt Fusion): its own copies
of the node types and statuses, and every node of the manifest for the default selection.
tests/test_upstream_dagster_dbt.py checks that both paths give the same assets and checks.

dbt stays importable: the hiding lasts as long as dagster-dbt's own import (the first one in
the process; a process that imported dagster-dbt already keeps it as it is).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

HIDDEN = "dbt"


def import_dagster_dbt() -> ModuleType:
    if "dagster_dbt" in sys.modules:
        return sys.modules["dagster_dbt"]
    held = {name: sys.modules.pop(name) for name in list(sys.modules)
            if name == HIDDEN or name.startswith(HIDDEN + ".")}
    sys.modules[HIDDEN] = None  # `import dbt...` raises ImportError, as without dbt-core
    try:
        return importlib.import_module("dagster_dbt")
    finally:
        del sys.modules[HIDDEN]
        sys.modules.update(held)


dagster_dbt = import_dagster_dbt()
