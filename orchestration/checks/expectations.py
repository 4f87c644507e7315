"""Each stored GX suite (expectations/*.json) as Dagster asset checks on the asset it validates.

One multi-asset check per suite: it reads the suite's SELECT once and reports one check per
expectation (named by the expectation's `meta.check`), with the failing count and a few failing
rows as metadata. GX severity `critical` becomes a blocking ERROR check: when it fails, Dagster
fails the step (so the run fails, naming the check) and does not start assets downstream of the
validated asset. `warning` becomes a WARN check: shown, counted, and the run goes on.

dbt tests are asset checks too, through dagster-dbt (on the dbt assets themselves).
"""

# No `from __future__ import annotations` here: Dagster reads the `context` annotation of the
# check function at definition time and rejects it as a string.
from pathlib import Path

import dagster as dg

from orchestration.checks.validate import SUITES_DIR, Outcome, load_suite, validate
from orchestration.engines import mart_reader
from orchestration.resources import DuckDBWarehouse


def _metadata(outcome: Outcome, suite_file: str) -> dict:
    meta: dict = {"suite": suite_file, "expectation": outcome.expectation}
    meta.update({k: v for k, v in outcome.counts.items() if v is not None})
    if outcome.sample:
        columns = list(outcome.sample[0])
        meta["failing_rows_sample"] = dg.MetadataValue.table(
            records=[dg.TableRecord(row) for row in outcome.sample],
            schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
        )
    return meta


def _specs(suite: dict, key: dg.AssetKey, deps: list[dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=e["meta"]["check"], asset=key, additional_deps=deps,
            blocking=e["severity"] == "critical",
            description=f"Great Expectations {e['type']} "
                        f"({'ERROR' if e['severity'] == 'critical' else 'WARN'})",
        )
        for e in suite["expectations"]
    ]


def suite_checks(path: Path) -> dg.AssetChecksDefinition:
    suite = load_suite(path)
    key = dg.AssetKey(suite["meta"]["asset_key"])
    # Tables the suite's parameters read (known stages) must be loaded before it runs.
    deps = [dg.AssetKey(k) for k in suite["meta"].get("depends_on", [])]
    suite_file = f"expectations/{path.name}"

    @dg.multi_asset_check(specs=_specs(suite, key, deps),
                          name="gx_" + suite["name"].replace(".", "__"), can_subset=True,
                          description=f"{suite_file}: {suite['meta'].get('description', '')}")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
        selected = {k.name for k in context.selected_asset_check_keys}
        chosen = {**suite, "expectations": [e for e in suite["expectations"]
                                            if e["meta"]["check"] in selected]}
        with warehouse.connect() as con:
            # Raw tables live in the DuckDB warehouse; models in the engine in use.
            read = None if key.path[0] == "raw" else mart_reader(con).query
            outcomes = validate(con, chosen, context.run.run_id, read=read)
        for o in outcomes:
            if not o.passed:
                level = context.log.error if o.error else context.log.warning
                level(f"{key.to_user_string()} {o.check} failed: {o.counts}")
            yield dg.AssetCheckResult(
                asset_key=key, check_name=o.check, passed=o.passed,
                severity=dg.AssetCheckSeverity.ERROR if o.error else dg.AssetCheckSeverity.WARN,
                metadata=_metadata(o, suite_file))

    return _check


def expectation_checks(directory: Path = SUITES_DIR) -> list[dg.AssetChecksDefinition]:
    return [suite_checks(p) for p in sorted(directory.glob("*.json"))]
