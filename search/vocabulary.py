"""The trial vocabulary: every attribute name cnnsearch stores on a study or a trial, and how a
trial counts toward the study's budget.

Attribute names are stored data (the dashboard, `best`, `report` and older studies read them),
so they are spelled once, here, and everything that reads or writes trials imports them. This
module imports nothing of cnnsearch's: every other module may use it.
"""

from __future__ import annotations

from optuna.trial import FrozenTrial, TrialState

# Study user attrs.
CONFIG_ATTR = "cnnsearch_config"  # the SearchConfig the study was made with
SWEEP_ATTR = "cnnsearch_sweep"  # a sweep's grid: {"dimension", "values", "repeats"}
DEADLINE_ATTR = "cnnsearch_deadline"  # ISO-8601 UTC, obeyed by every worker
SEARCH_UNTIL_ATTR = "cnnsearch_search_until"  # then the time left trains the best on

# Trial system attrs.
BEAT_ATTR = "cnnsearch:heartbeat"  # time.time() of the trial's last beat
CLAIM_ATTR = "cnnsearch:claim"  # the number of a trial that passed the repeat check: it trains

# Trial user attrs: where a trial came from and how it ended.
PROPOSAL_ATTR = "proposal"  # where a trial's configuration came from: a start, a greedy step
CONTINUES_ATTR = "continues"  # a trial that trains trial N's model on
DUPLICATE_ATTR = "duplicate_of"  # a trial that repeated trial N's configuration, untrained
OVER_BUDGET_ATTR = "over_budget"  # lost the race for the study's last slots
STOPPED_BY_ATTR = "stopped_by"  # "deadline" or "cost": what stopped a pruned trial
STOP_REASON_ATTR = "stop_reason"  # the cost guard's reason, in words
FAIL_REASON_ATTR = "fail_reason"  # why the objective itself failed the trial

# Trial user attrs: what training measured.
N_PARAMS_ATTR = "n_params"
EPOCHS_RUN_ATTR = "epochs_run"
TRAIN_SECONDS_ATTR = "train_seconds"
SECONDS_PER_EPOCH_ATTR = "seconds_per_epoch"
FIRST_EPOCH_ATTR = "first_epoch_seconds"
PROJECTED_ATTR = "projected_seconds"  # the cost guard's projection of the whole training
VAL_LOSS_ATTR = "val_loss"
CURVE_ATTR = "val_accuracy_curve"
RSS_ATTR = "rss_mb"

# Trial user attrs: where and how it trained.
SEED_ATTR = "seed"  # the seed of the trial's weights and batch order
DEVICE_ATTR = "device"
BACKEND_ATTR = "backend"
PRECISION_ATTR = "precision"
HOST_ATTR = "host"
N_CLASSES_ATTR = "n_classes"  # chance is 1/n_classes

# Trial user attrs: the artifact store.
MODEL_ARTIFACT_ATTR = "model_artifact_id"
CURVE_ARTIFACT_ATTR = "curve_artifact_id"
ARTIFACT_ERROR_ATTR = "artifact_error"

# User attrs of the observations `importance` and `report` assemble from trials (never stored).
TRIALS_ATTR = "merged_trials"  # the trial numbers behind one observation
PRUNED_ATTR = "pruned"  # an observation made only of pruned trials

ACTIVE = (TrialState.RUNNING, TrialState.WAITING)


def skipped(trial: FrozenTrial) -> bool:
    """Whether a trial was skipped untrained: a repeat of an earlier configuration, or one that
    lost the race for the study's last slots. Optuna stores it as failed; nothing went wrong."""
    return trial.state == TrialState.FAIL and bool(
        {DUPLICATE_ATTR, OVER_BUDGET_ATTR} & trial.user_attrs.keys()
    )


def counts(trial: FrozenTrial) -> bool:
    """Whether a trial counts towards the budget: completed and pruned ones, and failures of
    the objective itself (a spec that cannot work). Trials failed by a lost worker or Ctrl-C
    do not: the heartbeat retries the former, and the budget simply runs on past the latter.
    Nor do trials that trained nothing: repeats of an earlier configuration, and trials the
    deadline stopped inside their first epoch; nor the continuation of the best trial that a
    timed run ends with (`search.run.continuation`), which trains no new configuration."""
    attrs = trial.user_attrs
    if CONTINUES_ATTR in attrs:
        return False
    if trial.state == TrialState.COMPLETE:
        return True
    if trial.state == TrialState.PRUNED:
        return not (attrs.get(STOPPED_BY_ATTR) == "deadline" and not attrs.get(EPOCHS_RUN_ATTR))
    return trial.state == TrialState.FAIL and FAIL_REASON_ATTR in attrs
