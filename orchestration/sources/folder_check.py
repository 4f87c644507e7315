"""`salespipe check`: what a run would do with an export folder, without building anything.

Each file goes through the same loader a run uses, into an in-memory DuckDB database that is
thrown away: the formats, the number and date decisions (typing_plan.py), the values that
would be quarantined and the errors that would stop the run are the run's own, not a second
guess. The warehouse is never opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.ingest.loader import FileLoad, IngestError, land_files
from orchestration.ingest.spec import RawTable
from orchestration.ingest.typing_plan import TypingPlan
from orchestration.registry import with_exports
from orchestration.sources.base import SourceObject
from orchestration.sources.hubspot_stages import export_stage_notes

SAMPLE = 3  # quarantined values shown per file
FORMATS = {".csv": "CSV", ".xlsx": "Excel workbook", ".json": "JSON", ".yml": "YAML"}


@dataclass
class FolderCheck:
    lines: list[str] = field(default_factory=list)
    problems: int = 0  # files or settings that would stop a run

    def problem(self, text: str) -> None:
        self.problems += 1
        self.lines.append(f"    PROBLEM: {text}")


def check_folder(folder: Path) -> FolderCheck:
    """Every CRM export folder under `folder`, file by file."""
    report = FolderCheck([f"Checking {folder} (nothing is loaded into the warehouse)"])
    con = duckdb.connect(":memory:")
    try:
        for crm in with_exports():
            _check_source(report, con, crm.label, folder / crm.export_module().FOLDER,
                          crm.export_module())
        report.lines += [f"  {note}" for note in export_stage_notes(con)]
    finally:
        con.close()
    report.lines.append(
        f"A run would stop: {report.problems} problem(s) above, each with its fix."
        if report.problems else "A run would load these files.")
    return report


def _check_source(report: FolderCheck, con, label: str, folder: Path, module) -> None:
    if not folder.is_dir():
        report.lines.append(f"{folder.name}/ ({label}): absent, skipped")
        return
    report.lines.append(f"{folder.name}/ ({label})")
    try:
        objects = module.objects(folder) if hasattr(module, "objects") else module.OBJECTS
    except IngestError as exc:  # a broken mapping.yml
        report.problem(str(exc))
        return
    if not objects:
        report.lines.append("  no mapping.yml: nothing here would be loaded")
    adds = getattr(module, "OPTIONAL", {})
    for obj in objects:
        files = obj.files(folder)
        if not files:
            without = f": {adds[obj.name]}" if obj.name in adds else ""
            report.lines.append(f"  {obj.name}: no {obj.pattern} file{without}")
            obj.load(con, folder)  # no files: its tables empty, as in a run
        # the shortest name first, as a run decides: a copy ("deals (1).csv") is named a copy
        for path in sorted(files, key=lambda p: (len(p.name), str(p))):
            _check_file(report, con, obj, path, adds, files)


def _check_file(report: FolderCheck, con, obj: SourceObject, path: Path,
                adds: dict[str, str], files: list[Path]) -> None:
    seen: list[FileLoad] = []
    try:
        result = land_files(con, obj.table, [path], obj.reader,
                            [*obj.hooks, lambda _con, load: seen.append(load)], present=files)
    except IngestError as exc:
        report.lines.append(f"  {path.name} ({obj.name}, {_format(path)})")
        report.problem(str(exc))
        return
    if result.same_content:  # a copy of a file checked above
        report.lines.append(f"  {path.name} ({obj.name}, {_format(path)}): same content as "
                            f"{Path(result.same_content[0][1]).name}, would not load again")
        return
    headers = seen[0].headers if seen else ()
    report.lines.append(f"  {path.name} ({obj.name}, {_format(path)}): "
                        f"{result.rows_loaded:,} rows, {len(headers)} columns")
    if seen and seen[0].typing is not None:
        report.lines += [f"    {line}" for line in _decisions(seen[0].typing)]
    missing = [c.header for c in obj.table.columns if not c.required
               and c.header not in headers and not c.header.startswith(("__", "<"))]
    if headers and missing:
        report.lines.append(f"    optional columns not in the file: {', '.join(missing)}")
        report.lines += [f"      without {h}: {adds[h]}" for h in missing if h in adds]
    _quarantine_sample(report, con, obj.table, path, result.rows_quarantined)


def _format(path: Path) -> str:
    return FORMATS.get(path.suffix.lower(), path.suffix.lstrip(".") or "file")


def _decisions(typing: TypingPlan) -> list[str]:
    """How the run would read the file's number and date columns."""
    out = []
    for header, plan in typing.plans.items():
        if plan.column.type == "number" and plan.number_format is not None:
            out.append(f"{header!r}: numbers written {plan.number_format.example}")
        elif plan.column.type == "timestamp":
            out.append(f"{header!r}: dates read as {plan.described()}")
    return out


def _quarantine_sample(report: FolderCheck, con, table: RawTable, path: Path,
                       count: int) -> None:
    if not count:
        return
    rows = con.execute(
        "select line, column_name, value, reason from raw._quarantine "
        "where raw_table = ? and source_file = ? order by line limit ?",
        [table.name, str(path), SAMPLE]).fetchall()
    report.lines.append(f"    {count:,} value(s) would be quarantined (the rows are kept), "
                        "such as:")
    report.lines += [f"      line {line}, {column!r}: {value!r}: {reason}"
                     for line, column, value, reason in rows]
