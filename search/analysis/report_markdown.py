"""A report as Markdown, with each plot drawn by Optuna's matplotlib twin into a PNG in a folder
beside the file."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import optuna

from search.analysis.report_blocks import Bullets, Heading, Plot, Section, Table, quiet

# Optuna's slice plot gives each panel half the default figure width.
PNG_FIGSIZE = (8.0, 4.8)  # inches: 4 per slice panel, so tick labels do not overlap
PARALLEL_AXIS_INCHES = 1.8  # width per axis of a parallel-coordinate PNG


def render_markdown(title: str, sections: list[Section], path: Path) -> str:
    """Markdown with each plot as a PNG in a folder beside the file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = path.with_name(f"{path.stem}-plots")
    folder.mkdir(exist_ok=True)
    lines = [f"# Study {title}", ""]
    with matplotlib.rc_context({"figure.figsize": PNG_FIGSIZE}):
        for section in sections:
            lines += _markdown_section(section, folder, plt)
    return "\n".join(lines)


def _markdown_section(section: Section, folder: Path, plt: ModuleType) -> list[str]:
    lines = [f"## {section.title}", ""]
    for block in section.blocks:
        if isinstance(block, Table):
            lines.append("| " + " | ".join(block.headers) + " |")
            lines.append("|" + "---|" * len(block.headers))
            lines += ["| " + " | ".join(row) + " |" for row in block.rows]
        elif isinstance(block, Plot):
            quiet(block.draw, optuna.visualization.matplotlib)
            figure = plt.gcf()
            readable_ticks(figure)
            figure.savefig(folder / f"{block.name}.png", dpi=100, bbox_inches="tight")
            plt.close("all")
            lines.append(f"![{block.name}]({folder.name}/{block.name}.png)")
        elif isinstance(block, Heading):
            lines.append(f"### {block.text}")
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items]
        else:
            lines.append(block)
        lines.append("")
    return lines


def readable_ticks(figure: Any) -> None:
    """Room for tick labels where panels sit side by side: small slanted x labels, and a width
    per axis for a parallel-coordinate plot (whose axes overlap in one panel)."""
    panels = [ax for ax in figure.get_axes() if ax.get_label() != "<colorbar>"]
    columns = len({round(ax.get_position().x0, 3) for ax in panels}) or 1
    overlapping = len(panels) > columns
    if overlapping:
        width, height = figure.get_size_inches()
        figure.set_size_inches(max(width, PARALLEL_AXIS_INCHES * len(panels)), height)
    if columns == 1 and not overlapping:
        return
    for ax in panels:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
            label.set_fontsize(8)
        if overlapping:
            ax.tick_params(axis="y", labelsize=8)
