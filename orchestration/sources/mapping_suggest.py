"""`salespipe mapping suggest FILE`: a first mapping.yml for the generic CSV, for a person to
finish. Columns are proposed from the headers (names CRMs and spreadsheets commonly use), the
date and number formats from the values, read by the same reader and typing plan a run uses;
the stage values found are listed for the `pipelines:` section. Nothing is decided that the
file does not show: what stays open is written as a comment to fill in.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import yaml

from orchestration.ingest.readers import ReaderError
from orchestration.ingest.spec import Column, RawTable, quote
from orchestration.ingest.tabular import CELL_NUM, CELL_TS, FileOptions, TabularReader
from orchestration.ingest.typing_plan import FormatError, plan_file

# canonical deal column -> header patterns, most specific first; the first header that
# matches wins and is not proposed twice
PATTERNS = {
    "deal_id": r"^(deal[ _-]*)?(record[ _-]*)?id$|deal[ _-]*-?[ _-]*id$|^id\b",
    "stage": r"stage|phase|status",
    "pipeline": r"pipeline",
    "amount": r"amount|value|betrag|montant|importe|revenue|wert",
    "currency": r"currency|währung|devise|moneda",
    "owner": r"owner|assigned|sales ?rep|salesperson|verantwortlich|responsable",
    "closed_at": r"close[ds]? ?(time|on|at)|won time|lost time|closed date",
    "close_date": r"close|abschluss|clôture",
    "created_at": r"creat|erstellt|added|créé|created",
    "contact_id": r"contact|person",
    "deal_name": r"name|title|titel|titre|subject",
}
TYPES = {"amount": "number", "closed_at": "timestamp", "close_date": "timestamp",
         "created_at": "timestamp"}
WON, LOST = r"won|gewonnen|gagn|ganad|closed won", r"lost|verloren|perdu|perdid|closed lost"
STAGES_SHOWN = 30


def suggest(path: Path) -> str:
    """The drafted mapping.yml text for the deals file at `path`."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("create temp table __rejects (line bigint, column_name varchar, "
                    "value varchar, reason varchar)")
        try:
            source = TabularReader(FileOptions())(con, path)
        except ReaderError as exc:
            raise ValueError(f"{path}: {exc}") from None
        con.execute(f"create or replace temp table __src as {source}")
        headers = tuple(r[0] for r in con.execute("describe __src").fetchall()
                        if r[0] != "_line" and not r[0].startswith((CELL_NUM, CELL_TS)))
        columns = _columns(headers)
        notes = _formats(con, columns, headers)
        stages = _stages(con, columns.get("stage"), columns.get("pipeline"))
    finally:
        con.close()
    return _render(path, columns, stages, notes)


def _columns(headers: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for canonical, pattern in PATTERNS.items():
        for header in headers:
            if header not in found.values() and re.search(pattern, header, re.IGNORECASE):
                found[canonical] = header
                break
    return found


def _formats(con, columns: dict[str, str], headers: tuple[str, ...]) -> list[str]:
    """The date and number formats a run would read the proposed columns with, or why it
    would stop (which the mapping then has to settle)."""
    table = RawTable("generic", "suggest", tuple(
        Column(header, type=TYPES.get(canonical, "text"))
        for canonical, header in columns.items()))
    try:
        plan = plan_file(con, table, headers, FileOptions())
    except FormatError as exc:
        return [f"TO DECIDE: {exc}"]
    notes = []
    for header, p in plan.plans.items():
        if p.column.type == "timestamp":
            notes.append(f"{header!r}: dates read as {p.described()}")
        elif p.column.type == "number" and p.number_format is not None:
            notes.append(f"{header!r}: numbers written {p.number_format.example}")
    return notes


def _stages(con, stage: str | None, pipeline: str | None) -> dict[str, list[str]]:
    """Each pipeline's stage values in the order the file first shows them."""
    if stage is None:
        return {"Sales": []}
    group = f"coalesce(nullif(trim({quote(pipeline)}), ''), 'Sales')" if pipeline else "'Sales'"
    found: dict[str, list[str]] = {}
    for name, value in con.execute(
            f"select {group} as p, trim({quote(stage)}) as v from __src "
            f"where nullif(trim({quote(stage)}), '') is not null "
            f"group by p, v order by min(_line)").fetchall():
        if len(found.setdefault(name, [])) < STAGES_SHOWN:
            found[name].append(value)
    return found or {"Sales": []}


def _render(path: Path, columns: dict[str, str], stages: dict[str, list[str]],
            notes: list[str]) -> str:
    source = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "export"
    mapping = {
        "source_name": source,
        "default_pipeline": next(iter(stages)),
        "deals": {"file": path.name, "columns": columns},
        "pipelines": [{
            "name": name,
            "stages": values,
            "won": [s for s in values if re.search(WON, s, re.IGNORECASE)],
            "lost": [s for s in values if re.search(LOST, s, re.IGNORECASE)],
        } for name, values in stages.items()],
    }
    missing = [c for c in ("deal_id", "stage", "created_at") if c not in columns]
    head = [f"# Drafted by `salespipe mapping suggest` from {path.name}: check every line",
            "# (schema: docs/export-formats.md). Put the stages in pipeline order; won and lost",
            "# were guessed from the stage names."]
    head += [f"# {note}" for note in notes]
    head += [f"# TO DO: no column looks like {c} (required): add it under deals.columns"
             for c in missing]
    return "\n".join(head) + "\n" + yaml.safe_dump(mapping, sort_keys=False,
                                                   allow_unicode=True, width=100)
