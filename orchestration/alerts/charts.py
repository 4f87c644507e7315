"""The report's charts (plotly): funnel, win rate, velocity / open-pipeline trend and the
pipeline waterfall."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from orchestration.alerts.escaping import chart_label
from orchestration.alerts.what_moved import STEPS


def funnel_figure(rows: list[tuple[str, str, int, int]]) -> go.Figure:
    """One funnel per pipeline: deals that reached each stage (won last). Pipeline and stage
    names come from the CRM: plain text, not plotly markup (escaping.chart_label)."""
    pipelines = list(dict.fromkeys(r[0] for r in rows))
    cols = min(3, max(1, len(pipelines)))
    nrows = max(1, math.ceil(len(pipelines) / cols))
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[chart_label(p) for p in pipelines],
                        horizontal_spacing=0.18, vertical_spacing=0.12)
    for i, name in enumerate(pipelines):
        stages = [r for r in rows if r[0] == name]
        fig.add_trace(go.Funnel(y=[chart_label(r[1]) for r in stages], x=[r[3] for r in stages],
                                name=chart_label(name), textinfo="value+percent initial"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_layout(title="Funnel: deals that reached each stage", showlegend=False,
                      height=330 * nrows, margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def _months(health: list[tuple]) -> list[str]:
    # Points are month ends (the last one the as-of date): label them by month, as categories.
    return [r[0].strftime("%b %Y") for r in health]


def win_rate_figure(health: list[tuple]) -> go.Figure:
    months = _months(health)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=months, y=[r[3] for r in health], name="won"))
    fig.add_trace(go.Bar(x=months, y=[r[4] for r in health], name="lost"))
    fig.add_trace(go.Scatter(x=months, y=[r[5] for r in health], name="win rate",
                             mode="lines+markers"), secondary_y=True)
    fig.update_yaxes(title_text="deals closed, trailing 180 days", secondary_y=False)
    fig.update_yaxes(title_text="win rate", tickformat=".0%", range=[0, 1], dtick=0.25,
                     showgrid=False, secondary_y=True)
    fig.update_layout(title="Win rate (won / (won + lost), trailing 180 days)", barmode="group",
                      height=380, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def velocity_figure(health: list[tuple]) -> go.Figure:
    months = _months(health)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=months, y=[r[8] for r in health], name="velocity (per day)",
                             mode="lines+markers"))
    fig.add_trace(go.Bar(x=months, y=[r[2] for r in health], name="open pipeline amount",
                         opacity=0.35), secondary_y=True)
    fig.update_yaxes(title_text="expected revenue per day", secondary_y=False)
    fig.update_yaxes(title_text="open amount", secondary_y=True)
    fig.update_layout(title="Pipeline velocity and open pipeline, month by month", height=380,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def waterfall_figure(grid: list[tuple[str, list]], months: tuple[str, str]) -> go.Figure:
    """One row per pipeline and currency, one column per month (the last complete one, then
    the current one): the open pipeline expected to close in that month, from its opening
    through what came in and went out to its closing (what_moved.STEPS). `grid` holds
    (row title, [Waterfall or None per month]); the row titles come from the CRM (chart_label).
    Each bar's hover says how many deals it holds."""
    titles = [f"{chart_label(name)}: {month}" + ("" if w else " (nothing expected)")
              for name, cells in grid for month, w in zip(months, cells)]
    fig = make_subplots(rows=max(1, len(grid)), cols=2, subplot_titles=titles or None,
                        horizontal_spacing=0.08, vertical_spacing=min(0.3, 0.5 / max(1, len(grid))))
    for row, (_, cells) in enumerate(grid, start=1):
        for col, w in enumerate(cells, start=1):
            if w is not None:
                fig.add_trace(_waterfall_trace(w, titles[2 * (row - 1) + col - 1]),
                              row=row, col=col)
    fig.update_layout(title="What moved: open pipeline expected to close in the month, "
                            "from the month's start to its end (or today)",
                      showlegend=False, height=120 + 300 * max(1, len(grid)),
                      margin={"l": 10, "r": 10, "t": 90, "b": 10})
    return fig


def _waterfall_trace(w, name: str) -> go.Waterfall:
    labels = ["Opening"] + [label for _, label, _ in STEPS] + ["Closing"]
    values = ([float(w.amounts["opening"])]
              + [sign * float(w.amounts[key]) for key, _, sign in STEPS]
              + [float(w.amounts["closing"])])
    counts = [w.counts["opening"]] + [w.counts[key] for key, _, _ in STEPS] + [w.counts["closing"]]
    return go.Waterfall(
        x=labels, y=values, measure=["absolute"] + ["relative"] * len(STEPS) + ["total"],
        name=name, textposition="outside",
        # steps signed, totals plain, nothing on an empty step
        text=[f"{v:,.0f}" if i in (0, len(values) - 1) else f"{v:+,.0f}" if v else ""
              for i, v in enumerate(values)],
        hovertext=[f"{n:,} deal{'s' if n != 1 else ''} · {chart_label(w.currency)}"
                   for n in counts], hoverinfo="x+y+text",
        decreasing={"marker": {"color": "#d64545"}}, increasing={"marker": {"color": "#3ebd93"}},
        totals={"marker": {"color": "#486581"}}, connector={"line": {"color": "#9aa5b1"}})
