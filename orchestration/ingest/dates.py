"""Day-first or month-first: `03/04/2024` is decided for a whole column, never per value.

A value whose first part is above 12 is day-first (`25/03/2024`), one whose second part is
above 12 is month-first (`03/25/2024`); a column with neither takes what the file's other date
columns show (one export program wrote them all), and with no evidence anywhere only the
`date_formats` setting can say. Builds SQL only.
"""

from __future__ import annotations

from orchestration.ingest.spec import literal

DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
SLASHED = r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-][0-9]{4}\b"
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")


def order(fmt: str) -> str | None:
    """DAY_FIRST or MONTH_FIRST for a strptime format with day and month before the year."""
    day, month, year = (fmt.find(x) for x in ("%d", "%m", "%Y"))
    if min(day, month) < 0 or (0 <= year < min(day, month)):
        return None
    return DAY_FIRST if day < month else MONTH_FIRST


def formats_for(side: str) -> tuple[str, ...]:
    """The usual spellings of a day-first or month-first date, with or without a time."""
    first, second = ("%d", "%m") if side == DAY_FIRST else ("%m", "%d")
    return tuple(f"{first}{sep}{second}{sep}%Y{time}" for sep in "/.-" for time in _TIMES)


def evidence(text_sql: str) -> str:
    """DAY_FIRST, MONTH_FIRST, 'both' (13/13/2024: neither reading fits), '?' (03/04/2024)
    or null (not a day/month/year value) for one value."""
    p = f"regexp_extract({text_sql}, {literal(SLASHED)}, ['a', 'b'])"
    a, b = f"try_cast({p}.a as integer)", f"try_cast({p}.b as integer)"
    return (f"case when {a} is null then null when {a} > 12 and {b} > 12 then 'both' "
            f"when {a} > 12 then {literal(DAY_FIRST)} when {b} > 12 then {literal(MONTH_FIRST)} "
            "else '?' end")


def choose(formats: tuple[str, ...], side: str | None) -> tuple[str, ...]:
    """The configured formats that fit the decided side (formats without day and month
    order, such as ISO, always fit)."""
    return tuple(f for f in formats if order(f) in (None, side))


def needs_deciding(formats: tuple[str, ...]) -> bool:
    """Whether the setting leaves the order open: no formats (ISO, or detect), or both
    orders listed."""
    sides = {order(f) for f in formats} - {None}
    return not formats or len(sides) > 1
