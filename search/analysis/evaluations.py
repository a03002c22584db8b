"""Test evaluations stored with a study, and the trial a command acts on; no Keras here.

`evaluate` stores each result twice: as the study user attr `test_evaluation:<trial number>`
(data for `report` and scripts; finished trials cannot take new user attrs in Optuna) and as the
study's optuna-dashboard note, a Markdown table the dashboard shows on the study's page.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError

EVALUATION_PREFIX = "test_evaluation:"


def stored_evaluations(study: optuna.Study) -> list[dict[str, Any]]:
    """The evaluations `evaluate` stored with the study, by trial number."""
    found = [v for k, v in study.user_attrs.items() if k.startswith(EVALUATION_PREFIX)]
    return sorted(found, key=lambda e: e["trial"])


def store_evaluation(study: optuna.Study, evaluation: dict[str, Any]) -> None:
    """Keep `evaluation` (an `Evaluation.to_dict()`) with the study, and rewrite the study's
    dashboard note so it shows every evaluation as Markdown tables."""
    from optuna_dashboard import save_note

    study.set_user_attr(f"{EVALUATION_PREFIX}{evaluation['trial']}", evaluation)
    save_note(study, evaluations_markdown(stored_evaluations(study)))


def evaluations_markdown(evaluations: list[dict[str, Any]]) -> str:
    """Markdown for the dashboard note: per trial, accuracy, per-class metrics, confusion."""
    lines = ["# Test evaluation", ""]
    for e in evaluations:
        names = e["class_names"]
        lines += [
            f"## Trial {e['trial']} ({e['model_source']})",
            "",
            f"Test accuracy **{e['accuracy']:.4f}** on {e['test_images']} images.",
            "",
            "| class | precision | recall | F1 | support |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1-score']:.4f} | "
            f"{int(m['support'])} |"
            for name, m in e["per_class"].items()
        ]
        lines += [
            "",
            "Confusion matrix (rows: true class, columns: predicted):",
            "",
            "| true \\ predicted | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        lines += [
            f"| {name} | " + " | ".join(map(str, row)) + " |"
            for name, row in zip(names, e["confusion"], strict=True)
        ]
        lines.append("")
    return "\n".join(lines)


def choose_trial(study: optuna.Study, number: int | None, verb: str = "evaluate") -> FrozenTrial:
    """Trial `number`, or the best (the most accurate of a Pareto front) when None; a
    UsageError when it is missing or did not complete. `verb` names the command in messages."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if number is None:
        if not complete:
            raise UsageError(
                f"study {study.study_name!r} has no completed trial to {verb}; "
                "run `optimize` on it first"
            )
        return max(study.best_trials, key=lambda t: t.values[0])
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    if number not in by_number or by_number[number].state != TrialState.COMPLETE:
        state = by_number[number].state.name.lower() if number in by_number else "missing"
        examples = ", ".join(str(t.number) for t in complete[:5]) or "none yet"
        raise UsageError(
            f"trial {number} of {study.study_name!r} is {state}; {verb} a completed trial "
            f"(for example {examples}) or leave out --trial for the best"
        )
    return by_number[number]
