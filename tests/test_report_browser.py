"""The HTML report in a real headless Chromium: it fits the window at 1400 and 1024 px (no
sideways scrolling) and every plot is drawn."""

import time
from pathlib import Path

import pytest

from search.analysis.evaluations import EVALUATION_PREFIX
from search.analysis.report import write_report
from testing.synthetic import build_study

# importance, history, two rows of slice plots (5 dimensions), parallel coordinates, curves
PLOTS = ["importance", "history", "slice", "slice-2", "parallel", "learning_curves"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'study.db'}"
    study = build_study(url, n=40, pruned=6)
    names = [str(d) for d in range(10)]
    study.set_user_attr(
        f"{EVALUATION_PREFIX}3",
        {
            "trial": 3,
            "model_source": "saved model",
            "test_images": 100,
            "accuracy": 0.9,
            "class_names": names,
            "per_class": {
                n: {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 10} for n in names
            },
            "report_text": "",
            "confusion": [
                [9 if i == j else (1 if j == (i + 1) % 10 else 0) for j in range(10)]
                for i in range(10)
            ],
        },
    )
    return write_report("synthetic", url, str(folder / "report.html"), with_pruned=True)


DRAWN_PLOTS = """
return Array.from(document.querySelectorAll('.plot')).map(p => {
  const graph = p.querySelector('.plotly-graph-div');
  const box = graph ? graph.getBoundingClientRect() : {left: 0, right: 0, height: 0};
  return {name: p.id.replace('plot-', ''), drawn: !!p.querySelector('svg.main-svg'),
          left: box.left, right: box.right, height: box.height};
});
"""


def drawn_plots(browser, seconds: float = 30) -> list[dict]:
    end = time.monotonic() + seconds
    while True:
        plots = browser.execute_script(DRAWN_PLOTS)
        if (plots and all(p["drawn"] for p in plots)) or time.monotonic() > end:
            return plots
        time.sleep(0.3)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1400, 1024])
def test_the_report_fits_the_window_and_draws_every_plot(browser, report, width):
    browser.set_window_size(width, 900)
    browser.get(report.as_uri())
    plots = drawn_plots(browser)
    viewport = browser.execute_script("return document.documentElement.clientWidth")
    page = browser.execute_script("return document.documentElement.scrollWidth")

    assert viewport > width - 40  # the window really is that wide
    assert page <= viewport, f"the page scrolls sideways: {page} px in a {viewport} px window"
    assert [p["name"] for p in plots] == PLOTS
    for plot in plots:
        assert plot["drawn"] and plot["height"] > 200, plot
        assert plot["left"] >= 0 and plot["right"] <= viewport, plot
    legend = browser.execute_script(
        "return Array.from(document.querySelectorAll('#plot-learning_curves .legendtext'))"
        ".map(t => t.textContent)"
    )
    assert "trial 35" in legend and any(name.startswith("trial 4") for name in legend)
    shaded = browser.execute_script(
        "return Array.from(document.querySelectorAll('td[style*=background]')).length"
    )
    assert shaded == 100  # every cell of the 10 × 10 confusion matrix
