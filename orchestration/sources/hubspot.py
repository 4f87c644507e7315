"""HubSpot: UI exports of contacts, deals and activities, plus saved pipelines and owners.

Format facts (see docs/export-formats.md):
- UI exports ("Export all properties", knowledge.hubspot.com/import-and-export/export-records)
  use property labels as headers, dates as `YYYY-MM-DD HH:MM` in the account time zone, and
  `;`-separated ids in multi-value association columns.
- Stage history is carried by the per-stage properties `Date entered "<stage> (<pipeline>)"` and
  `Date exited "<stage> (<pipeline>)"` (hs_v2_date_entered_<stage id>), which keep the latest
  visit to each stage.
- Pipelines and owners are the responses of `GET /crm/v3/pipelines/deals` and
  `GET /crm/v3/owners` (developers.hubspot.com/docs/api/crm/pipelines, .../crm/owners).
"""

from __future__ import annotations

import re

import duckdb

from orchestration.ingest.loader import FileLoad, IngestError, ensure_table
from orchestration.ingest.numbers import NumberFormat
from orchestration.ingest.readers import ReaderError, json_key_problem, literal, path_literal
from orchestration.ingest.spec import Column, RawTable, quote
from orchestration.ingest.tabular import FileOptions, TabularReader
from orchestration.settings import hubspot_currency, hubspot_file_settings
from orchestration.sources.base import SourceObject, fill_currency

SYSTEM = "hubspot"
FOLDER = "hubspot"
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
STAGE_DATE_HEADER = re.compile(r'^Date (entered|exited) "(.+) \(([^()]+)\)"$')


def _ts(header: str, required: bool = False) -> Column:
    return Column(header, type="timestamp", formats=DATE_FORMATS, required=required)


CONTACTS = RawTable(SYSTEM, "hubspot_contacts", (
    Column("Record ID", required=True), Column("First Name"), Column("Last Name"),
    Column("Email"), Column("Phone Number"), Column("Job Title"), Column("Company Name"),
    Column("Industry"), Column("Number of Employees", type="integer"),
    Column("Country/Region"), Column("Original Source"), Column("Lifecycle Stage"),
    Column("Contact owner"), _ts("Create Date"), _ts("Last Activity Date"),
    Column("Budget Range"), Column("Decision Maker"), Column("Need Identified"),
    Column("Purchase Timeline"), Column("Associated Deal IDs"),
), id_column="Record ID")

DEALS = RawTable(SYSTEM, "hubspot_deals", (
    Column("Record ID", required=True), Column("Deal Name"),
    Column("Pipeline", required=True), Column("Deal Stage", required=True),
    Column("Amount", type="number", currency="Currency"), Column("Currency"), _ts("Close Date"),
    _ts("Create Date", required=True), Column("Deal owner"), Column("Deal Type"),
    Column("Associated Contact IDs"), _ts("Last Activity Date"),
    # Optional: what they add where no pipelines.json says it (docs/export-formats.md)
    Column("Is Closed Won", type="boolean"), Column("Is Deal Closed?", type="boolean"),
    Column("Deal probability", type="number"),
), id_column="Record ID")

DEAL_STAGE_DATES = RawTable(SYSTEM, "hubspot_deal_stage_dates", (
    Column("deal_id"), Column("pipeline_label"), Column("stage_label"),
    Column("entered_at", type="timestamp"), Column("exited_at", type="timestamp"),
    Column("stage_position", type="integer"),
))

ACTIVITIES = RawTable(SYSTEM, "hubspot_activities", (
    Column("Record ID", required=True), Column("Activity Type", required=True),
    _ts("Activity Date", required=True), Column("Activity assigned to"),
    Column("Associated Contact IDs"), Column("Associated Deal IDs"),
), id_column="Record ID")

PIPELINE_STAGES = RawTable(SYSTEM, "hubspot_pipeline_stages", (
    Column("pipelineId", required=True), Column("pipelineLabel", required=True),
    Column("pipelineDisplayOrder", type="integer"), Column("stageId", required=True),
    Column("stageLabel", required=True), Column("stageDisplayOrder", type="integer"),
    Column("isClosed", type="boolean"), Column("probability", type="number"),
    Column("archived", type="boolean"),
), id_column="stageId")

OWNERS = RawTable(SYSTEM, "hubspot_owners", (
    Column("id", required=True), Column("email"), Column("firstName"), Column("lastName"),
    Column("archived", type="boolean"), Column("primaryTeamName"),
), id_column="id")


def _saved_response(con: duckdb.DuckDBPyConnection, path, key: str,
                    fields: tuple[str, ...] = ()) -> str:
    """The response as read_json's SQL, once its `key` array holds records with `fields`."""
    source = f"read_json({path_literal(path)}, format = 'unstructured')"
    try:
        found = con.sql(f"select * from {source} limit 0")
    except duckdb.Error as exc:
        raise ReaderError(json_key_problem(path, key)
                          or f"malformed JSON ({str(exc).splitlines()[0]})") from None
    if key not in found.columns:
        raise ReaderError(f"no {key!r} array in this file; it should be a saved API response")
    records = found.types[found.columns.index(key)]
    if records.id != "list" or records.child.id != "struct":
        problem = json_key_problem(path, key)  # keys DuckDB cannot make a record of
        if problem:
            raise ReaderError(problem)
        return source  # no records (an empty array): nothing to check
    names = [n for n, _ in records.child.children]
    missing = [f for f in fields if f not in names]
    if missing or not all(n.strip() for n in names):
        raise ReaderError(json_key_problem(path, key) or (
            f"the records of {key!r} have no {missing[0]!r} (fields found: "
            f"{', '.join(names)}); save the whole response of the HubSpot API call "
            "(docs/export-formats.md)"))
    return source


def pipelines_reader(con: duckdb.DuckDBPyConnection, path) -> str:
    """One record per stage of each pipeline in a saved `GET /crm/v3/pipelines/deals`."""
    source = _saved_response(con, path, "results", ("id", "label", "stages"))
    return (
        "select cast(p.id as varchar) as pipelineId, cast(p.label as varchar) as pipelineLabel, "
        "cast(p.displayOrder as varchar) as pipelineDisplayOrder, "
        "cast(s.id as varchar) as stageId, cast(s.label as varchar) as stageLabel, "
        "cast(s.displayOrder as varchar) as stageDisplayOrder, "
        "cast(s.metadata.isClosed as varchar) as isClosed, "
        "cast(s.metadata.probability as varchar) as probability, "
        "cast(s.archived as varchar) as archived, row_number() over () as _line "
        f"from (select p, unnest(p.stages) as s from (select unnest(results) as p from {source}))"
    )


def owners_reader(con: duckdb.DuckDBPyConnection, path) -> str:
    """Owners of a saved `GET /crm/v3/owners`, with the name of each one's primary team."""
    source = _saved_response(con, path, "results", ("id",))
    return (
        "select cast(o.id as varchar) as id, cast(o.email as varchar) as email, "
        "cast(o.firstName as varchar) as firstName, cast(o.lastName as varchar) as lastName, "
        "cast(o.archived as varchar) as archived, "
        "cast(list_filter(o.teams, lambda t: t.primary)[1].name as varchar) as primaryTeamName, "
        f"row_number() over () as _line from (select unnest(results) as o from {source})"
    )


def land_stage_dates(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
    """Turn the per-stage `Date entered/exited "<stage> (<pipeline>)"` columns into rows."""
    stages: dict[tuple[str, str], dict[str, str]] = {}
    for header in load.headers:
        match = STAGE_DATE_HEADER.match(header)
        if match:
            event, stage, pipeline = match.groups()
            stages.setdefault((pipeline, stage), {})[event] = header
    ensure_table(con, DEAL_STAGE_DATES.name, {
        "deal_id": "varchar", "pipeline_label": "varchar", "stage_label": "varchar",
        "entered_at": "timestamp", "exited_at": "timestamp", "stage_position": "bigint"})
    con.execute(f"delete from raw.{DEAL_STAGE_DATES.name} where _source_file = ?",
                [str(load.path)])
    if not stages:
        return
    parse = "try_strptime(nullif(trim({}), ''), [" + ", ".join(map(literal, DATE_FORMATS)) + "])"
    selects = []
    # HubSpot lists the columns in each pipeline's stage order: the order without pipelines.json
    for position, ((pipeline, stage), cols) in enumerate(stages.items(), start=1):
        entered = parse.format(quote(cols["entered"])) if "entered" in cols else "null"
        exited = parse.format(quote(cols["exited"])) if "exited" in cols else "null"
        selects.append(
            f"select trim(\"Record ID\") as deal_id, {literal(pipeline)} as pipeline_label, "
            f"{literal(stage)} as stage_label, {entered} as entered_at, {exited} as exited_at, "
            f"{position} as stage_position, "
            f"_line from __src where {entered} is not null"
        )
    con.execute(
        f"insert into raw.{DEAL_STAGE_DATES.name} by name select *, {load.meta_sql()} from ("
        + " union all ".join(selects) + ") where nullif(deal_id, '') is not null"
    )
    _quarantine_bad_dates(con, load, [h for cols in stages.values() for h in cols.values()], parse)


def _quarantine_bad_dates(con, load: FileLoad, headers: list[str], parse: str) -> None:
    reason = literal(f"not a date/time in the expected format ({' or '.join(DATE_FORMATS)})")
    for header in headers:
        con.execute(
            "insert into raw._quarantine select ?, ?, ?, ?, _line, ?, "
            f"{quote(header)}, {reason}, ? from __src "
            f"where nullif(trim({quote(header)}), '') is not null "
            f"and {parse.format(quote(header))} is null",
            [load.load_id, SYSTEM, DEALS.name, str(load.path), header, load.loaded_at],
        )


def check_pipelines_and_stages(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
    """Deal rows dbt could not place, quarantined at ingest with file, line and column: no
    pipeline (kept in raw, out of the marts), no stage, or a stage pipelines.json does not list
    for the deal's pipeline (kept with no stage, counted as open, like the generic loader)."""
    rows = f"from raw.{DEALS.name} as d where d._source_file = {literal(str(load.path))}"
    problems = [
        ("Pipeline", "d.pipeline", "d.pipeline is null",
         ("'no pipeline: the deal is kept in raw but stays out of the marts; fill its Pipeline "
         "in HubSpot and export again'")),
        ("Deal Stage", "d.deal_stage", "d.pipeline is not null and d.deal_stage is null",
         "'no deal stage: the deal is kept with no stage and counts as open'"),
    ]
    known = _listed_stages(con, load.path.parent)
    if known:
        problems.append((
            "Deal Stage", "d.deal_stage",
            (f"d.deal_stage is not null and d.pipeline in (select pipeline from ({known})) "
            f"and not exists (select 1 from ({known}) as k "
            f"where k.pipeline = d.pipeline and k.stage = d.deal_stage)"),
            ("'stage not in pipeline ' || d.pipeline || ' of pipelines.json (renamed or deleted "
            "in HubSpot? save GET /crm/v3/pipelines/deals again): the deal is kept with no "
            "stage and counts as open'")))
    for header, value, where, reason in problems:
        con.execute(
            f"insert into raw._quarantine select ?, ?, ?, ?, d._line, ?, {value}, {reason}, ? "
            f"{rows} and {where}",
            [load.load_id, SYSTEM, DEALS.name, str(load.path), header, load.loaded_at])
    if known:
        con.execute(f"update raw.{DEALS.name} as d set deal_stage = null where d.rowid in "
                    f"(select d.rowid {rows} and {problems[-1][2]})")


def _listed_stages(con: duckdb.DuckDBPyConnection, folder) -> str | None:
    """SQL of the (pipeline, stage) labels the saved pipelines.json files list, if any."""
    selects = []
    for path in PIPELINES.files(folder):
        try:
            selects.append(f"select pipelineLabel as pipeline, stageLabel as stage "
                           f"from ({pipelines_reader(con, path)})")
        except ReaderError:  # the pipelines asset reports a malformed file itself
            continue
    return " union all ".join(selects) or None


def default_currency(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
    """Deals exported without a currency (no Currency column, as on the Deals page's default
    columns) are in SALESPIPE_HUBSPOT_CURRENCY when it is set."""
    fill_currency(con, load, "currency", hubspot_currency())


def file_options() -> FileOptions:
    """How HubSpot's CSV and .xlsx exports are read: the SALESPIPE_HUBSPOT_* file settings."""
    encoding, number = hubspot_file_settings()
    try:
        number_format = NumberFormat.from_example(number) if number else None
    except ValueError:
        raise IngestError(f"SALESPIPE_HUBSPOT_NUMBER_FORMAT must be an example number such as "
                          f"1,234.56 or 1.234,56, got {number!r}") from None
    return FileOptions(encoding=encoding, number_format=number_format,
                       encoding_setting="SALESPIPE_HUBSPOT_ENCODING={encoding}",
                       number_setting="SALESPIPE_HUBSPOT_NUMBER_FORMAT={example}")


EXPORT_READER = TabularReader(file_options)

# What an optional file or column adds (`salespipe check` says it where one is missing)
OPTIONAL = {
    "pipelines": "stage order, won and lost would come from the deals' labels and "
                 "dbt_project/seeds/hubspot_stage_defaults.csv",
    "owners": "owners would be the names in Deal owner, with no team",
    "Currency": "amounts would have no currency (or SALESPIPE_HUBSPOT_CURRENCY's)",
    "Is Closed Won": "won stages from the export rather than the seed (without pipelines.json)",
    "Is Deal Closed?": "lost stages from the export rather than the seed (without "
                       "pipelines.json)",
    "Deal probability": "stage probabilities from the export (without pipelines.json)",
}
PIPELINES = SourceObject("pipelines", PIPELINE_STAGES, "pipelines*.json", pipelines_reader)
OBJECTS = (
    SourceObject("contacts", CONTACTS, "contacts*.csv", EXPORT_READER),
    SourceObject("deals", DEALS, "deals*.csv", EXPORT_READER,
                 hooks=(land_stage_dates, check_pipelines_and_stages, default_currency),
                 derived=(DEAL_STAGE_DATES,)),
    SourceObject("activities", ACTIVITIES, "activities*.csv", EXPORT_READER),
    PIPELINES,
    SourceObject("owners", OWNERS, "owners*.json", owners_reader),
)
