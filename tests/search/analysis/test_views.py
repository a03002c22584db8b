"""What the commands print, rendered as a terminal would show it."""

from types import SimpleNamespace

from rich.console import Console

from search.analysis import views


def render(*renderables, width: int = 120) -> str:
    console = Console(record=True, width=width, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def row(number, accuracy, dims, **objectives):
    values = {"accuracy": accuracy, **objectives}
    return dict(
        number=number, values=values, params=dims, n_params=1000, train_seconds=2.5, epochs_run=3
    )


def test_a_single_best_trial_lists_readable_params_and_its_saved_model():
    best = row(7, 0.91234, {"dropout": 0.0637032135512245, "batch_norm": True, "n_conv": 3})
    best.update(continues=4, model="/arts/abc")
    text = render(*views.best_view([best]))
    assert "trial 7: accuracy 0.9123" in text and "trial 4's model trained on" in text
    assert "dropout         0.0637\n" in text and "0.0637032" not in text
    assert "batch_norm      true" in text and "saved model     /arts/abc" in text


def test_the_best_view_keeps_one_column_for_names_longer_than_15_characters():
    best = row(7, 0.9, {"augment_translate": 0.1, "n_conv": 3}) | {"model": "/arts/abc"}
    lines = render(*views.best_view([best])).splitlines()[1:]
    assert [line.split()[-1] for line in lines] == ["0.1", "3", "/arts/abc"]
    assert len({len(line) - len(line.split()[-1]) for line in lines}) == 1, lines


def test_a_pareto_front_shows_what_varies_per_trial_and_what_is_shared():
    front = [
        row(1, 0.9, {"n_conv": 2, "pool": "max"}, params=5e4),
        row(2, 0.8, {"n_conv": 1, "pool": "max"}, params=1e4),
    ]
    text = render(*views.best_view(front))
    assert "Pareto front: 2 trials" in text
    assert "trial 1    n_conv=2" in text and "shared by all: pool=max" in text
    assert text.index("trial 1 ") < text.index("trial 2 ")  # most accurate first


def studies_text(**row) -> str:
    """The studies table of one study, 80 columns wide: `row` over a plain digits row."""
    plain = dict(study="s", dataset="digits", space="convnet", states={}, skipped=0, best=None)
    return render(views.studies_table([plain | row], "sqlite:///x.db"), width=80)


def test_the_studies_table_keeps_long_names_whole_and_says_what_to_do_when_empty():
    text = studies_text(study="fashion_mnist-convnet-long-name", best=[0.9012])
    first_column = [line.split("│")[1].strip() for line in text.splitlines() if "│" in line]
    assert "".join(first_column) == "fashion_mnist-convnet-long-name"  # folded, never cut
    assert "…" not in text and "0.9012" in text
    assert "cnnsearch optimize digits" in render(views.studies_table([], "sqlite:///x.db"))


def test_the_studies_table_counts_the_trials_skipped_untrained_apart_from_failed_ones():
    text = studies_text(states={"COMPLETE": 5, "FAIL": 4}, skipped=3)
    header, row = (line for line in text.splitlines() if "│" in line or "┃" in line)
    names, values = header.split("┃")[1:-1], row.split("│")[1:-1]
    cells = {n.strip(): v.strip() for n, v in zip(names, values, strict=True)}
    assert cells["failed"] == "1" and cells["complete"] == "5"
    assert "over the budget), not failed: s 3" in text


def test_the_run_summary_says_why_the_run_ended():
    def summary(**fields):
        return SimpleNamespace(study="s", **fields)

    timed = views.run_summary(summary(finished=1, budget=None, stopped_by="deadline"))
    assert timed == "study [bold]s[/]: 1 trial finished (deadline reached)"
    counted = views.run_summary(summary(finished=12, budget=12, stopped_by="budget"))
    assert counted.endswith("12 of 12 trials finished (budget met)")
    exhausted = views.run_summary(summary(finished=4, budget=20, stopped_by="exhausted"))
    assert exhausted.endswith("(space exhausted)")


def test_the_sweep_table_has_a_row_per_value_with_mean_and_spread():
    rows = [
        SimpleNamespace(
            value=v, runs=3, mean=m, std=0.01, best=m + 0.01, mean_seconds=4.0, params=p
        )
        for v, m, p in ((1, 0.8, 1200), (2, 0.85, 2400))
    ]
    text = render(views.sweep_table("digits-sweep-n_conv", "n_conv", rows))
    assert "0.8500 ± 0.0100" in text and "2,400" in text and "4.0 s" in text


def test_the_spaces_view_shows_the_searched_part_beside_the_full_range():
    from spaces import describe_spaces

    text = render(*views.spaces_view(describe_spaces()[:1]))
    n_conv = next(line for line in text.splitlines() if "n_conv" in line)
    assert "1..10" in n_conv and "2..8" in n_conv
    pool = next(line for line in text.splitlines() if line.startswith("│ pool "))
    assert "all" in pool  # every choice of pool is searched
