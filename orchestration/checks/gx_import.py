"""Great Expectations imported without running what salespipe's suites never use.

GX's `expectations` package imports every core expectation at once, and one of them
(`expect_column_kl_divergence_to_be_less_than`) imports scipy.stats at module level: about a
third of GX's import (~1.5 s of one core), paid by every run before dbt starts, since the raw
tables' checks need GX then. No stored suite uses it, nor the two KS-test metrics that import
scipy.stats too. So scipy.stats enters `sys.modules` as a lazy module (the standard library's
`importlib.util.LazyLoader`): it runs on its first attribute lookup, so a suite that does use
one of those expectations still gets the real module, only later.

GX also imports pyspark (and pyspark.ml, scipy.sparse) if it is installed, for its Spark
datasources; salespipe hands GX pandas DataFrames on either engine. On DuckDB runs, which use
no Spark, pyspark is hidden while GX imports (GX then treats it as not installed, as on an
install without the `spark` extra) and is importable again right after; on Spark runs GX gets
it as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# What orchestration/checks/validate.py imports when it runs a suite.
MODULES = ("great_expectations", "great_expectations.core",
           "great_expectations.data_context.types.base")
LAZY = ("scipy.stats",)
HIDDEN_ON_DUCKDB = ("pyspark",)
_lock = threading.Lock()  # the import-ahead thread and the checks may both arrive first


def import_gx() -> None:
    """Import GX (MODULES), with LAZY modules not run until used and, on DuckDB runs, the
    HIDDEN_ON_DUCKDB ones not imported. Idempotent."""
    with _lock:
        for name in LAZY:
            _defer(name)
        with _hidden(HIDDEN_ON_DUCKDB if _on_duckdb() else ()):
            for name in MODULES:
                importlib.import_module(name)


def _on_duckdb() -> bool:
    from orchestration.settings import EngineSettings, SettingsError

    try:
        return EngineSettings.from_env().engine == "duckdb"
    except SettingsError:  # the run reports it; GX imports as it would
        return False


@contextmanager
def _hidden(names: tuple[str, ...]) -> Iterator[None]:
    """`import name` raises ImportError inside the block (a None in sys.modules), for the names
    not imported yet."""
    hidden = [name for name in names if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _defer(name: str) -> None:
    if name in sys.modules:  # imported already (for real or deferred): nothing to save
        return
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:  # its package is not installed: GX reports that itself
        return
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # `from scipy import stats` reads the package's attribute
        setattr(sys.modules[parent], child, module)
