"""What a HubSpot export without pipelines.json cannot say about its stages, said once a run.

Without the saved pipelines, stages come from the deals' labels (dbt model
int_hubspot_export_stages): order, won and lost from the export's own columns where it has
them, else from the seed RevOps edits. A label neither knows counts as an open stage; the run's
summary names it and the file to edit, rather than a dbt test failing later.
"""

from __future__ import annotations

import duckdb

from orchestration.ingest.spec import literal
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

SEED = DBT_PROJECT_DIR / "seeds" / "hubspot_stage_defaults.csv"
SHOWN = 5  # unknown stages named in the note; the rest are counted


def _unknown_stages(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]] | None:
    """The (pipeline, stage) labels of deals in pipelines no pipelines.json lists that neither
    the export's Is Deal Closed? column nor the seed describes; None when every pipeline is
    listed (or there are no deals)."""
    con.execute(
        "create or replace temp view __export_stages as "
        "select trim(pipeline) as pipeline, trim(deal_stage) as stage, "
        "bool_or(is_deal_closed is not null) as described from raw.hubspot_deals "
        "where nullif(trim(pipeline), '') is not null and nullif(trim(deal_stage), '') is not null "
        "and trim(pipeline) not in (select pipelinelabel from raw.hubspot_pipeline_stages "
        "where pipelinelabel is not null) group by 1, 2")
    if not con.execute("select count(*) from __export_stages").fetchall()[0][0]:
        return None
    seed = f"read_csv({literal(str(SEED))}, all_varchar = true, header = true)"
    return con.execute(
        f"select e.pipeline, e.stage from __export_stages as e where not e.described "
        f"and not exists (select 1 from {seed} as c where lower(c.stage_name) = lower(e.stage) "
        f"and (c.pipeline_name = '*' or lower(c.pipeline_name) = lower(e.pipeline))) "
        f"order by 1, 2").fetchall()


def export_stage_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line when HubSpot deals were loaded without pipelines.json, else none."""
    try:
        unknown = _unknown_stages(con)
    except duckdb.CatalogException:  # no HubSpot tables in this warehouse
        return []
    if unknown is None:
        return []
    seed = SEED.relative_to(PROJECT_ROOT)
    line = (f"HubSpot: no pipelines.json, so stages come from the deals' labels, with order, "
            f"won and lost from {seed}")
    if not unknown:
        return [line + "."]
    named = ", ".join(f"{stage!r} ({pipeline})" for pipeline, stage in unknown[:SHOWN])
    more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
    return [(f"{line}; not in it, so counted as open stages ordered last: {named}{more}. "
            "Add them to that file, or save pipelines.json.")]
