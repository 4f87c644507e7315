"""Dagster definitions of the alerts: the report asset and the asset check on marts/deal_alerts."""


import dagster as dg
import duckdb

from orchestration.alerts import queries, report, webhook
from orchestration.alerts.escaping import markdown_text
from orchestration.engines import local_marts
from orchestration.resources import DuckDBWarehouse
from orchestration.settings import ReportSettings

DEAL_ALERTS = dg.AssetKey(["marts", "deal_alerts"])
TOP_IN_CHECK = 10
# The marts the report's queries read; on Spark they are read through Spark (orchestration/engines).
REPORT_MARTS = ["deal_alerts", "fct_deals", "fct_deal_stage_transitions", "dim_pipeline_stages"]


@dg.asset(
    key=["reports", "pipeline_report"],
    deps=[DEAL_ALERTS],
    group_name="reports",
    description="The report RevOps reads (SALESPIPE_REPORT_DIR): an offline HTML page with "
                "pipeline health and the alerts by owner, a CSV of open alerts per owner; "
                "posts new alerts to SALESPIPE_ALERT_WEBHOOK when set.",
)
def pipeline_report(context: dg.AssetExecutionContext,
                    warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    settings = ReportSettings.from_env()
    with warehouse.connect() as wh, local_marts(wh, REPORT_MARTS) as con:
        files = report.write_report(con, settings.report_dir)
        new = queries.alerts(con, status="new")  # not every open alert again: 190,000 at L
        as_of = queries.as_of(con)
    sent = webhook.post_new_alerts(settings, new, str(as_of), context.log)
    context.log.info(f"report written to {files.html} ({files.open_alerts} open alerts)")
    return dg.MaterializeResult(metadata={
        "html": dg.MetadataValue.path(str(files.html)),
        "owner_csvs": len(files.csvs),
        "open_alerts": files.open_alerts,
        "new_alerts": files.new_alerts,
        "webhook": sent,
    })


def top_alerts_markdown(alerts: list[queries.Alert], limit: int = TOP_IN_CHECK) -> str:
    """A markdown table of the largest alerts, for the check's metadata in the UI; the CRM's
    strings in it are plain text (escaping.markdown_text)."""
    rows = sorted(alerts, key=lambda a: -(a["amount"] or 0))[:limit]
    lines = ["| deal | owner | alert | amount | reason |", "|---|---|---|---:|---|"]
    for a in rows:
        cells = [markdown_text(a["deal_name"] or a["deal_id"]), markdown_text(a.owner),
                 a["alert_type"],
                 f"{a['amount']:,.0f} {markdown_text(a['currency'] or '')}" if a["amount"] else "",
                 markdown_text(a["reason"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dg.asset_check(
    asset=DEAL_ALERTS,
    name="no_new_alerts",
    description="WARN when tonight's run flagged new deal alerts: their count, and the largest "
                "ones by amount as a table.",
)
def deal_alerts_check(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    with warehouse.connect() as wh, local_marts(wh, ["deal_alerts"]) as con:
        try:
            metadata = alerts_check_metadata(con)
        except duckdb.CatalogException as exc:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       metadata={"error": str(exc)})
    return dg.AssetCheckResult(passed=not metadata["new_alerts"],
                               severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


def alerts_check_metadata(con: duckdb.DuckDBPyConnection) -> dict:
    """The check's figures: the new alerts read as such and the open ones only counted (at L
    190,000 open alerts read into Python cost the step ~1.2 s, for their number)."""
    new = queries.alerts(con, status="new")
    return {"new_alerts": len(new), "open_alerts": queries.open_count(con),
            "top_new_alerts": dg.MetadataValue.md(top_alerts_markdown(new))}


alert_assets = [pipeline_report]
alert_checks = [deal_alerts_check]
