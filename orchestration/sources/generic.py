"""Generic CSV exports of any CRM, described by a column mapping (`generic/mapping.yml`).

The mapping (schema in docs/export-formats.md) names the CSV header behind each canonical
column, the date formats, the stage order per pipeline and which stages mean won and lost.
Deals, contacts, activities and owners land with canonical column names; headers the mapping
does not name are kept beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from orchestration.ingest.loader import FileLoad, IngestError, ensure_table
from orchestration.ingest.numbers import NumberFormat
from orchestration.ingest.spec import Column, RawTable, literal, quote
from orchestration.ingest.tabular import FileOptions, TabularReader
from orchestration.sources.base import SourceObject
from orchestration.sources.drop_folder import check_pattern, readable

FOLDER = "generic"
MAPPING_FILE = "mapping.yml"
ISO = ()  # no strptime formats: ISO 8601

# canonical column -> (type, required) per object
DEAL_COLUMNS = {
    "deal_id": ("text", True), "stage": ("text", True), "created_at": ("timestamp", True),
    "deal_name": ("text", False), "amount": ("number", False), "currency": ("text", False),
    "owner": ("text", False), "pipeline": ("text", False), "close_date": ("timestamp", False),
    "closed_at": ("timestamp", False), "contact_id": ("text", False),
}
CONTACT_COLUMNS = {
    "contact_id": ("text", True), "email": ("text", False), "first_name": ("text", False),
    "last_name": ("text", False), "company": ("text", False), "title": ("text", False),
    "industry": ("text", False), "company_size": ("integer", False), "country": ("text", False),
    "lead_source": ("text", False), "created_at": ("timestamp", False), "owner": ("text", False),
    "budget_range": ("text", False), "decision_maker": ("text", False),
    "need_identified": ("text", False), "purchase_timeline": ("text", False),
}
ACTIVITY_COLUMNS = {
    "activity_id": ("text", True), "activity_type": ("text", True),
    "occurred_at": ("timestamp", True), "contact_id": ("text", False),
    "deal_id": ("text", False), "owner": ("text", False),
}
OWNER_COLUMNS = {"owner": ("text", True), "email": ("text", False), "team": ("text", False)}
CANONICAL_ACTIVITY_TYPES = {
    "email_sent", "email_opened", "email_clicked", "call", "meeting", "form_fill",
    "site_visit", "note", "task", "other",
}


class MappingError(IngestError):
    """mapping.yml is missing or says something salespipe cannot use."""


@dataclass(frozen=True)
class Pipeline:
    name: str
    stages: tuple[str, ...]
    won: tuple[str, ...]
    lost: tuple[str, ...]
    probabilities: dict


@dataclass(frozen=True)
class Mapping:
    path: Path
    source_name: str
    date_formats: tuple[str, ...]
    default_pipeline: str
    objects: dict  # object name -> {"file": pattern, "columns": {canonical: header}, ...}
    pipelines: tuple[Pipeline, ...]
    encoding: str | None = None
    number_format: NumberFormat | None = None

    @classmethod
    def load(cls, folder: Path) -> Mapping:
        path = folder / MAPPING_FILE
        if not path.exists() and not path.is_symlink():
            raise MappingError(f"{path}: missing. A generic CSV source needs a mapping.yml "
                               "(see docs/export-formats.md).")
        readable(path, folder.parent)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise MappingError(f"{path}: not valid YAML ({exc})") from None
        except UnicodeDecodeError:
            raise MappingError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        _check_types(path, raw)
        return cls._parse(path, raw)

    @classmethod
    def _parse(cls, path: Path, raw: dict) -> Mapping:
        def need(cond: bool, what: str) -> None:
            if not cond:
                raise MappingError(f"{path}: {what}")

        name = str(raw.get("source_name", ""))
        need(bool(re.fullmatch(r"[a-z0-9_]+", name)), "source_name must be set, in [a-z0-9_]+")
        need("deals" in raw, "a 'deals' section is required")
        objects = {}
        for obj, spec in ((k, raw.get(k)) for k in ("deals", "contacts", "activities", "owners")):
            if spec is None:
                continue
            need(isinstance(spec, dict) and "file" in spec and isinstance(spec.get("columns"),
                 dict), f"'{obj}' needs 'file' and a 'columns' mapping")
            objects[obj] = spec
        for obj, columns in (("deals", DEAL_COLUMNS), ("contacts", CONTACT_COLUMNS),
                             ("activities", ACTIVITY_COLUMNS), ("owners", OWNER_COLUMNS)):
            for canonical, (_, required) in columns.items():
                if obj in objects and required:
                    need(canonical in objects[obj]["columns"],
                         f"{obj}.columns.{canonical} is required (the CSV header of that column)")
            if obj in objects:
                unknown = set(objects[obj]["columns"]) - set(columns)
                need(not unknown, f"{obj}.columns has unknown keys {sorted(unknown)}; "
                     f"known: {sorted(columns)}")
        pipelines = tuple(cls._pipeline(path, p) for p in raw.get("pipelines") or [])
        need(bool(pipelines), "'pipelines' must list at least one pipeline with its stages")
        names = [p.name for p in pipelines]
        twice = sorted({n for n in names if names.count(n) > 1})
        need(not twice, f"pipelines {twice} are listed twice: list each pipeline once, with "
             "all its stages")
        default = str(raw.get("default_pipeline") or pipelines[0].name)
        need(default in {p.name for p in pipelines},
             f"default_pipeline {default!r} is not one of the pipelines")
        return cls(path, name, tuple(raw.get("date_formats") or ISO), default, objects,
                   pipelines, (str(raw["encoding"]) if raw.get("encoding") else None),
                   cls._number_format(path, raw.get("number_format")))

    @staticmethod
    def _number_format(path: Path, raw) -> NumberFormat | None:
        if raw is None:
            return None
        try:
            return NumberFormat(str(raw.get("decimal")), str(raw.get("thousands") or ""))
        except (AttributeError, ValueError):
            raise MappingError(
                f"{path}: number_format must be {{decimal: \".\", thousands: \",\"}} or "
                f"{{decimal: \",\", thousands: \".\"}} (thousands may also be \" \", \"'\" "
                f"or \"\"), got {raw!r}") from None

    def options(self, obj: str) -> FileOptions:
        """How the files of `obj` are read, and how messages name these settings."""
        sheet = self.objects[obj].get("sheet")
        return FileOptions(encoding=self.encoding, number_format=self.number_format,
                           sheet=str(sheet) if sheet is not None else None,
                           sheet_setting=f"{obj}.sheet in {self.path}", place=f" in {self.path}")

    @staticmethod
    def _pipeline(path: Path, raw: dict) -> Pipeline:
        stages = tuple(str(s) for s in raw.get("stages") or [])
        won, lost = tuple(map(str, raw.get("won") or [])), tuple(map(str, raw.get("lost") or []))
        if not raw.get("name") or not stages:
            raise MappingError(f"{path}: every pipeline needs a name and its stages")
        twice = [s for i, s in enumerate(stages) if s in stages[:i]]
        if twice:  # a stage listed twice has no one place in the order
            raise MappingError(f"{path}: pipeline {raw['name']!r}: stages {twice} are listed "
                               "twice: list each stage once, in the order deals move through")
        stray = [s for s in won + lost if s not in stages]
        if stray:
            raise MappingError(f"{path}: pipeline {raw['name']!r}: won/lost stages {stray} are "
                               "not in its stages list")
        return Pipeline(str(raw["name"]), stages, won, lost, dict(raw.get("probabilities") or {}))

    def table(self, obj: str, canonical: dict) -> RawTable:
        headers = self.objects[obj]["columns"]
        # Canonical columns the mapping leaves out still exist (null), so models can use them.
        def header(c: str) -> str:
            return headers.get(c, f"<not mapped: {c}>")

        columns = tuple(
            Column(header(c), name=c, type=t, required=req,
                   formats=self.date_formats if t == "timestamp" else (),
                   currency=header("currency") if c == "amount" else None)
            for c, (t, req) in canonical.items()
        )
        id_column = headers[next(iter(canonical))]
        extra = {"source_system": self.source_name}
        stage_dates = ()
        if obj == "deals":
            extra["_default_pipeline"] = self.default_pipeline
            stage_dates = tuple(str(h) for h in
                                (self.objects[obj].get("stage_entered_columns") or {}).values())
        return RawTable(self.source_name, f"generic_{obj}", columns, id_column=id_column,
                        extra_columns=extra, date_headers=stage_dates,
                        date_formats=self.date_formats)


# What each setting of mapping.yml holds: (type, what to write, example); docs/export-formats.md
SCALAR = (str, int, float)
TOP_TYPES = {
    "source_name": (str, "a name", "source_name: pipedrive_export"),
    "date_formats": (list, "a list of formats", 'date_formats: ["%Y-%m-%d"]'),
    "default_pipeline": (SCALAR, "a pipeline name", "default_pipeline: Sales"),
    "encoding": (str, "an encoding name", "encoding: windows-1252"),
    "number_format": (dict, "a mapping", 'number_format: {decimal: ".", thousands: ","}'),
    "pipelines": (list, "a list of pipelines",
                  "pipelines: [{name: Sales, stages: [Lead In, Won, Lost]}]"),
}
OBJECT_TYPES = {
    "file": (str, "a file name pattern", "file: deals*.csv"),
    "columns": (dict, "a mapping of canonical column to CSV header",
                'columns: {deal_id: "Deal - ID"}'),
    "sheet": (SCALAR, "a sheet name", "sheet: Deals"),
    "stage_entered_columns": (dict, "a mapping of stage to CSV header",
                              'stage_entered_columns: {Demo: "Deal - Entered Demo"}'),
    "types": (dict, "a mapping of activity type to canonical type", "types: {Call: call}"),
}
PIPELINE_TYPES = {
    "name": (SCALAR, "a name", "name: Sales"),
    "stages": (list, "a list of stage names", "stages: [Lead In, Demo, Won, Lost]"),
    "won": (list, "a list of stage names", "won: [Won]"),
    "lost": (list, "a list of stage names", "lost: [Lost]"),
    "probabilities": (dict, "a mapping of stage to probability", "probabilities: {Demo: 0.5}"),
}


def _check_types(path: Path, raw) -> None:
    """Refuse a setting of the wrong kind (`date_formats: "%Y-%m-%d"` for a list) naming it,
    before anything reads it as another kind."""
    def check(value, types: dict, where: str) -> None:
        if not isinstance(value, dict):
            raise MappingError(f"{path}: {where or 'the file'} must be a mapping of settings "
                               f"(key: value), got {value!r}")
        for key, (kind, what, example) in types.items():
            item = value.get(key)
            if item is None:
                continue
            if not isinstance(item, kind) or isinstance(item, bool):
                raise MappingError(f"{path}: {where}{key} must be {what}, got {item!r}; "
                                   f"write it like {example}")
            if kind is list or kind is dict:
                values = item if kind is list else list(item) + list(item.values())
                bad = next((v for v in values if not isinstance(v, SCALAR)
                            or isinstance(v, bool)), None)
                if bad is not None and key not in ("pipelines", "number_format"):
                    raise MappingError(f"{path}: {where}{key} holds {bad!r}, not a name or "
                                       f"number; write it like {example}")

    check(raw, TOP_TYPES, "")
    for obj in ("deals", "contacts", "activities", "owners"):
        if raw.get(obj) is not None:
            check(raw[obj], OBJECT_TYPES, f"{obj}.")
            if "file" in raw[obj]:
                check_pattern(raw[obj]["file"], f"{path}: {obj}.file")
    for i, pipeline in enumerate(raw.get("pipelines") or []):
        check(pipeline, PIPELINE_TYPES, f"pipelines[{i + 1}].")


def empty_table(obj: str, canonical: dict) -> RawTable:
    """The shape of a generic table when no mapping declares it (so dbt finds its source)."""
    columns = tuple(Column(c, type=t) for c, (t, _) in canonical.items())
    extra = {"source_system": ""}
    if obj == "deals":
        extra["_default_pipeline"] = ""
    return RawTable("generic", f"generic_{obj}", columns, extra_columns=extra)


STAGES_TABLE = RawTable("generic", "generic_stages", (
    Column("pipeline"), Column("stage"), Column("stage_order", type="integer"),
    Column("is_won", type="boolean"), Column("is_lost", type="boolean"),
    Column("probability", type="number"), Column("source_system"),
))
STAGE_DATES_TABLE = RawTable("generic", "generic_deal_stage_dates", (
    Column("deal_id"), Column("stage"), Column("entered_at", type="timestamp"),
    Column("source_system"),
))


def stages_reader(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """The stage lists of mapping.yml as records (configuration, a few rows)."""
    mapping = Mapping.load(path.parent)
    rows = []
    for p in mapping.pipelines:
        for order, stage in enumerate(p.stages, start=1):
            prob = p.probabilities.get(stage)
            rows.append("(" + ", ".join([
                literal(p.name), literal(stage), literal(str(order)),
                literal(str(stage in p.won).lower()), literal(str(stage in p.lost).lower()),
                "null" if prob is None else literal(str(prob)), literal(mapping.source_name),
                str(len(rows) + 1)]) + ")")
    return ("select * from (values " + ", ".join(rows) + ") t(pipeline, stage, stage_order, "
            "is_won, is_lost, probability, source_system, _line)")


def deal_hooks(mapping: Mapping):
    def land_stage_dates(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
        """Rows from the optional per-stage "entered" columns of the deals export."""
        ensure_table(con, STAGE_DATES_TABLE.name, {
            "deal_id": "varchar", "stage": "varchar", "entered_at": "timestamp",
            "source_system": "varchar"})
        con.execute(f"delete from raw.{STAGE_DATES_TABLE.name} where _source_file = ?",
                    [str(load.path)])
        columns = mapping.objects["deals"].get("stage_entered_columns") or {}
        id_header = mapping.objects["deals"]["columns"]["deal_id"]
        selects = []
        for stage, header in columns.items():
            if header not in load.headers:
                continue
            parsed = load.typing.extra_date_expr(str(header))
            selects.append(
                f"select trim({quote(id_header)}) as deal_id, {literal(str(stage))} as stage, "
                f"{parsed} as entered_at, _line from __cells where {parsed} is not null")
        if selects:
            con.execute(
                f"insert into raw.{STAGE_DATES_TABLE.name} by name select *, "
                f"{literal(mapping.source_name)} as source_system, {load.meta_sql()} from ("
                + " union all ".join(selects) + ") where nullif(deal_id, '') is not null")

    def null_unknown_stages(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
        """A stage the mapping does not list for the deal's pipeline is quarantined, and the
        deal enters the warehouse with no stage rather than with a stage nobody can order. An
        empty stage is quarantined too: dbt lets a deal without a stage through only then."""
        known = " union all ".join(
            f"select {literal(p.name)} as pipeline, {literal(s)} as stage"
            for p in mapping.pipelines for s in p.stages)
        pipeline = "coalesce(d.pipeline, " + literal(mapping.default_pipeline) + ")"
        bad = (f"from raw.generic_deals d where d._source_file = {literal(str(load.path))} "
               f"and d.stage is not null and not exists (select 1 from ({known}) k "
               f"where k.pipeline = {pipeline} and k.stage = d.stage)")
        header = mapping.objects["deals"]["columns"]["stage"]
        con.execute(
            "insert into raw._quarantine select ?, ?, 'generic_deals', ?, d._line, ?, d.stage, "
            f"'unknown stage for pipeline ' || {pipeline} || ' (not in mapping.yml)', ? {bad}",
            [load.load_id, mapping.source_name, str(load.path), header, load.loaded_at])
        con.execute(f"update raw.generic_deals d set stage = null where d.rowid in "
                    f"(select d.rowid {bad})")
        con.execute(
            "insert into raw._quarantine select ?, ?, 'generic_deals', ?, d._line, ?, null, "
            "'no stage: the deal is kept with no stage and counts as open', ? "
            "from raw.generic_deals d where d._source_file = ? and d.stage is null and d._line "
            "not in (select line from raw._quarantine where load_id = ? and column_name = ?)",
            [load.load_id, mapping.source_name, str(load.path), header, load.loaded_at,
             str(load.path), load.load_id, header])

    return (land_stage_dates, null_unknown_stages)


def activity_hooks(mapping: Mapping):
    def canonical_types(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
        """Map the export's activity types to canonical ones with the mapping's `types`."""
        types = mapping.objects["activities"].get("types") or {}
        cases = " ".join(f"when {literal(str(k))} then {literal(str(v))}"
                         for k, v in types.items() if v in CANONICAL_ACTIVITY_TYPES)
        expr = (f"case activity_type {cases} else 'other' end" if cases else
                "case when lower(activity_type) in (" + ", ".join(
                    map(literal, sorted(CANONICAL_ACTIVITY_TYPES))) +
                ") then lower(activity_type) else 'other' end")
        con.execute(f"update raw.generic_activities set activity_type_canonical = {expr} "
                    "where _source_file = ?", [str(load.path)])

    return (canonical_types,)


def objects(folder: Path) -> list[SourceObject]:
    """The generic source's objects; their shape depends on the mapping in `folder`."""
    if not (folder / MAPPING_FILE).exists():
        return []
    mapping = Mapping.load(folder)
    found = [SourceObject("stages", STAGES_TABLE, MAPPING_FILE, stages_reader)]
    canon = {"deals": DEAL_COLUMNS, "contacts": CONTACT_COLUMNS,
             "activities": ACTIVITY_COLUMNS, "owners": OWNER_COLUMNS}
    for obj, columns in canon.items():
        if obj not in mapping.objects:
            continue
        table = mapping.table(obj, columns)
        hooks, derived = (), ()
        if obj == "deals":
            hooks, derived = deal_hooks(mapping), (STAGE_DATES_TABLE,)
        if obj == "activities":
            table = RawTable(table.source_system, table.name, table.columns + (
                Column("__canonical_type__", name="activity_type_canonical"),),
                id_column=table.id_column, extra_columns=table.extra_columns)
            hooks = activity_hooks(mapping)
        found.append(SourceObject(obj, table, mapping.objects[obj]["file"],
                                  TabularReader(mapping.options(obj)), hooks, derived))
    return found


EMPTY_TABLES = (
    STAGES_TABLE, STAGE_DATES_TABLE, empty_table("deals", DEAL_COLUMNS),
    empty_table("contacts", CONTACT_COLUMNS),
    RawTable("generic", "generic_activities", empty_table("activities", ACTIVITY_COLUMNS)
             .columns + (Column("activity_type_canonical"),),
             extra_columns={"source_system": ""}),
    empty_table("owners", OWNER_COLUMNS),
)
TABLES = {"stages": ["generic_stages"], "deals": ["generic_deals", "generic_deal_stage_dates"],
          "contacts": ["generic_contacts"], "activities": ["generic_activities"],
          "owners": ["generic_owners"]}
