import optuna
import pytest
from optuna.trial import TrialState

from search.config import SearchConfig
from search.run import workers
from search.run.budget import OverBudget, claim_slot
from search.run.progress import Progress
from search.study import open_study
from search.vocabulary import OVER_BUDGET_ATTR
from storage import open_storage


def running_study(complete: int, running: int) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for _ in range(complete):
        study.add_trial(optuna.create_trial(value=0.5, params={}, distributions={}))
    for _ in range(running):
        study.ask()  # another worker's trial, under way
    return study


def test_a_claim_leaves_a_slot_for_each_other_running_trial():
    study = running_study(complete=3, running=2)
    # 3 finished + 2 running + this one hold 6 of 10; the 2 other workers may start one more each
    assert claim_slot(study.ask(), budget=10) == 2


def test_a_trial_past_the_budget_gives_its_slot_back():
    study = running_study(complete=3, running=1)
    trial = study.ask()
    with pytest.raises(OverBudget):
        claim_slot(trial, budget=4)
    assert trial.user_attrs[OVER_BUDGET_ATTR] is True


def test_one_worker_reads_the_study_only_at_its_start_and_its_end(sqlite_url, monkeypatch):
    reads = []
    counted = workers.slot_holders
    monkeypatch.setattr(workers, "slot_holders", lambda study: reads.append(1) or counted(study))
    config = SearchConfig("digits", trials=10, pruner="none")
    study = open_study(config, open_storage(sqlite_url))

    summary = workers.run_until_budget(
        study, lambda t: t.suggest_float("x", 0, 1), config, Progress(quiet=True)
    )

    assert summary.finished == 10 and summary.stopped_by == "budget"
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 10  # none over budget
    assert len(reads) == 2
