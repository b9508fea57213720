"""Inline SVG charts: lines over dates or categories, grouped bars, and guidance ranges.

Each chart is a <figure> holding an <svg class="chart"> with its title, axis labels and as-of date,
and the plotted numbers as a JSON data block (type application/json: data, never run), so a reader
or a test can check the chart against the marts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 960, 320  # the card's width at a desktop window; the chart scales to its card
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 58, 52
# Eleven colours: a screen's top and bottom five and their benchmark each have their own.
PALETTE = (
    "#1f5fa8",
    "#d2691e",
    "#5a5a5a",
    "#2e8b57",
    "#8e44ad",
    "#b22222",
    "#0e9aa7",
    "#c71585",
    "#8b5a2b",
    "#808000",
    "#e6a800",
)


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float | None]]  # (x, y): x an ISO date or a category label


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    x_label: str
    y_label: str
    as_of: str
    series: Sequence[Series]


@dataclass(frozen=True)
class Range:
    label: str
    low: float | None
    high: float | None
    mid: float | None
    reported: float | None = None  # a comparison figure, drawn as a bar behind the range


def line_chart(chart: Chart, time_axis: bool = True) -> str:
    """One line per series; x is a date scale, or evenly spaced categories."""
    ys = [y for s in chart.series for _, y in s.points if y is not None]
    scale_y, ticks_y = y_scale(ys, include_zero=False)
    if time_axis:
        days = [dt.date.fromisoformat(x).toordinal() for s in chart.series for x, _ in s.points]
        first, last = min(days), max(days)

        def scale_date(x: str) -> float:
            return LEFT + (dt.date.fromisoformat(x).toordinal() - first) / max(last - first, 1) * plot_width()

        scale_x: Callable[[str], float] = scale_date
        x_axis = date_ticks(first, last, scale_x)
    else:
        categories = category_order(chart.series)
        scale_x, x_axis = category_scale(categories)
    marks = []
    for i, series in enumerate(chart.series):
        segments: list[list[str]] = []
        current: list[str] = []
        for x, y in series.points:
            if y is None:  # a gap in the data is a gap in the line
                segments, current = [*segments, current], []
            else:
                current.append(f"{scale_x(x):.1f},{scale_y(y):.1f}")
        for segment in [*segments, current]:
            if segment:
                marks.append(
                    f'<polyline class="mark" fill="none" stroke="{colour(i)}" stroke-width="1.8" '
                    f'points="{" ".join(segment)}"/>'
                )
    return figure(chart, ticks_y, scale_y, x_axis, marks, {"series": series_data(chart.series)})


def bar_chart(chart: Chart) -> str:
    """Grouped bars: one group per category, one bar per series."""
    categories = category_order(chart.series)
    ys = [y for s in chart.series for _, y in s.points if y is not None]
    scale_y, ticks_y = y_scale(ys, include_zero=True)
    scale_x, x_axis = category_scale(categories)
    slot = plot_width() / max(len(categories), 1)
    bar = slot * 0.8 / max(len(chart.series), 1)
    marks = []
    for i, series in enumerate(chart.series):
        for x, y in series.points:
            if y is None:
                continue
            left = scale_x(x) - slot * 0.4 + i * bar
            top, bottom = sorted((scale_y(y), scale_y(0)))
            marks.append(
                f'<rect class="mark" x="{left:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{colour(i)}"><title>{escape(series.name)} '
                f"{escape(x)}: {y:,.2f}</title></rect>"
            )
    return figure(chart, ticks_y, scale_y, x_axis, marks, {"series": series_data(chart.series)})


def range_chart(chart: Chart, ranges: Sequence[Range], range_name: str, reported_name: str) -> str:
    """Per label: the reported figure as a grey bar, the range as a thick line, the midpoint as a dot."""
    ys = [v for r in ranges for v in (r.low, r.high, r.mid, r.reported) if v is not None]
    scale_y, ticks_y = y_scale(ys, include_zero=True)
    scale_x, x_axis = category_scale([r.label for r in ranges])
    marks = []
    for r in ranges:
        x = scale_x(r.label)
        if r.reported is not None:
            top = scale_y(r.reported)
            marks.append(
                f'<rect class="mark" x="{x - 18:.1f}" y="{top:.1f}" width="36" '
                f'height="{scale_y(0) - top:.1f}" fill="#c8c8c8"><title>{escape(r.label)} '
                f"{escape(reported_name)}: {r.reported:,.1f}</title></rect>"
            )
        if r.low is not None and r.high is not None:
            marks.append(
                f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{scale_y(r.low):.1f}" '
                f'y2="{scale_y(r.high):.1f}" stroke="{colour(0)}" stroke-width="8" stroke-linecap="round"/>'
            )
        elif r.low is not None:  # a floor ("at least"): a triangle pointing up
            y = scale_y(r.low)
            marks.append(
                f'<path class="mark" d="M{x - 7:.1f},{y + 5:.1f} L{x + 7:.1f},{y + 5:.1f} L{x:.1f},{y - 7:.1f} Z" '
                f'fill="{colour(0)}"/>'
            )
        if r.mid is not None:
            marks.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{scale_y(r.mid):.1f}" r="5" fill="#fff" '
                f'stroke="{colour(1)}" stroke-width="2.5"/>'
            )
    legend_series = [Series(range_name, []), Series("midpoint or point estimate", []), Series(reported_name, [])]
    data = {
        "ranges": [
            {"label": r.label, "low": r.low, "high": r.high, "mid": r.mid, "reported": r.reported} for r in ranges
        ]
    }
    return figure(
        chart,
        ticks_y,
        scale_y,
        x_axis,
        marks,
        data,
        key=legend(legend_series, colours=(colour(0), colour(1), "#c8c8c8")),
    )


def figure(
    chart: Chart,
    ticks_y: Sequence[float],
    scale_y: Callable[[float], float],
    x_axis: Sequence[str],
    marks: Sequence[str],
    data: dict,
    key: str | None = None,
) -> str:
    bottom = HEIGHT - BOTTOM
    grid = [
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{scale_y(t):.1f}" y2="{scale_y(t):.1f}"/>'
        f'<text class="tick" x="{LEFT - 6}" y="{scale_y(t) + 4:.1f}" text-anchor="end">{tick_text(t)}</text>'
        for t in ticks_y
    ]
    svg = (
        f'<svg class="chart" id="{escape(chart.id)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<text class="title" x="{LEFT}" y="20">{escape(chart.title)}</text>'
        f'<text class="asof" x="{WIDTH - RIGHT}" y="20" text-anchor="end">as of {escape(chart.as_of)}</text>'
        f"{key if key is not None else legend(chart.series)}"
        f"{''.join(grid)}{''.join(x_axis)}"
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>'
        f"{''.join(marks)}"
        f'<text class="label" x="{LEFT + plot_width() / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(chart.x_label)}</text>"
        f'<text class="label" transform="translate(16 {TOP + (bottom - TOP) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(chart.y_label)}</text>'
        "</svg>"
    )
    return with_data(chart, svg, data)


def with_data(chart: Chart, svg: str, data: dict) -> str:
    """The chart in its <figure>, with its numbers as a JSON data block."""
    # "</" cannot occur in the JSON text, so the block cannot end early.
    payload = json.dumps({"id": chart.id, "title": chart.title, "as_of": chart.as_of, **data}).replace("</", "<\\/")
    return (
        f'<figure>{svg}<script type="application/json" class="chart-data" data-chart="{escape(chart.id)}">'
        f"{payload}</script></figure>"
    )


STATUS_COLOURS = {
    "supported": "#2e8b57",
    "not_supported": "#b22222",
    "stale": "#7a68b3",
    "insufficient_data": "#d4a017",
}


def status_grid(chart: Chart, rows: Sequence[str], cells: Sequence[tuple[str, str, str]]) -> str:
    """One row per claim, one column per week (an ISO date), each cell coloured by its status."""
    left, row_height = 230, 22
    weeks = sorted({week for _, week, _ in cells})
    height = TOP + row_height * len(rows) + BOTTOM
    cell = (WIDTH - left - RIGHT) / max(len(weeks), 1)
    column = {week: i for i, week in enumerate(weeks)}
    marks = [
        f'<rect class="mark" x="{left + column[week] * cell:.1f}" y="{TOP + rows.index(claim) * row_height}" '
        f'width="{max(cell - 1, 1):.1f}" height="{row_height - 2}" fill="{STATUS_COLOURS.get(status, "#999")}">'
        f"<title>{escape(claim)} {escape(week)}: {escape(status.replace('_', ' '))}</title></rect>"
        for claim, week, status in cells
        if claim in rows
    ]
    labels = [
        f'<text class="tick" x="{left - 6}" y="{TOP + i * row_height + row_height / 2 + 3:.1f}" text-anchor="end">'
        f"{escape(claim)}</text>"
        for i, claim in enumerate(rows)
    ]
    every = max(1, len(weeks) // 8)
    ticks = [
        f'<text class="tick" x="{left + i * cell + cell / 2:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">'
        f"{escape(week)}</text>"
        for i, week in enumerate(weeks)
        if i % every == 0
    ]
    key = legend([Series(s.replace("_", " "), []) for s in STATUS_COLOURS], colours=list(STATUS_COLOURS.values()))
    svg = (
        f'<svg class="chart" id="{escape(chart.id)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<text class="title" x="{LEFT}" y="20">{escape(chart.title)}</text>'
        f'<text class="asof" x="{WIDTH - RIGHT}" y="20" text-anchor="end">as of {escape(chart.as_of)}</text>'
        f"{key}{''.join(labels)}{''.join(ticks)}{''.join(marks)}"
        f'<text class="label" x="{left + (WIDTH - left - RIGHT) / 2:.1f}" y="{height - 8}" text-anchor="middle">'
        f"{escape(chart.x_label)}</text>"
        f'<text class="label" transform="translate(16 {TOP + row_height * len(rows) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(chart.y_label)}</text>'
        "</svg>"
    )
    return with_data(chart, svg, {"cells": [list(c) for c in cells]})


def legend(series: Sequence[Series], colours: Sequence[str] | None = None) -> str:
    items, x = [], LEFT
    for i, s in enumerate(series):
        fill = colours[i] if colours else colour(i)
        items.append(
            f'<rect x="{x}" y="31" width="12" height="12" fill="{fill}"/>'
            f'<text class="legend" x="{x + 16}" y="41">{escape(s.name)}</text>'
        )
        x += 28 + 7 * len(s.name)
    return "".join(items)


def y_scale(values: Sequence[float], include_zero: bool) -> tuple[Callable[[float], float], list[float]]:
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        low, high = low - 1, high + 1
    step = nice_step((high - low) / 5)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    ticks = [low + i * step for i in range(round((high - low) / step) + 1)]
    bottom = HEIGHT - BOTTOM
    return (lambda y: bottom - (y - low) / (high - low) * (bottom - TOP)), ticks


def nice_step(rough: float) -> float:
    """The 1, 2 or 5 times a power of ten nearest above `rough`."""
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def date_ticks(first: int, last: int, scale_x: Callable[[str], float]) -> list[str]:
    """A tick on the first of every month, or of every second, third, sixth or twelfth month when
    they crowd (about ten labels fit across)."""
    start, end = dt.date.fromordinal(first), dt.date.fromordinal(last)
    months = (end.year - start.year) * 12 + end.month - start.month
    every = next((e for e, most in ((1, 8), (2, 16), (3, 30), (6, 60)) if months <= most), 12)
    ticks: list[str] = []
    year, month = start.year, start.month
    while True:
        month += 1
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        day = dt.date(year, month, 1)
        if day > end:
            return ticks
        if (month - 1) % every == 0:
            x = scale_x(day.isoformat())
            ticks.append(
                f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{day:%b %Y}</text>"
            )


def category_scale(categories: Sequence[str]) -> tuple[Callable[[str], float], list[str]]:
    """Evenly spaced categories, each in the middle of its slot."""
    position = {c: i for i, c in enumerate(categories)}
    n = max(len(categories), 1)

    def scale_x(c: str) -> float:
        return LEFT + (position[c] + 0.5) * plot_width() / n

    every = math.ceil(n / 12)  # at most about twelve labels
    ticks = [
        f'<text class="tick" x="{scale_x(c):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(c)}</text>'
        for i, c in enumerate(categories)
        if i % every == 0
    ]
    return scale_x, ticks


def category_order(series: Sequence[Series]) -> list[str]:
    return sorted({x for s in series for x, _ in s.points})


def series_data(series: Sequence[Series]) -> list[dict]:
    return [{"name": s.name, "points": [[x, y] for x, y in s.points]} for s in series]


def plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def tick_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2g}"
