"""CRM strings (deal, owner, stage, pipeline names) are typed by people outside the data team:
each output they reach makes them plain text in its own way (README, "What is escaped where").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Terminal escape sequences (CSI like ESC[2J, OSC like ESC]8;;url ESC\ or BEL, and any other
# ESC + one character), removed whole so no half of one is left to print.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?",
                   re.DOTALL)
# Unicode's bidirectional overrides and isolates reorder what a terminal shows.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP, CSV Injection: https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters of a name kept in a file name, before the hash suffix: 50 letters of any script
# stay under the 255 bytes file systems allow.
FILE_STEM_MAX = 50


def plain_line(text: str) -> str:
    """One line of plain text: terminal escape sequences and bidi controls removed, other
    control characters (new lines, tabs, C1 codes) turned into spaces."""
    text = _ANSI.sub("", text).translate(_BIDI)
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def slack_text(text: str) -> str:
    """Text inside a Slack mrkdwn message: `&`, `<` and `>` are Slack's control characters
    (`<!channel>`, `<https://...|label>`), sent as HTML entities so they show as typed
    (https://api.slack.com/reference/surfaces/formatting#escaping); one line, so a name cannot
    fake further lines of the message."""
    return (plain_line(text).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def chart_label(text: str) -> str:
    """A plotly label shown as typed: plotly renders <a href>, <b>, <br> ... in text as markup
    and decodes &amp; &lt; &gt; back to the characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(text: str) -> str:
    """Text in a markdown table cell (Dagster's metadata): every ASCII punctuation character
    backslash-escaped (CommonMark), so `[label](https://...)`, `<https://...>` or `|` show as
    typed instead of a link or a new column; one line."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", plain_line(text))


def spreadsheet_cell(value):
    """A CSV cell a spreadsheet shows as text: a text cell starting with =, +, -, @, tab or
    carriage return gets a leading single quote (OWASP's advice); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_cell_sql(column: str) -> str:
    """spreadsheet_cell in SQL, for a text column of a CSV DuckDB writes; `column` is a
    trusted identifier (the project's own column names)."""
    starts = "'=', '+', '-', '@', chr(9), chr(13)"
    return (f"case when left({column}, 1) in ({starts}) then '''' || {column} "
            f"else {column} end as {column}")


def file_stem(name: str) -> str:
    """A file name (without extension) for a CRM value: lowercase letters, digits and hyphens,
    at most FILE_STEM_MAX characters of the name, then a short hash of the name (case and
    spacing ignored), so names that differ only after the cut or in punctuation never share a
    file and the same name always gives the same file ("Ana María López" ->
    "ana-maría-lópez-2d0d5baa")."""
    key = " ".join(name.casefold().split())
    slug = re.sub(r"[^\w]+", "-", key).strip("-_")[:FILE_STEM_MAX].rstrip("-_")
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug or 'x'}-{digest}"
