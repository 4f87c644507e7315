"""The report RevOps reads: one offline HTML page and a CSV of open alerts per owner."""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.alerts import charts, escaping, queries, what_moved
from orchestration.ingest.spec import literal

HTML_NAME = "pipeline_report.html"
CSV_DIR = "alerts_by_owner"
CSV_COLUMNS = [c for c in queries.ALERT_COLUMNS if c != "resolved_at"]
# The page lists each owner's first alerts (new first, then by amount); at a million deals an
# owner can have thousands, which stay in the owner's CSV rather than a page no browser opens.
MAX_ROWS_PER_OWNER = 200
# The waterfall chart draws the pipelines (per currency) with the most open pipeline this month;
# the others stay in marts.pipeline_waterfall. The slipped-deals table lists the latest pushed.
MAX_WATERFALL_PIPELINES = 10
MAX_SLIPPED_ROWS = 200


@dataclass
class ReportFiles:
    html: Path
    csvs: list[Path]
    open_alerts: int
    new_alerts: int


def owner_slug(owner: str) -> str:
    """The file name (no extension) of an owner's CSV: "no-owner" for deals without one, else
    a capped slug of the name and its hash ("Ana María López" -> "ana-maría-lópez-2d0d5baa"),
    so a 300-character name fits and two owners never share a file unless their names differ
    only in case or spacing."""
    return "no-owner" if owner == queries.NO_OWNER else escaping.file_stem(owner)


def write_report(con: duckdb.DuckDBPyConnection, out_dir: Path) -> ReportFiles:
    """Write the HTML page and the per-owner CSVs into out_dir, replacing the previous ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    owners = queries.open_by_owner(con, MAX_ROWS_PER_OWNER)
    as_of = queries.as_of(con) or dt.date.today()
    # counted in SQL: resolved alerts pile up run after run and are not listed
    resolved_tonight = con.execute(
        "select count(*) from marts.deal_alerts where status = 'resolved' and resolved_at = ?",
        [as_of]).fetchone()[0]
    page = _page(con, as_of, owners, resolved_tonight)
    html_path = out_dir / HTML_NAME
    _replace(html_path, page)
    csvs = write_owner_csvs(con, out_dir / CSV_DIR)
    return ReportFiles(html_path, csvs, sum(o.open for o in owners), sum(o.new for o in owners))


def write_owner_csvs(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """One CSV of open alerts per owner (new first, then by amount), written by DuckDB: at a
    million deals they are over 100,000 rows. Owners whose names give the same file name share
    the file. Text cells a spreadsheet would run as a formula start with a single quote."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):  # an owner without open alerts keeps no stale file
        old.unlink()
    owners = defaultdict(list)
    for (owner,) in con.execute("select distinct coalesce(owner_name, ?) from marts.deal_alerts "
                                "where status <> 'resolved'", [queries.NO_OWNER]).fetchall():
        owners[owner_slug(owner)].append(owner)
    files = sorted(owners.items())
    if not files:
        return []
    # The open alerts once, stored by file: each file's COPY then reads its own rows (the
    # others' row groups are skipped by their min/max) instead of every alert (at L 38
    # owners, 190,000 alerts)
    con.execute(
        "create or replace temp table report_open_alerts as select a.*, f.file "
        "from marts.deal_alerts as a join (select unnest(?) as owner, unnest(?) as file) as f "
        "on coalesce(a.owner_name, ?) = f.owner where a.status <> 'resolved' order by f.file",
        [[o for _, names in files for o in names],
         [i for i, (_, names) in enumerate(files) for _ in names], queries.NO_OWNER])
    columns = _spreadsheet_safe_columns(con)
    paths = []
    try:
        for i, (slug, _) in enumerate(files):
            path = folder / f"{slug}.csv"
            con.execute(
                f"copy (select {columns} from report_open_alerts where file = ? "
                "order by case status when 'new' then 0 else 1 end, coalesce(amount, 0) desc, "
                f"amount desc nulls last, deal_id, alert_type) to {literal(str(path))} (header)",
                [i])
            paths.append(path)
    finally:
        con.execute("drop table report_open_alerts")
    return paths


def _spreadsheet_safe_columns(con: duckdb.DuckDBPyConnection) -> str:
    """The CSV's select list: its text columns neutralised (escaping.spreadsheet_cell_sql),
    numbers, dates and timestamps as they are, so a negative amount stays a number."""
    types = dict(con.execute("select column_name, column_type from (describe marts.deal_alerts)")
                 .fetchall())
    return ", ".join(escaping.spreadsheet_cell_sql(c) if types[c] == "VARCHAR" else c
                     for c in CSV_COLUMNS)


def _replace(path: Path, text: str) -> None:
    """Write then rename, so a reader never opens half a page."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _page(con, as_of: dt.date, owners: list[queries.OwnerAlerts], resolved: int) -> str:
    health = queries.monthly_health(con, as_of)
    figures = [charts.funnel_figure(queries.funnel(con)), charts.win_rate_figure(health),
               charts.velocity_figure(health)]
    # The plotly.js bundle is inlined once (first chart), so the file opens offline.
    chart_html = "\n".join(
        f'<div class="chart">{fig.to_html(full_html=False, include_plotlyjs=(i == 0))}</div>'
        for i, fig in enumerate(figures))
    latest = health[-1] if health else None
    return _TEMPLATE.format(
        as_of=as_of.isoformat(), style=_STYLE,
        headline=_headline(latest, owners, queries.open_by_type(con), resolved),
        charts=chart_html, waterfall=_waterfall_section(con, as_of),
        slipped=_slipped_section(con, as_of), alerts=_alerts_section(owners),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _headline(latest, owners: list[queries.OwnerAlerts], by_type: dict[str, int],
              resolved: int) -> str:
    open_, new = sum(o.open for o in owners), sum(o.new for o in owners)
    tiles = []
    if latest:
        win = f"{latest[5]:.0%}" if latest[5] is not None else "n/a"
        vel = f"{latest[8]:,.0f}/day" if latest[8] is not None else "n/a"
        tiles += [("Open deals", f"{latest[1]:,}"), ("Win rate (180 d)", win),
                  ("Velocity", vel)]
    tiles += [("Open alerts", f"{open_:,}"), ("New tonight", f"{new:,}"),
              ("Resolved tonight", f"{resolved:,}")]
    tiles_html = "".join(f'<div class="tile"><div class="v">{html.escape(v)}</div>'
                         f'<div class="k">{html.escape(k)}</div></div>' for k, v in tiles)
    types = ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())) or "none"
    return f'<div class="tiles">{tiles_html}</div><p>Open alerts by type: {html.escape(types)}.</p>'


def _alerts_section(owners: list[queries.OwnerAlerts]) -> str:
    if not owners:
        return "<p>No open alerts.</p>"
    # Owners with new alerts first, then by how many they have.
    order = sorted(owners, key=lambda o: (-o.new, -o.open, o.owner))
    return "\n".join(_owner_block(o) for o in order)


def _owner_block(alerts: queries.OwnerAlerts) -> str:
    """The owner's first alerts (new first, then by amount: open_by_owner's order)."""
    owner, shown, new = alerts.owner, alerts.shown, alerts.new
    team = shown[0]["team"] or ""
    more = (f'<p class="sub">{alerts.open - len(shown):,} more in '
            f'{CSV_DIR}/{html.escape(owner_slug(owner))}.csv</p>' if alerts.open > len(shown)
            else "")
    body = "\n".join(
        f'<tr class="alert-row {a["status"]}" data-alert-id="{html.escape(a["alert_id"])}">'
        f'<td><span class="badge {a["status"]}">{a["status"]}</span></td>'
        f'<td>{html.escape(a["alert_type"])}</td>'
        f'<td>{html.escape(a["deal_name"] or a["deal_id"])}</td>'
        f'<td>{html.escape((a["pipeline_name"] or "") + " / " + (a["stage_name"] or ""))}</td>'
        f'<td class="num">{_money(a["amount"], a["currency"])}</td>'
        f'<td>{html.escape(a["reason"])}</td>'
        f'<td class="date">{a["first_flagged_at"]}</td></tr>' for a in shown)
    return (f'<section class="owner"><h3>{html.escape(owner)} <small>{html.escape(team)} · '
            f'{alerts.open} open, {new} new</small></h3><table><thead><tr><th>status</th>'
            '<th>alert</th><th>deal</th><th>pipeline / stage</th><th>amount</th><th>reason</th>'
            f'<th>first flagged</th></tr></thead><tbody>{body}</tbody></table>{more}</section>')


def _waterfall_section(con, as_of: dt.date) -> str:
    if missing := what_moved.missing_tables(con, "marts.pipeline_waterfall",
                                            "marts.dim_pipeline_stages"):
        return _not_built(missing)
    months = what_moved.months_shown(as_of)
    labels = (f"{months[0]:%B %Y}", f"{months[1]:%B %Y} (to {as_of.day} {as_of:%b})")
    grid: dict[tuple[str, str], list] = {}
    for w in what_moved.waterfalls(con, as_of):
        grid.setdefault((w.pipeline, w.currency), [None, None])[months.index(w.period_start)] = w
    if not grid:
        return f"<p>No open deal was expected to close in {labels[0]} or {months[1]:%B %Y}.</p>"
    shown = list(grid.items())[:MAX_WATERFALL_PIPELINES]
    more = (f'<p class="sub">{len(grid) - len(shown):,} more pipelines and currencies in '
            'marts.pipeline_waterfall.</p>' if len(grid) > len(shown) else "")
    fig = charts.waterfall_figure([(f"{p}, {c}", cells) for (p, c), cells in shown], labels)
    return (f'<div class="chart" data-chart="waterfall">'
            f'{fig.to_html(full_html=False, include_plotlyjs=False)}</div>{more}')


def _slipped_section(con, as_of: dt.date) -> str:
    if missing := what_moved.missing_tables(con, "marts.fct_deal_changes", "marts.fct_deals",
                                            "config.alert_change_thresholds"):
        return _not_built(missing)
    days = what_moved.slip_window_days(con)
    deals = what_moved.slipped_deals(con, as_of, days)
    intro = (f'<p class="sub">Deals whose expected close date moved later in the {days} days up '
             f'to {as_of.isoformat()} (pushed_window_days in seed alert_change_thresholds), the '
             'latest first. "Close date before" is the date before the first move of the '
             'window, "now" the date after its last.</p>')
    if not deals:
        return intro + "<p>No deal was pushed.</p>"
    shown = deals[:MAX_SLIPPED_ROWS]
    more = (f'<p class="sub">{len(deals) - len(shown):,} more in marts.fct_deal_changes '
            "(salespipe changes).</p>" if len(deals) > len(shown) else "")
    body = "\n".join(
        f'<tr class="slipped-row" data-deal-id="{html.escape(d["deal_id"])}">'
        f'<td>{html.escape(d["deal_name"] or d["deal_id"])}</td>'
        f'<td>{html.escape(d["owner_name"] or queries.NO_OWNER)}</td>'
        f'<td>{html.escape((d["pipeline_name"] or "") + " / " + (d["stage_name"] or ""))}</td>'
        f'<td class="num">{_money(d["amount"], d["currency"])}</td>'
        f'<td class="date">{_day(d["date_before"])}</td><td class="date">{_day(d["date_now"])}</td>'
        f'<td class="num">{d["times_pushed"]}</td><td class="num">{d["days_later"]:,}</td>'
        f'<td class="date">{_day(d["last_pushed_on"])}</td></tr>' for d in shown)
    return (f'{intro}<table class="slipped"><thead><tr><th>deal</th><th>owner</th>'
            '<th>pipeline / stage</th><th>amount</th><th>close date before</th><th>now</th>'
            '<th>times pushed</th><th>days later in all</th><th>last pushed</th></tr></thead>'
            f'<tbody>{body}</tbody></table>{more}')


def _not_built(missing: list[str]) -> str:
    return (f"<p>Not in this warehouse yet: {html.escape(', '.join(missing))}. "
            "<code>salespipe run</code> builds it.</p>")


def _day(value) -> str:
    return value.isoformat()[:10] if value is not None else "—"


def _money(amount, currency) -> str:
    if amount is None:
        return "—"
    return html.escape(f"{amount:,.0f} {currency or ''}".strip())


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2933}
h1{margin-bottom:0} .sub{color:#616e7c;margin-top:4px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.tile{border:1px solid #d9e2ec;border-radius:8px;padding:10px 16px;min-width:120px}
.tile .v{font-size:1.5em;font-weight:600} .tile .k{color:#616e7c;font-size:.85em}
.chart{margin:12px 0;border:1px solid #eef2f6;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9em;margin-bottom:8px}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top}
td.num,td.date{text-align:right;white-space:nowrap} h3 small{color:#616e7c;font-weight:400}
.badge{border-radius:4px;padding:1px 6px;font-size:.8em;color:#fff;background:#9aa5b1}
.badge.new{background:#d64545} .badge.ongoing{background:#de911d}
"""

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>salespipe pipeline report, as of {as_of}</title>
<style>{style}</style></head>
<body>
<h1>Pipeline report</h1>
<p class="sub">As of {as_of} · generated {generated} · salespipe</p>
<h2>Pipeline health</h2>
{headline}
{charts}
<h2 id="what-moved">What moved this month and last</h2>
{waterfall}
<h3 id="slipped">Slipped deals</h3>
{slipped}
<h2 id="alerts">Alerts by owner</h2>
<p class="sub">New alerts first. Thresholds: seeds alert_stage_limits and alert_stale_days,
vars alert_stalled_percentile and alert_stalled_min_history (see the README).</p>
{alerts}
</body></html>
"""
