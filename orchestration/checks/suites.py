"""The data-quality suites, written from code into `expectations/*.json` (what actually runs).

Run `python -m orchestration.checks.suites` after changing this file and commit the JSON: the
diff of the JSON is what reviewers read. Each suite's `meta` says which asset it validates and the
SELECT that feeds it (only the columns its expectations need); each expectation's `meta.check` is
the name of the Dagster asset check it becomes, and GX's own `severity` gives the check severity:
`critical` -> ERROR (blocks downstream assets and fails the run), `warning` -> WARN (a cleaning
task for RevOps, the run goes on).

Severity choices: a key that is null or duplicated in a mart makes joins fan out and every count
wrong, so it is ERROR. Everything in raw is WARN: the loader already quarantines null and
duplicate ids and staging keeps the newest export of each record, so bad raw rows are something to
fix in the CRM, not a reason to stop. Negative amounts, close dates before creation, unknown
stages, malformed emails and row-count jumps are cleaning tasks (WARN).
"""

from __future__ import annotations

import json
from pathlib import Path

import great_expectations.expectations as gxe
from great_expectations.core import ExpectationSuite

from orchestration.checks.validate import SUITES_DIR
from orchestration.settings import PROJECT_ROOT

# Well formed enough to deliver: one @, no spaces, a dot in the domain.
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# A run whose row count moves more than this fraction from the previous run's is flagged.
ROW_COUNT_BAND = 0.5
# Close dates are often dates (midnight) and creation times timestamps: compare whole days.
DAYS = "cast({created} as date) as created_day, cast({closed} as date) as closed_day"

ERROR, WARN = "critical", "warning"
AC_GROUP = '"group"'  # ActiveCampaign's pipeline column, a reserved word in SQL


def _e(cls, check: str, severity: str, **kwargs):
    return cls(meta={"check": check}, severity=severity, **kwargs)


def not_null(column: str, severity: str = WARN):
    return _e(gxe.ExpectColumnValuesToNotBeNull, f"{column}_not_null", severity, column=column)


def unique(columns: list[str], check: str, severity: str = WARN):
    if len(columns) == 1:
        return _e(gxe.ExpectColumnValuesToBeUnique, check, severity, column=columns[0])
    return _e(gxe.ExpectCompoundColumnsToBeUnique, check, severity, column_list=columns)


def non_negative(column: str):
    return _e(gxe.ExpectColumnValuesToBeBetween, f"{column}_non_negative", WARN,
              column=column, min_value=0)


def not_before(later: str, earlier: str, check: str = "close_date_not_before_created"):
    return _e(gxe.ExpectColumnPairValuesAToBeGreaterThanB, check, WARN,
              column_A=later, column_B=earlier, or_equal=True,
              ignore_row_if="either_value_is_missing")


def stage_known():
    # The known "pipeline / stage" pairs are read from the warehouse at run time (suite meta
    # `parameters.known_stages`), so a stage added in the CRM needs no edit here. One joined
    # column with a value set, not GX's column-pair set: that one loops in Python (16 s on
    # 200k rows against 0.4 s).
    return _e(gxe.ExpectColumnValuesToBeInSet, "stage_known_to_pipeline", WARN,
              column="pipeline_stage", value_set={"$PARAMETER": "known_stages"})


def pair(pipeline: str, stage: str) -> str:
    return f"{pipeline} || ' / ' || {stage}"


def email_well_formed(column: str = "email"):
    return _e(gxe.ExpectColumnValuesToMatchRegex, "email_well_formed", WARN,
              column=column, regex=EMAIL_REGEX)


def row_count_band():
    # Bounds come from the previous run's row count (see row_counts.py) +/- ROW_COUNT_BAND.
    return gxe.ExpectTableRowCountToBeBetween(
        meta={"check": "row_count_within_band", "band": ROW_COUNT_BAND}, severity=WARN,
        min_value={"$PARAMETER": "row_count_min"}, max_value={"$PARAMETER": "row_count_max"})


# A raw table larger than the rows GX reads (validate.MAX_ROWS) is read newest load first, so
# the rows a night lands are always among those validated, not only the oldest ones; a mart,
# which has no loads, newest record first (a night's new deals and contacts).
NEWEST_FIRST = "_loaded_at desc, _source_file, _line"


def suite(table: str, select: str, expectations: list, parameters: dict | None = None,
          description: str = "", order_by: str = "") -> ExpectationSuite:
    parameters = parameters or {}
    return ExpectationSuite(
        name=table,
        expectations=[*expectations, row_count_band()],
        meta={"asset_key": table.split("."), "select": select, "parameters": parameters,
              "depends_on": [_table_read(sql) for sql in parameters.values()],
              "description": description, **({"order_by": order_by} if order_by else {})},
    )


def _table_read(sql: str) -> list[str]:
    """The asset key of the one table a parameter query reads (`... from schema.table`)."""
    return sql.rsplit(" from ", 1)[1].strip().split(".")


def raw_suites() -> list[ExpectationSuite]:
    per_file = "ids repeat across exports (the newest wins in staging), never within one file"
    return [
        suite("raw.hubspot_deals",
              "select record_id, _source_file, _line, _loaded_at, amount, "
              + DAYS.format(created="create_date", closed="close_date")
              + f", {pair('pipeline', 'deal_stage')} as pipeline_stage from raw.hubspot_deals",
              [not_null("record_id"),
               unique(["record_id", "_source_file"], "record_id_unique_per_file"),
               non_negative("amount"), not_before("closed_day", "created_day"),
               stage_known()],
              {"known_stages": f"select distinct {pair('pipelinelabel', 'stagelabel')} "
                               "from raw.hubspot_pipeline_stages"},
              per_file, NEWEST_FIRST),
        suite("raw.hubspot_contacts",
              "select record_id, _source_file, _line, _loaded_at, email from raw.hubspot_contacts",
              [not_null("record_id"),
               unique(["record_id", "_source_file"], "record_id_unique_per_file"),
               email_well_formed()], description=per_file, order_by=NEWEST_FIRST),
        suite("raw.activecampaign_deals",
              "select id, _source_file, _line, _loaded_at, value, "
              + DAYS.format(created="cdate", closed="edate")
              + f", {pair(AC_GROUP, 'stage')} as pipeline_stage from raw.activecampaign_deals",
              [not_null("id"), unique(["id", "_source_file"], "id_unique_per_file"),
               non_negative("value"), not_before("closed_day", "created_day"),
               stage_known()],
              {"known_stages": f"select distinct {pair(AC_GROUP, 'id')} "
                               "from raw.activecampaign_deal_stages"},
              per_file, NEWEST_FIRST),
        suite("raw.activecampaign_contacts",
              "select id, _source_file, _line, _loaded_at, email from raw.activecampaign_contacts",
              [not_null("id"), unique(["id", "_source_file"], "id_unique_per_file"),
               email_well_formed()], description=per_file, order_by=NEWEST_FIRST),
        suite("raw.generic_deals",
              "select deal_id, _source_file, _line, _loaded_at, amount, "
              "cast(closed_at as date) as closed_at_day, "
              + DAYS.format(created="created_at", closed="close_date")
              + f", {pair('coalesce(pipeline, _default_pipeline)', 'stage')} as pipeline_stage "
              "from raw.generic_deals",
              [not_null("deal_id"), unique(["deal_id", "_source_file"], "deal_id_unique_per_file"),
               non_negative("amount"),
               not_before("closed_at_day", "created_day", "closed_not_before_created"),
               not_before("closed_day", "created_day"), stage_known()],
              {"known_stages": f"select distinct {pair('pipeline', 'stage')} "
                               "from raw.generic_stages"},
              per_file + "; a deal without a pipeline is in the mapping's default pipeline",
              NEWEST_FIRST),
        suite("raw.generic_contacts",
              "select contact_id, _source_file, _line, _loaded_at, email from raw.generic_contacts",
              [not_null("contact_id"),
               unique(["contact_id", "_source_file"], "contact_id_unique_per_file"),
               email_well_formed()], description=per_file, order_by=NEWEST_FIRST),
    ]


def mart_suites() -> list[ExpectationSuite]:
    return [
        suite("marts.fct_deals",
              "select deal_id, amount, cast(closed_at as date) as closed_at_day, "
              + DAYS.format(created="created_at", closed="expected_close_date")
              + f", {pair('pipeline_id', 'stage_id')} as pipeline_stage from marts.fct_deals",
              [not_null("deal_id", ERROR), unique(["deal_id"], "deal_id_unique", ERROR),
               non_negative("amount"),
               not_before("closed_at_day", "created_day", "closed_not_before_created"),
               not_before("closed_day", "created_day", "expected_close_not_before_created"),
               stage_known()],
              {"known_stages": f"select distinct {pair('pipeline_id', 'stage_id')} "
                               "from marts.dim_pipeline_stages"},
              "closed_day is the expected close date; dates are compared by day",
              "created_day desc nulls last, deal_id"),
        suite("marts.dim_contacts",
              "select contact_id, email, created_at from marts.dim_contacts",
              [not_null("contact_id", ERROR), unique(["contact_id"], "contact_id_unique", ERROR),
               email_well_formed()], order_by="created_at desc nulls last, contact_id"),
        suite("marts.dim_owners", "select owner_id, email from marts.dim_owners",
              [not_null("owner_id", ERROR), unique(["owner_id"], "owner_id_unique", ERROR),
               email_well_formed()]),
    ]


def all_suites() -> list[ExpectationSuite]:
    return [*raw_suites(), *mart_suites()]


def write(directory: Path = SUITES_DIR) -> list[Path]:
    """(Re)write one JSON file per suite, as GX serialises it."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in all_suites():
        path = directory / f"{s.name}.json"
        path.write_text(json.dumps(s.to_json_dict(), indent=2) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write():
        print(p.relative_to(PROJECT_ROOT))
