"""The page around the sections: one HTML file, inline CSS, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
       background: #f6f6f4; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 8px; }
.sample { background: #fff3cd; border: 1px solid #e0c36a; padding: 8px 12px; font-weight: 600; }
.stale-data { background: #f8d7da; border: 1px solid #c9757d; padding: 8px 12px; font-weight: 600; margin: 8px 0; }
figure { margin: 12px 0; background: #fff; border: 1px solid #ddd; }
svg.chart { display: block; width: 100%; height: auto; }
.headline { font-size: 18px; font-weight: 600; margin: 4px 0 8px; }
svg .title { font-size: 14px; font-weight: 600; fill: #222; }
svg .asof, svg .tick, svg .legend { font-size: 11px; fill: #555; }
svg .label { font-size: 12px; fill: #333; }
svg .grid { stroke: #eee; }
svg .axis { stroke: #888; }
.nodata { background: #fff; border: 1px dashed #aaa; padding: 12px; color: #555; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0ee; }
td.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.wrap { overflow-wrap: anywhere; }
.status { font-weight: 600; white-space: nowrap; }
.supported { color: #1e6b34; } .not_supported { color: #a12a2a; } .insufficient_data { color: #8a6d00; }
.stale { color: #5b4b8a; } .fresh { color: #1e6b34; } .warn { color: #8a6d00; } .error { color: #a12a2a; }
"""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: str  # HTML, already escaped


def page(
    title: str,
    stale: str | None,
    headline: str | None,
    lines: Sequence[str],
    banner: str | None,
    sections: Sequence[Section],
) -> str:
    """The page: under its title, what is stale (before anything else), the headline, `lines`, the banner."""
    header = (
        (f'<p class="stale-data">{escape(stale)}</p>' if stale else "")
        + (f'<p class="headline">{escape(headline)}</p>' if headline else "")
        + "".join(f'<p class="meta">{escape(line)}</p>' for line in lines)
    )
    warning = f'<p class="sample">{escape(banner)}</p>' if banner else ""
    body = "".join(f'<section id="{escape(s.id)}"><h2>{escape(s.title)}</h2>{s.body}</section>' for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{header}{warning}{body}</main></body></html>\n"
    )


def no_data(why: str) -> str:
    return f'<p class="nodata">No data yet: {escape(why)}</p>'


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], classes: Sequence[str] = ()) -> str:
    """A table of text; a cell's class comes from `classes` by column ("num", "status ...")."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(cell(value, classes[i] if i < len(classes) else "") for i, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cell(value: object, css: str) -> str:
    text = (
        ""
        if value is None
        else f"{value:,.2f}"
        if isinstance(value, float)
        else f"{value:,}"
        if isinstance(value, int) and not isinstance(value, bool)
        else str(value)
    )
    if css == "status":
        css = f"status {text}"
    return f'<td class="{escape(css)}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>"
