"""Numbers as spreadsheets and CRMs write them: `$1,054`, `1.054,00 €`, `USD 1,200.50`.

Everything here builds SQL (DuckDB's regular expressions, RE2 syntax): no value is parsed in
Python. A value splits into an optional sign, an optional currency marker before or after
(a symbol such as `$`, `€`, `£` or a three-letter code) and the digits with their separators.
Which of `,` and `.` is the decimal separator is decided for a whole column of a file from
the evidence of all its values (numbers.decide): `1,054.50` says `.`, `1.054,00` and `540,00`
say `,`, while `1,054` or `1.054` alone could be either and say nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.ingest.spec import literal

SYMBOL = r"[A-Z]{0,2}\$|€|£|¥|[A-Z]{3}"
# spaces, no-break spaces and apostrophes only ever group thousands (1 054,50; 1'054.50)
GROUPING = " \u00a0\u202f'"
PARTS = (r"^\(?\s*(-)?\s*(" + SYMBOL + r")?\s*(-)?\s*([0-9](?:[0-9.,"
         + GROUPING + r"]*[0-9])?)\s*(" + SYMBOL + r")?\s*\)?$")
# what a marker means as an ISO code; `$` alone is any dollar, so it names none
SYMBOL_CODES = {"€": "EUR", "£": "GBP", "¥": "JPY", "US$": "USD", "C$": "CAD", "CA$": "CAD",
                "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD"}
DOLLARS = ("USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN")


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes numbers: its decimal separator and its thousands separator."""

    decimal: str
    thousands: str = ""

    def __post_init__(self) -> None:
        if self.decimal not in (".", ",") or self.thousands not in (".", ",", "", *GROUPING) \
                or self.decimal == self.thousands:
            raise ValueError(f"decimal {self.decimal!r} with thousands {self.thousands!r}")

    @classmethod
    def from_example(cls, text: str) -> NumberFormat:
        """From an example such as `1.234,56`, `1,234.56`, `1 234,56` or `1234.56`."""
        seps = [c for c in text if not c.isdigit()]
        if not seps or not text[-1].isdigit():
            raise ValueError(text)
        decimal = seps[-1]
        thousands = seps[0] if len(seps) > 1 else ""
        return cls(decimal, thousands)

    @property
    def example(self) -> str:
        return f"1{self.thousands}234{self.decimal}56"


POINT = NumberFormat(".", ",")
COMMA = NumberFormat(",", ".")


def parts(text_sql: str) -> str:
    """A struct of the value's sign, markers and digits (all '' when it is not a number)."""
    return (f"regexp_extract({text_sql}, {literal(PARTS)}, "
            "['sign1', 'sym1', 'sign2', 'digits', 'sym2'])")


def marker(p: str) -> str:
    """The currency marker of parts `p` as a code where it names one (`€` -> EUR), else as
    written (`$`); null without one."""
    raw = f"coalesce(nullif({p}.sym1, ''), nullif({p}.sym2, ''))"
    cases = " ".join(f"when {literal(k)} then {literal(v)}" for k, v in SYMBOL_CODES.items())
    return f"(case {raw} {cases} else {raw} end)"


def agrees(p: str, currency_sql: str | None) -> str:
    """Whether the marker of parts `p` fits the row's currency (true when either is absent)."""
    both = f"{p} is null or {p}.sym1 = '' or {p}.sym2 = '' or {p}.sym1 = {p}.sym2"
    if currency_sql is None:
        return f"({both})"
    code = f"upper(nullif(trim({currency_sql}), ''))"
    fits = (f"{marker(p)} is null or {code} is null or {marker(p)} = {code} or "
            f"({marker(p)} = '$' and {code} in ({', '.join(map(literal, DOLLARS))}))")
    return f"(({both}) and ({fits}))"


def evidence(p: str) -> str:
    """'.' or ',' when the digits of parts `p` show the decimal separator, '?' when they read
    both ways (`1,054`), null when they say nothing (`1054`, `1 054`)."""
    d = f"{p}.digits"
    return (
        f"case when coalesce({d}, '') = '' or not regexp_matches({d}, '[.,]') then null "
        f"when contains({d}, '.') and contains({d}, ',') then "
        f"(case when regexp_matches({d}, '\\.[0-9]*$') then '.' else ',' end) "
        f"when regexp_matches({d}, '\\..*\\.') then ',' "  # 1.054.000: dots group thousands
        f"when regexp_matches({d}, ',.*,') then '.' "
        f"when regexp_full_match({d}, '[1-9][0-9]{{0,2}}[.,][0-9]{{3}}') then '?' "
        f"when contains({d}, '.') then '.' else ',' end"
    )


def _class(chars: str) -> str:
    return "[" + "".join("\\" + c if c in ".-]\\^" else c for c in chars) + "]"


def _negative(p: str, text_sql: str) -> str:
    return (f"({p}.sign1 = '-' or {p}.sign2 = '-' or "
            f"(starts_with({text_sql}, '(') and ends_with({text_sql}, ')')))")


def value(p: str, text_sql: str, fmt: NumberFormat) -> str:
    """The number of parts `p` (of the value `text_sql`) read in `fmt` (a double), null when
    its digits do not fit it. `(1,054.00)` is negative, as accountants write it. Scientific
    notation as spreadsheets write large numbers (`1.05E+05`; `1,05E+05` with a decimal
    comma) is read when its decimal separator is the file's."""
    groups = _class((fmt.thousands + GROUPING).replace(fmt.decimal, ""))
    dec = "\\" + fmt.decimal if fmt.decimal == "." else fmt.decimal
    shape = f"(?:[0-9]+|[0-9]{{1,3}}(?:{groups}[0-9]{{3}})+)(?:{dec}[0-9]+)?"
    number = (f"try_cast(replace(regexp_replace({p}.digits, {literal(groups)}, '', 'g'), "
              f"{literal(fmt.decimal)}, '.') as double)")
    scientific = f"[-+]?[0-9]+(?:{dec}[0-9]+)?[eE][-+]?[0-9]+"
    return (f"case when regexp_full_match({p}.digits, {literal(shape)}) then "
            f"(case when {_negative(p, text_sql)} then -1 else 1 end) * {number} "
            f"when regexp_full_match({text_sql}, {literal(scientific)}) then "
            f"try_cast(replace({text_sql}, {literal(fmt.decimal)}, '.') as double) end")


# a whole number with its thousands grouped one way throughout (1,000; 1.000; 1 000)
WHOLE = (r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?:["
         + GROUPING + r"][0-9]{3})+")


def whole(p: str, text_sql: str) -> str:
    """The whole number of parts `p` (a bigint), null when it is not one. In a whole-number
    column a separator before three digits can only group thousands: `1,000` and `1.000` are
    one thousand (a decimal reading would have no place in the column)."""
    return (f"case when regexp_full_match({p}.digits, {literal(WHOLE)}) then "
            f"(case when {_negative(p, text_sql)} then -1 else 1 end) * "
            f"try_cast(regexp_replace({p}.digits, '[^0-9]', '', 'g') as bigint) end")


@dataclass
class Evidence:
    """What one column's values say about its decimal separator: count and first example."""

    counts: dict  # '.', ',', '?' -> number of values
    examples: dict  # '.', ',', '?' -> (line, value)


def decide(ev: Evidence) -> NumberFormat | None | str:
    """The column's format, None when every value reads the same in both (plain digits), or
    'ambiguous' / 'conflict' when only a setting can say."""
    point, comma, either = (ev.counts.get(k, 0) for k in (".", ",", "?"))
    if point and comma:
        return "conflict"
    if point:
        return POINT
    if comma:
        return COMMA
    return "ambiguous" if either else None
