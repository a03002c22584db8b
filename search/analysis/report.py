"""The study report, written to an .html or .md file: its sections (search.analysis.report_sections)
rendered as one HTML page (report_html) or Markdown with PNG plots beside it (report_markdown).

Nothing here imports Keras: the report reads the storage only.
"""

from __future__ import annotations

from pathlib import Path

from errors import UsageError
from search.analysis.report_html import render_html
from search.analysis.report_markdown import render_markdown
from search.analysis.report_sections import build_sections
from search.study import load_study
from storage import open_storage
from storage.writable import can_write_in

FORMATS = (".html", ".md")


def check_out_path(out: str) -> Path:
    """The report path, or a UsageError when its format or folder will not do."""
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {out!r}: end it in .html or .md, for example --out report.html")
    folder = path.parent.resolve()
    if not folder.is_dir() or not can_write_in(folder) or path.is_dir():
        raise _unwritable(out, f"{folder} is missing or read-only")
    return path


def _unwritable(out: str, why: str) -> UsageError:
    return UsageError(
        f"--out {out!r}: cannot write there ({why}); "
        "choose a writable path, for example --out ./report.html"
    )


def write_report(
    study_name: str,
    storage_url: str,
    out: str,
    evaluator: str = "ped-anova",
    with_pruned: bool = False,
) -> Path:
    """Write the report of `study_name` to `out` (.html or .md) and return its path.

    With `with_pruned`, pruned trials count in the importance and plots at the last accuracy
    they reported, and their learning curves are drawn beside the completed trials'.
    """
    path = check_out_path(out)
    study = load_study(open_storage(storage_url, read_only=True), study_name)
    sections = build_sections(study, evaluator, with_pruned)
    try:
        if path.suffix.lower() == ".html":
            path.write_text(render_html(study_name, sections), encoding="utf-8")
        else:
            path.write_text(render_markdown(study_name, sections, path), encoding="utf-8")
    except OSError as e:
        raise _unwritable(out, e.strerror or str(e)) from None
    return path
