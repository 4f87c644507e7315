"""How each column of one file is typed: decided from all of the column's values first.

For files people write (CSV, `.xlsx`: the reader has `options`), a number column's decimal
separator and a date column's day/month order are read off the whole column (one aggregate
query per file) or taken from the source's setting; a column that could be read two ways stops
the load with the setting that says which (orchestration/ingest/numbers.py, dates.py). Files
a program wrote (saved API responses, API snapshots) hold canonical numbers and dates and are
typed as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import duckdb

from orchestration.ingest import dates, numbers
from orchestration.ingest.numbers import NumberFormat
from orchestration.ingest.spec import Column, RawTable, literal, quote
from orchestration.ingest.tabular import CELL_NUM, CELL_TS, FileOptions

ISO_SQL = "cast(try_cast({} as timestamptz) at time zone 'UTC' as timestamp)"
EXAMPLES = {".": "a decimal point", ",": "a decimal comma", "?": "either"}


class FormatError(ValueError):
    """A column reads two ways and no setting says which; the message names the setting."""


def text_sql(source: str) -> str:
    return f"nullif(trim({source}), '')"


@dataclass
class ColumnPlan:
    column: Column
    number_format: NumberFormat | None = None
    date_formats: tuple[str, ...] = ()
    iso: bool = True  # ISO 8601 dates are read as well as date_formats (when none are set)
    parts: str | None = None  # the __cells column with the number's parts
    cell: str | None = None  # the typed sheet cells of this column, if any
    currency: str | None = None  # the row's currency column, when the file has one
    side: str | None = None  # day-first or month-first, when decided from the values

    def described(self) -> str:
        if self.side and not self.column.formats:  # formats_for(side): too many to list
            shown = ["25/03/2024 or 25/03/2024 14:30" if self.side == dates.DAY_FIRST
                     else "03/25/2024 or 03/25/2024 14:30"]
        else:
            shown = list(self.date_formats)
        return " or ".join(shown + (["ISO 8601"] if self.iso else []))


@dataclass
class TypingPlan:
    """Per declared column present in the file: how its text becomes its type."""

    options: FileOptions | None
    plans: dict[str, ColumnPlan] = field(default_factory=dict)
    extra_dates: dict[str, ColumnPlan] = field(default_factory=dict)  # RawTable.date_headers

    def expr(self, column: Column) -> str:
        """SQL over `__cells` giving the column's typed value (null when unparseable)."""
        plan = self.plans.get(column.header)
        if plan is None:
            return self._currency_from_amount(column) or canonical_expr(column, "null")
        text = text_sql(quote(column.header))
        if column.type == "number" and self.options is not None:
            parsed = (f"case when {numbers.agrees(plan.parts, plan.currency)} then "
                      f"{numbers.value(plan.parts, text, plan.number_format or numbers.POINT)}"
                      " end")
            return f"coalesce({quote(plan.cell)}, {parsed})" if plan.cell else parsed
        if column.type == "timestamp" and self.options is not None:
            return self.date_expr(quote(column.header), plan)
        if column.type == "integer" and self.options is not None:
            return self._whole(plan, text)
        return canonical_expr(column, quote(column.header))

    def _whole(self, plan: ColumnPlan, text: str) -> str:
        """A whole-number column: the number format when one is set, else any one grouping
        of thousands (numbers.whole); a value with a fraction is not a whole number."""
        if self.options.number_format is not None:
            v = numbers.value(plan.parts, text, self.options.number_format)
            parsed = f"(case when {v} = trunc({v}) then cast({v} as bigint) end)"
        else:
            parsed = numbers.whole(plan.parts, text)
        if not plan.cell:
            return parsed
        cell = quote(plan.cell)
        return f"coalesce(case when {cell} = trunc({cell}) then cast({cell} as bigint) end, " \
               f"{parsed})"

    def _currency_from_amount(self, column: Column) -> str | None:
        """An absent currency column takes the code the amounts are written with (`€ 5`,
        `5 EUR`; never from `$`, which many currencies use)."""
        for plan in self.plans.values():
            if plan.parts and plan.column.currency == column.header:
                code = numbers.marker(plan.parts)
                return f"case when regexp_full_match({code}, '[A-Z]{{3}}') then {code} end"
        return None

    def extra_date_expr(self, header: str) -> str:
        """SQL over `__src`/`__cells` for a RawTable.date_headers column (null if absent)."""
        plan = self.extra_dates.get(header)
        return self.date_expr(quote(header), plan) if plan else "null"

    def date_expr(self, source: str, plan: ColumnPlan) -> str:
        """A date column: its typed sheet cells, else its text in the plan's formats."""
        text = text_sql(source)
        tries = [quote(plan.cell)] if plan.cell else []
        if plan.date_formats:
            tries.append(f"try_strptime({text}, [{', '.join(map(literal, plan.date_formats))}])")
        if plan.iso:
            tries.append(ISO_SQL.format(text))
        return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"

    def failure_reason(self, column: Column) -> str:
        """SQL: why a non-empty value of `column` did not type."""
        plan = self.plans.get(column.header)
        if column.type == "number" and self.options is not None and plan is not None:
            fmt = plan.number_format or numbers.POINT
            mismatch = (f"'currency sign does not match the currency column (' || "
                        f"trim({plan.currency}) || ')'" if plan.currency
                        else "'two different currency signs'")
            return (f"case when not {numbers.agrees(plan.parts, plan.currency)} then "
                    f"{mismatch} else "
                    f"{literal(f'not a number as this file writes them ({fmt.example})')} end")
        if column.type == "timestamp" and plan is not None and self.options is not None:
            return literal(f"not a date/time in the expected format ({plan.described()})")
        return literal(canonical_failure(column))


def canonical_expr(column: Column, source: str) -> str:
    """Typing of program-written values (and of absent columns: `source` null)."""
    text = text_sql(source)
    if column.type == "text":
        return text
    if column.type == "number":
        return f"try_cast({text} as double)"
    if column.type == "integer":
        return f"try_cast({text} as bigint)"
    if column.type == "boolean":
        return f"try_cast({text} as boolean)"
    if column.formats:
        return f"try_strptime({text}, [{', '.join(literal(f) for f in column.formats)}])"
    # ISO 8601, with or without an offset; the session time zone is UTC so both land in UTC.
    return ISO_SQL.format(text)


def canonical_failure(column: Column) -> str:
    if column.type == "timestamp":
        expected = " or ".join(column.formats) if column.formats else "ISO 8601"
        return f"not a date/time in the expected format ({expected})"
    return {"number": "not a number", "integer": "not a whole number",
            "boolean": "not true/false", "text": ""}[column.type]


def plan_file(con: duckdb.DuckDBPyConnection, table: RawTable, headers: tuple[str, ...],
              options: FileOptions | None) -> TypingPlan:
    """Create the `__cells` view over `__src` and decide how each column is typed."""
    present = set(headers)
    src = {r[0] for r in con.execute("describe __src").fetchall()}
    plan = TypingPlan(options)
    extra = []
    for k, column in enumerate(table.columns):
        if column.header not in present:
            continue
        if column.type == "timestamp" and not column.formats and options is not None \
                and options.date_formats:  # the source's date setting (Salesforce reports)
            column = replace(column, formats=options.date_formats)
        p = plan.plans[column.header] = ColumnPlan(column, date_formats=column.formats,
                                                   iso=not column.formats)
        cell = (CELL_NUM if column.type in ("number", "integer") else CELL_TS) + column.header
        p.cell = cell if cell in src and column.type in ("number", "integer", "timestamp") \
            else None
        if column.type in ("number", "integer") and options is not None:
            p.parts = f"__parts_{k}"
            extra.append(f"{numbers.parts(text_sql(quote(column.header)))} as {p.parts}")
            if column.currency and column.currency in present:
                p.currency = quote(column.currency)
    for header in table.date_headers:
        if header in present:
            cell = CELL_TS + header
            plan.extra_dates[header] = ColumnPlan(
                Column(header, type="timestamp", formats=table.date_formats),
                date_formats=table.date_formats, iso=not table.date_formats,
                cell=cell if cell in src else None)
    con.execute("create or replace temp view __cells as select *"
                + "".join(f", {e}" for e in extra) + " from __src")
    if options is not None:
        _Decider(con, plan, options).run()
    return plan


class _Decider:
    """Reads every value's evidence in one query, then decides each column."""

    def __init__(self, con, plan: TypingPlan, options: FileOptions):
        self.con, self.plan, self.options = con, plan, options
        self.nums = [p for p in plan.plans.values() if p.column.type == "number"]
        self.dates = [p for p in [*plan.plans.values(), *plan.extra_dates.values()]
                      if p.column.type == "timestamp" and dates.needs_deciding(p.column.formats)]

    def run(self) -> None:
        aggs, keys = [], []
        for p in self.nums:
            only_text = f" and {quote(p.cell)} is null" if p.cell else ""
            ev = numbers.evidence(p.parts)
            for kind in (".", ",", "?"):
                cond = f"({ev}) = {literal(kind)}{only_text}"
                aggs += [f"count(*) filter (where {cond})",
                         f"arg_min(_line, _line) filter (where {cond})",
                         f"arg_min({quote(p.column.header)}, _line) filter (where {cond})"]
                keys.append((p.column.header, kind))
        date_sources = [(p.column.header, p.cell) for p in self.dates]
        for header, cell in date_sources:
            only_text = f" and {quote(cell)} is null" if cell else ""
            ev = dates.evidence(text_sql(quote(header)))
            for kind in (dates.DAY_FIRST, dates.MONTH_FIRST, "?"):
                cond = f"({ev}) = {literal(kind)}{only_text}"
                aggs += [f"count(*) filter (where {cond})",
                         f"arg_min(_line, _line) filter (where {cond})",
                         f"arg_min({quote(header)}, _line) filter (where {cond})"]
                keys.append((header, kind))
        if not aggs:
            return
        row = self.con.execute(f"select {', '.join(aggs)} from __cells").fetchall()[0]
        found = {key: row[3 * i: 3 * i + 3] for i, key in enumerate(keys)}
        for p in self.nums:
            self._number(p, {k: found[(p.column.header, k)] for k in (".", ",", "?")})
            self._one_currency(p)
        sides = {h: self._side(h, {k: found[(h, k)] for k in
                                   (dates.DAY_FIRST, dates.MONTH_FIRST, "?")})
                 for h, _ in date_sources}
        self._dates(sides)

    def _number(self, p: ColumnPlan, found: dict) -> None:
        name = p.column.header
        if self.options.number_format is not None:
            p.number_format = self.options.number_format
            return
        ev = numbers.Evidence({k: v[0] for k, v in found.items()},
                              {k: (v[1], v[2]) for k, v in found.items()})
        decided = numbers.decide(ev)
        if decided == "ambiguous":
            line, value = ev.examples["?"]
            raise FormatError(
                f"column {name!r}: numbers such as {value!r} (line {line}) read two ways "
                f"(thousands separator or decimal separator) and no value in the column "
                f"tells which. Set {self.options.number_choice()}; nothing was loaded from it")
        if decided == "conflict":
            (l1, v1), (l2, v2) = ev.examples["."], ev.examples[","]
            raise FormatError(
                f"column {name!r} has numbers written with a decimal point (line {l1}: {v1!r})"
                f" and with a decimal comma (line {l2}: {v2!r}). Set "
                f"{self.options.number_choice()} to say which; values that do not "
                "fit it are then quarantined. Nothing was loaded from it")
        p.number_format = decided or numbers.POINT

    def _one_currency(self, p: ColumnPlan) -> None:
        """Amounts in several currencies with no currency column would be summed together."""
        if p.currency is not None:
            return
        if p.column.currency and self._codes_only(p):
            return  # each amount names its currency (USD 1,200.00), landed per row
        norm = (f"case {numbers.marker(p.parts)} when '$' then 'USD' "
                f"else {numbers.marker(p.parts)} end")
        rows = self.con.execute(
            f"select {norm} as m, min(_line), arg_min({quote(p.column.header)}, _line) "
            f"from __cells where {norm} is not null group by 1 order by 2 limit 3").fetchall()
        if len(rows) > 1:
            shown = ", ".join(f"line {line}: {value!r}" for _, line, value in rows)
            raise FormatError(
                f"column {p.column.header!r} holds amounts in more than one currency ({shown})"
                " and the file has no currency column to tell them apart, so they would be "
                "added up together. Add the currency column (and map it), or export one "
                "currency per file; nothing was loaded from it")

    def _codes_only(self, p: ColumnPlan) -> bool:
        """Whether every marked amount is written with a three-letter code (`USD 1,200.00`,
        as multi-currency Salesforce orgs write them), not a sign (`$`, `€`, `£`)."""
        code = f"coalesce(nullif({p.parts}.sym1, ''), nullif({p.parts}.sym2, ''))"
        return not self.con.execute(
            f"select count(*) from __cells where {code} is not null "
            f"and not regexp_full_match({code}, '[A-Z]{{3}}')").fetchall()[0][0]

    def _side(self, header: str, found: dict) -> str | None:
        day, month, either = (found[k] for k in (dates.DAY_FIRST, dates.MONTH_FIRST, "?"))
        if day[0] and month[0]:
            raise FormatError(
                f"column {header!r} has day-first dates (line {day[1]}: {day[2]!r}) and "
                f"month-first dates (line {month[1]}: {month[2]!r}). Set "
                f"{self.options.date_setting}{self.options.place} to the one this file uses; "
                "dates that do not fit "
                "it are then quarantined. Nothing was loaded from it")
        if day[0]:
            return dates.DAY_FIRST
        if month[0]:
            return dates.MONTH_FIRST
        return "?" if either[0] else None

    def _dates(self, sides: dict) -> None:
        decided = {s for s in sides.values() if s in (dates.DAY_FIRST, dates.MONTH_FIRST)}
        file_side = next(iter(decided)) if len(decided) == 1 else None
        for header, side in sides.items():
            if side == "?":
                if file_side is None:
                    raise FormatError(
                        f"column {header!r} has dates such as "
                        f"{self._first_unclear(header)} that read both day-first and "
                        "month-first, and no date in the file has a day above 12 to tell. "
                        f"Set {self.options.date_setting}{self.options.place} (e.g. "
                        "[\"%d/%m/%Y\"] for day-first, [\"%m/%d/%Y\"] for month-first); "
                        "nothing was loaded from it")
                sides[header] = file_side
        for p in self.dates:
            p.side = sides[p.column.header]
            if p.column.formats and p.side:
                p.date_formats = dates.choose(p.column.formats, p.side)
            elif p.side:
                p.date_formats = dates.formats_for(p.side)

    def _first_unclear(self, header: str) -> str:
        line, value = self.con.execute(
            f"select _line, {quote(header)} from __cells where "
            f"({dates.evidence(text_sql(quote(header)))}) = '?' order by _line limit 1"
        ).fetchall()[0]
        return f"{value!r} (line {line})"
