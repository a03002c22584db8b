"""A report as one self-contained HTML page: plotly.js embedded once, so it opens offline, and
plots and tables that take the page's width, from a laptop's window to a wide screen."""

from __future__ import annotations

import html

import optuna

from search.analysis.report_blocks import Bullets, Heading, Plot, Section, Table, quiet

PLOT_HEIGHT = 420  # pixels; the width follows the page


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:0 16px;
  line-height:1.4}
.table{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:2px 8px}
th{text-align:left}
td{text-align:right}
.plot{width:100%;margin:8px 0}
code{background:#f3f3f3;padding:0 3px}
"""


def render_html(title: str, sections: list[Section]) -> str:
    """One self-contained page: plotly.js is embedded with the first plot; plots and tables take
    the page's width, whatever the window's."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)} report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Study {html.escape(title)}</h1>",
    ]
    plotly_included = False
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Plot):
                figure = quiet(block.draw, optuna.visualization)
                figure.update_layout(width=None, height=PLOT_HEIGHT, autosize=True)
                plot = figure.to_html(
                    full_html=False,
                    include_plotlyjs=not plotly_included,
                    default_width="100%",
                    default_height=f"{PLOT_HEIGHT}px",
                    config={"responsive": True, "displaylogo": False},
                )
                parts.append(f"<div class='plot' id='plot-{block.name}'>{plot}</div>")
                plotly_included = True
            elif isinstance(block, Heading):
                parts.append(f"<h3>{html.escape(block.text)}</h3>")
            elif isinstance(block, Bullets):
                items = "".join(f"<li>{_inline_html(i)}</li>" for i in block.items)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{_inline_html(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(table: Table) -> str:
    head = (
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers) + "</tr>"
        if any(table.headers)
        else ""
    )
    rows = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, cell in enumerate(row):
            share = table.shading[r][c] if table.shading else 0.0
            if c == 0 and any(table.headers):
                cells.append(f"<th>{html.escape(cell)}</th>")
            elif table.shading:
                color = "#fff" if share > 0.6 else "#000"
                style = f"background:rgba(31,119,180,{share:.2f});color:{color}"
                cells.append(f"<td style='{style}'>{html.escape(cell)}</td>")
            else:
                cells.append(f"<td>{html.escape(cell)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class='table'><table>{head}{''.join(rows)}</table></div>"


def _inline_html(text: str) -> str:
    """Escaped text with `code` spans, as the Markdown renderer shows them."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
