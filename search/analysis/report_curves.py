"""The learning-curves section of a report: validation accuracy per epoch of the most accurate
trials, drawn by Optuna's intermediate-values plot with each curve named by its trial number."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.analysis.report_blocks import Plot, Section

TOP_CURVES = 10  # completed (and, with pruned trials, pruned) trials in the learning curves


class _TrialsView:
    """The study as Optuna's plots see it, holding only `trials`: the plots label each curve
    with the trial's own number (a copy into a new study would renumber them from 0)."""

    def __init__(self, study: optuna.Study, trials: list[FrozenTrial]) -> None:
        self._study, self._trials = study, trials

    def get_trials(
        self, deepcopy: bool = True, states: Iterable[TrialState] | None = None
    ) -> list[FrozenTrial]:
        return [t for t in self._trials if states is None or t.state in states]

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def learning_curves(study: optuna.Study, with_pruned: bool) -> Section:
    """Validation accuracy per epoch (the intermediate values) of the most accurate completed
    trials, and with `with_pruned` of the pruned trials that reached the highest accuracy."""
    complete = _top(study, TrialState.COMPLETE)
    pruned = _top(study, TrialState.PRUNED) if with_pruned else []
    shown = complete + pruned
    if not shown:
        return Section("Learning curves", ["No trial reported a learning curve."])
    text = f"Validation accuracy per epoch of the {len(complete)} most accurate completed trials"
    if pruned:
        text += f" and of the {len(pruned)} best pruned trials (dotted, ending where pruned)"
    text += f"; each curve is labelled with its trial number ({', '.join(_numbers(shown))})."
    all_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    if all_pruned and not with_pruned:
        text += f" The study's {all_pruned} pruned trials are left out: --with-pruned draws them."
    return Section(
        "Learning curves",
        [text, Plot("learning_curves", lambda v: _curves(v, _TrialsView(study, shown), pruned))],
    )


def _top(study: optuna.Study, state: TrialState) -> list[FrozenTrial]:
    with_curve = [
        t for t in study.get_trials(deepcopy=False, states=(state,)) if t.intermediate_values
    ]
    return sorted(with_curve, key=lambda t: -max(t.intermediate_values.values()))[:TOP_CURVES]


def _numbers(trials: list[FrozenTrial]) -> list[str]:
    return [str(t.number) for t in trials]


def _curves(v: ModuleType, view: _TrialsView, pruned: list[FrozenTrial]) -> Any:
    """Optuna's intermediate-values plot with its axes named and the pruned curves dotted."""
    dotted = {f"Trial{t.number}" for t in pruned}
    if v is optuna.visualization:
        figure = v.plot_intermediate_values(view)
        for trace in figure.data:
            if trace.name in dotted:
                trace.line.dash = "dot"
            trace.name = trace.name.replace("Trial", "trial ")
        figure.update_layout(
            title="Learning curves",
            xaxis_title="epoch",
            yaxis_title="validation accuracy",
            showlegend=True,
        )
        last = max(t.last_step or 1 for t in view.trials)
        figure.update_xaxes(tick0=1, dtick=max(1, round(last / 10)))
        return figure
    from matplotlib.ticker import MaxNLocator

    axes = v.plot_intermediate_values(view)
    for line in axes.get_lines():
        if line.get_label() in dotted:
            line.set_linestyle(":")
        line.set_label(line.get_label().replace("Trial", "trial "))
    axes.set_title("Learning curves")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(axes.get_lines()) >= 2:
        axes.legend(bbox_to_anchor=(1.02, 1), loc="upper left", borderaxespad=0.0)
    return axes
