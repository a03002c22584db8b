import re

import pytest

from errors import UsageError
from search.evaluate import EVALUATION_PREFIX
from search.report import check_out_path, write_report
from tests.synthetic import build_study

SECTIONS = [
    "Summary",
    "Best trial",
    "Importance",
    "Effects and conclusions",
    "Plots",
    "Learning curves",
    "Test evaluation",
]


@pytest.fixture
def stored(sqlite_url):
    study = build_study(sqlite_url, n=40, pruned=3)
    study.set_user_attr(
        f"{EVALUATION_PREFIX}7",
        {
            "trial": 7,
            "model_source": "saved model",
            "test_images": 4,
            "accuracy": 0.75,
            "class_names": ["a", "b"],
            "per_class": {
                "a": {"precision": 1.0, "recall": 0.5, "f1-score": 0.6667, "support": 2},
                "b": {"precision": 0.6667, "recall": 1.0, "f1-score": 0.8, "support": 2},
            },
            "report_text": "",
            "confusion": [[1, 1], [0, 2]],
        },
    )
    return sqlite_url


def test_html_report_has_every_section_and_opens_offline(stored, tmp_path):
    path = write_report("synthetic", stored, str(tmp_path / "r.html"))
    page = path.read_text()

    assert re.findall(r"<h2>([^<]*)</h2>", page) == SECTIONS
    assert "n_conv carries" in page and "40 complete, 3 pruned" in page
    assert not re.search(r"<script[^>]*src=", page)  # plotly.js is inline, no CDN
    assert page.count("plotly.js v") == 1  # …and embedded once for all plots
    assert page.count('class="plotly-graph-div"') == 5
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
