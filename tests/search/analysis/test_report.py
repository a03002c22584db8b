import itertools
import json
import re

import pytest

from errors import UsageError
from search.analysis import report_curves, report_markdown, report_sections
from search.analysis.evaluations import EVALUATION_PREFIX
from search.analysis.report import check_out_path, write_report
from testing.synthetic import build_study, evaluation

SECTIONS = [
    "Summary",
    "Best trial",
    "Importance",
    "Effects and conclusions",
    "Plots",
    "Learning curves",
    "Test evaluation",
]


def add_evaluation(study):
    study.set_user_attr(f"{EVALUATION_PREFIX}7", evaluation(7))


@pytest.fixture
def stored(sqlite_url):
    add_evaluation(build_study(sqlite_url, n=40, pruned=3))
    return sqlite_url


@pytest.fixture(scope="module")
def pruned_study(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pruned') / 'study.db'}"
    add_evaluation(build_study(url, n=40, pruned=3))
    return url


def traces(page: str, plot: str) -> list[dict]:
    """The data of the plotly figure in the report's `plot` block."""
    block = page.split(f"id='plot-{plot}'>", 1)[1]
    call = block[block.index("Plotly.newPlot(") :]
    return json.JSONDecoder().raw_decode(call[call.index("[") :])[0]


def test_html_report_has_every_section_and_opens_offline(stored, tmp_path):
    path = write_report("synthetic", stored, str(tmp_path / "r.html"))
    page = path.read_text()

    assert re.findall(r"<h2>([^<]*)</h2>", page) == SECTIONS
    assert "n_conv carries" in page and "40 complete, 3 pruned" in page
    assert not re.search(r"<script[^>]*src=", page)  # plotly.js is inline, no CDN
    assert page.count("plotly.js v") == 1  # …and embedded once for all plots
    # importance, history, two rows of slices (5 dimensions, 3 a row), parallel, curves
    assert page.count('class="plotly-graph-div"') == 6
    assert "Trial 7 (saved model): test accuracy 0.7500" in page


def test_markdown_report_embeds_pngs_written_beside_it(stored, tmp_path):
    path = write_report("synthetic", stored, str(tmp_path / "r.md"))
    text = path.read_text()

    assert re.findall(r"^## (.*)$", text, flags=re.M) == SECTIONS
    images = re.findall(r"!\[[^\]]*\]\(([^)]*)\)", text)
    assert {"r-plots/importance.png", "r-plots/history.png", "r-plots/slice.png"} <= set(images)
    for image in images:
        assert (tmp_path / image).read_bytes()[:4] == b"\x89PNG"
    assert "| n_conv=1 |" in text and "| a | 1.0000 | 0.5000 | 0.6667 | 2 |" in text


def test_multi_objective_report_shows_the_pareto_front(sqlite_url, tmp_path):
    build_study(sqlite_url, n=20, objectives=("accuracy", "time"))
    text = write_report("synthetic", sqlite_url, str(tmp_path / "r.md")).read_text()
    assert "## Pareto front" in text and "pareto_front.png" in text


def test_small_study_report_says_importance_needs_more_trials(sqlite_url, tmp_path):
    build_study(sqlite_url, n=4)
    text = write_report("synthetic", sqlite_url, str(tmp_path / "r.md")).read_text()
    assert "Importance needs at least 10 completed trials; this study has 4" in text


@pytest.mark.parametrize(
    "out, fragment",
    [("report.pdf", "end it in .html or .md"), ("/no/such/dir/r.html", "cannot write there")],
)
def test_bad_out_path_is_refused_before_any_work(out, fragment):
    with pytest.raises(UsageError, match=fragment):
        check_out_path(out)


def test_learning_curves_keep_trial_numbers_and_add_pruned_curves_on_request(
    pruned_study, tmp_path
):
    page = write_report("synthetic", pruned_study, str(tmp_path / "r.html")).read_text()
    names = [t["name"] for t in traces(page, "learning_curves")]
    assert len(names) == report_curves.TOP_CURVES and "trial 0" in names
    assert not {"trial 40", "trial 41", "trial 42"} & set(names)
    assert "3 pruned trials are left out: --with-pruned draws them" in page

    page = write_report(
        "synthetic", pruned_study, str(tmp_path / "p.html"), with_pruned=True
    ).read_text()
    curves = traces(page, "learning_curves")
    pruned = [c for c in curves if c["name"] in {"trial 40", "trial 41", "trial 42"}]
    assert len(curves) == report_curves.TOP_CURVES + 3 and len(pruned) == 3
    assert all(c["line"]["dash"] == "dot" for c in pruned)
    assert "from 43 trials (completed, and pruned ones" in page


def test_plots_use_the_study_s_trial_numbers(pruned_study, tmp_path):
    page = write_report(
        "synthetic", pruned_study, str(tmp_path / "p.html"), with_pruned=True
    ).read_text()
    history = traces(page, "history")[0]
    assert sorted(history["x"]) == list(range(43))


def test_tables_have_real_headers_and_a_shaded_confusion_matrix(stored, tmp_path):
    page = write_report("synthetic", stored, str(tmp_path / "r.html")).read_text()
    assert "<th></th><th></th>" not in page
    assert "<tr><th>setting</th><th>value</th></tr>" in page
    assert page.count("background:rgba(31,119,180,") == 4  # the 2 × 2 confusion matrix
    assert "background:rgba(31,119,180,0.50)" in page  # 1 of class a's 2 images


def test_only_the_most_important_dimensions_get_effects_tables(stored, tmp_path, monkeypatch):
    monkeypatch.setattr(report_sections, "TOP_EFFECTS", 2)
    page = write_report("synthetic", stored, str(tmp_path / "r.html")).read_text()
    effects = page.split("<h2>Effects and conclusions</h2>")[1].split("<h2>")[0]
    assert len(re.findall(r"<h3>(\w+) \(", effects)) == 2
    assert "Effects of the 3 less important dimensions" in effects
    assert "<code>cnnsearch importance synthetic --top 5</code>" in effects


def test_without_importance_the_slices_do_not_claim_to_be_the_most_important(sqlite_url, tmp_path):
    build_study(sqlite_url, n=6)
    page = write_report("synthetic", sqlite_url, str(tmp_path / "r.html")).read_text()
    assert "most important" not in page
    assert "Accuracy against each of 5 searched dimensions (in the space&#x27;s order" in page


def drawn_tick_labels(figure) -> list:
    """Window boxes of the x tick labels drawn inside each panel's limits (twin axes share
    theirs, so each label counts once)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = {}
    for ax in figure.get_axes():
        low, high = sorted(ax.get_xlim())
        for loc, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True):
            if label.get_text() and low <= loc <= high:
                box = label.get_window_extent(renderer)
                boxes[(label.get_text(), round(box.x0))] = box
    return list(boxes.values())


@pytest.mark.parametrize("kind", ["slice", "parallel"])
def test_markdown_plots_tick_labels_do_not_overlap(kind):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna

    study = build_study(n=40)
    params = ["n_conv", "learning_rate", "dense_units", "pool", "n_dense"]
    with matplotlib.rc_context({"figure.figsize": report_markdown.PNG_FIGSIZE}):
        if kind == "slice":
            optuna.visualization.matplotlib.plot_slice(study, params=params[:3])
        else:
            optuna.visualization.matplotlib.plot_parallel_coordinate(study, params=params)
        figure = plt.gcf()
        report_markdown.readable_ticks(figure)
        boxes = drawn_tick_labels(figure)
        plt.close("all")
    assert len(boxes) >= 6
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]


@pytest.mark.parametrize("out", ["/proc/x.html", "/proc/x.md"])
def test_an_unwritable_place_is_a_usage_error_not_a_traceback(stored, out):
    with pytest.raises(UsageError, match="cannot write there"):
        check_out_path(out)
    with pytest.raises(UsageError, match="cannot write there"):
        write_report("synthetic", stored, out)
