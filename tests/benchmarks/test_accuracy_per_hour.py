"""The hour's race (benchmarks/accuracy_per_hour.py) on made-up results: its arms, the best start
alone among them, its goal and its plot."""

import json
import sys

from benchmarks import accuracy_per_hour, arms, common, vs_autokeras
from tests.benchmarks.test_vs_autokeras import race


def run_hour(monkeypatch, tmp_path, results: dict, argv: list[str]) -> tuple[list, str]:
    """accuracy_per_hour's main on `results` instead of runs; the runs it asked for and the
    goal row it wrote."""
    results_md = tmp_path / "RESULTS.md"
    monkeypatch.setattr(common, "RESULTS", results_md)
    monkeypatch.setattr(accuracy_per_hour, "RESULTS", results_md)
    asked = []
    monkeypatch.setattr(vs_autokeras, "run_all", lambda runs, args: asked.extend(runs) or results)
    out = tmp_path / "hour.png"
    monkeypatch.setattr(sys, "argv", ["accuracy_per_hour", "--out", str(out), *argv])
    accuracy_per_hour.main()
    assert out.stat().st_size > 0
    assert json.loads(out.with_suffix(".json").read_text()) == results
    rows = [line for line in results_md.read_text().splitlines() if "6 accuracy per hour" in line]
    return asked, rows[-1]


def test_the_hour_runs_the_best_start_alone_after_cnnsearch(monkeypatch, tmp_path):
    results = {
        "cnnsearch": [race(0, 0.95, 0.946)],
        "autokeras": [race(0, 0.925, 0.922)],
        "labs-main": [race(0, 0.922, 0.913)],
        arms.BEST_START: [race(0, 0.945, 0.941, start="vgg-bn")],
    }
    asked, row = run_hour(monkeypatch, tmp_path, results, [])
    assert asked == [("cnnsearch", 0), ("autokeras", 0), ("labs-main", 0), (arms.BEST_START, 0)]
    assert f"{arms.BEST_START} (vgg-bn) val 0.9450" in row and "[plot](hour.png)" in row
    assert "≥ 0.945 test accuracy (at least 0.94)" in row
    assert row.endswith(
        "| not met: fewer than 3 seeds with a result for cnnsearch, autokeras, "
        f"labs-main, {arms.BEST_START} |"
    )


def test_the_hour_says_when_only_its_floor_is_met(monkeypatch, tmp_path):
    results = {
        "cnnsearch": [race(s, 0.95, 0.942) for s in range(3)],
        arms.BEST_START: [race(s, 0.945, 0.943, start="vgg-bn") for s in range(3)],
    }
    argv = ["--arms", f"cnnsearch,{arms.BEST_START}", "--seeds", "0,1,2", "--start", "vgg-bn"]
    _, row = run_hour(monkeypatch, tmp_path, results, argv)
    assert row.endswith(
        f"| not met: test not above {arms.BEST_START}; cnnsearch test below 0.945; "
        "(its floor 0.94 met) |"
    )
    results["cnnsearch"] = [race(s, 0.95, 0.946) for s in range(3)]
    assert run_hour(monkeypatch, tmp_path, results, argv)[1].endswith("| met |")
