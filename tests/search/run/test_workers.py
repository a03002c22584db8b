"""The trial loop: one failure fails one trial, whatever raised it, and the worker goes on."""

from datetime import UTC, datetime, timedelta

import optuna
import pytest
from optuna.trial import TrialState

from search.config import SearchConfig
from search.run import workers
from search.run.deadline import set_deadline
from search.run.progress import Progress
from search.study import open_study
from search.vocabulary import FAIL_REASON_ATTR
from storage import open_storage
from storage.outage import is_storage_failure


@pytest.mark.parametrize(
    "error, reason",
    [
        (RuntimeError("Keras says no"), "RuntimeError: Keras says no"),
        (MemoryError(), "MemoryError"),
        (ValueError("first line\nsecond line"), "ValueError: first line"),
    ],
)
def test_any_exception_in_a_trial_fails_that_trial_with_its_reason(sqlite_url, error, reason):
    config = SearchConfig("digits", trials=3, pruner="none")
    study = open_study(config, open_storage(sqlite_url))
    calls = []

    def objective(trial: optuna.Trial) -> float:
        calls.append(trial.number)
        x = trial.suggest_float("x", 0, 1)
        if len(calls) == 1:
            raise error
        return x

    summary = workers.run_until_budget(study, objective, config, Progress(quiet=True))
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert study.trials[0].user_attrs[FAIL_REASON_ATTR] == reason
    # a failure of the objective counts: the worker ran the budget, no more
    assert summary.finished == 3 and summary.stopped_by == "budget"


def test_a_storage_failure_inside_a_trial_is_no_failed_trial_but_an_outage(sqlite_url):
    import sqlalchemy.exc

    config = SearchConfig("digits", trials=1, pruner="none")
    study = open_study(config, open_storage(sqlite_url))
    error = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
    assert is_storage_failure(error)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        workers._guarded(lambda trial: (_ for _ in ()).throw(error), study.ask())


@pytest.mark.parametrize(
    "finished, deadline_in, reason",
    [(2, None, "budget"), (1, None, "exhausted"), (1, -60, "deadline"), (1, 3600, "exhausted")],
)
def test_a_run_on_several_gpu_slots_says_why_its_workers_stopped(
    sqlite_url, tmp_path, monkeypatch, finished, deadline_in, reason
):
    config = SearchConfig("digits", trials=2, pruner="none")
    study = open_study(config, open_storage(sqlite_url))
    if deadline_in is not None:
        set_deadline(study, datetime.now(UTC) + timedelta(seconds=deadline_in))

    def workers_ran(*args, **kwargs) -> None:
        for _ in range(finished):
            study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=0.5))

    monkeypatch.setattr(workers, "run_gpu_workers", workers_ran)
    slots = [{"CUDA_VISIBLE_DEVICES": "0"}, {"CUDA_VISIBLE_DEVICES": "1"}]
    summary = workers.join(config.study, sqlite_url, str(tmp_path), Progress(quiet=True), slots)
    assert (summary.finished, summary.stopped_by) == (finished, reason)
