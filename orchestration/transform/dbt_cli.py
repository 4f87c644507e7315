"""dagster-dbt's dbt CLI resource, less two start-up costs salespipe does not need.

Private overrides of dagster-dbt 0.29 (`DbtCliResource`), isolated here; tests/test_upstream.py
fails loudly when an upgrade renames or changes them:
- `_cli_version`: dagster-dbt runs `dbt --version` in a subprocess to learn the version; the
  installed dbt-core package says the same without a process.
- `_initialize_dbt_core_adapter`: dagster-dbt loads a dbt adapter and all dbt macros into this
  process, which only serves `fetch_row_counts()` / `fetch_column_metadata()`; salespipe calls
  neither (its marts' row counts come from the run summary), and dagster-dbt runs without an
  adapter when loading one fails (returns None).
Together about 5 s of a ~30 s demo run.
"""

from __future__ import annotations

import importlib.metadata
from functools import cached_property

from packaging import version

from orchestration.transform.dagster_dbt_import import dagster_dbt


class DbtCli(dagster_dbt.DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None
