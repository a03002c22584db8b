"""The read-only SQLite reader sees exactly what Optuna's RDBStorage sees, and steps aside for
any file it does not know."""

import math
import shutil
import sqlite3

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from errors import RunError, UsageError
from storage import open_storage
from storage.sqlite_file import OPTUNA_SCHEMA, SQLiteReader, reader_for


def _varied_database(url: str) -> None:
    """Two studies holding every kind of thing Optuna stores."""
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name="single", storage=storage, direction="maximize")
    study.set_user_attr("config", {"dataset": "digits", "objectives": ["accuracy"]})
    study._storage.set_study_system_attr(study._study_id, "note", [1, "two", None])
    distributions = {
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "n": IntDistribution(1, 9, step=2),
        "act": CategoricalDistribution(["relu", None, True, 3, 0.5]),
    }
    for i, state in enumerate(
        [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.COMPLETE]
    ):
        study.add_trial(
            create_trial(
                state=state,
                value=[0.5, None, None, math.inf][i],
                params={"lr": 10 ** -(i + 1), "n": 2 * i + 1, "act": [None, True, 3, 0.5][i]},
                distributions=distributions,
                user_attrs={"epochs_run": i, "nested": {"curve": [0.1, 0.2]}},
                system_attrs={"sys": f"s{i}"},
                intermediate_values={1: 0.1, 2: math.nan, 3: -math.inf} if i == 1 else {},
            )
        )
    study.ask({"lr": distributions["lr"]})  # a running trial
    study.enqueue_trial({"n": 3})  # a waiting one
    other = optuna.create_study(
        study_name="pareto", storage=storage, directions=["minimize", "maximize"]
    )
    other.add_trial(create_trial(values=[1.0, -math.inf], params={}, distributions={}))


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (FrozenTrial's own == says NaN differs from itself)."""
    return repr(vars(a)) == repr(vars(b))


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _varied_database(url)
    return url


def test_optuna_schema_is_the_head_this_optuna_writes(database):
    assert optuna.storages.RDBStorage(database).get_head_version() == OPTUNA_SCHEMA


def test_reader_reads_what_rdbstorage_reads(database):
    rdb = optuna.storages.RDBStorage(database)
    reader = open_storage(database, read_only=True)
    assert isinstance(reader, SQLiteReader)
    studies = zip(reader.get_all_studies(), rdb.get_all_studies(), strict=True)
    assert [_same(a, b) for a, b in studies] == [True, True]
    for name in ("single", "pareto"):
        study_id = rdb.get_study_id_from_name(name)
        assert reader.get_study_id_from_name(name) == study_id
        assert reader.get_study_name_from_id(study_id) == name
        assert reader.get_study_directions(study_id) == rdb.get_study_directions(study_id)
        assert reader.get_study_user_attrs(study_id) == rdb.get_study_user_attrs(study_id)
        assert reader.get_study_system_attrs(study_id) == rdb.get_study_system_attrs(study_id)
        ours, theirs = reader.get_all_trials(study_id), rdb.get_all_trials(study_id)
        assert len(ours) == len(theirs) > 0
        assert all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
        number = theirs[-1].number
        trial_id = rdb.get_trial_id_from_study_id_trial_number(study_id, number)
        assert reader.get_trial_id_from_study_id_trial_number(study_id, number) == trial_id
        assert _same(reader.get_trial(trial_id), rdb.get_trial(trial_id))
    single = rdb.get_study_id_from_name("single")
    done = (TrialState.COMPLETE,)
    assert [t.number for t in reader.get_all_trials(single, states=done)] == [0, 3]
    for states in ({TrialState.PRUNED, TrialState.FAIL}, (TrialState.RUNNING,), ()):
        ours = reader.get_all_trials(single, states=states)
        assert [t.number for t in ours] == [
            t.number for t in rdb.get_all_trials(single, states=states)
        ]
    assert _same(reader.get_best_trial(single), rdb.get_best_trial(single))
    loaded = optuna.load_study(study_name="single", storage=reader)
    assert loaded.best_trial.number == 3 and loaded.user_attrs["config"]["dataset"] == "digits"


def test_reader_raises_keyerror_for_what_is_not_there(database):
    reader = open_storage(database, read_only=True)
    for read in (
        lambda: reader.get_study_id_from_name("absent"),
        lambda: reader.get_study_directions(999),
        lambda: reader.get_all_trials(999),
        lambda: reader.get_trial(999),
        lambda: reader.get_trial_id_from_study_id_trial_number(1, 999),
    ):
        with pytest.raises(KeyError):
            read()


def test_reader_never_writes(database, tmp_path):
    before = (tmp_path / "study.db").read_bytes()
    reader = open_storage(database, read_only=True)
    with pytest.raises(optuna.exceptions.StorageInternalError, match="read-only"):
        optuna.create_study(study_name="new", storage=reader)
    with pytest.raises(optuna.exceptions.StorageInternalError, match="read-only"):
        reader.set_trial_user_attr(1, "key", 1)
    assert (tmp_path / "study.db").read_bytes() == before


def test_another_schema_goes_through_rdbstorage(database, tmp_path, monkeypatch):
    old = tmp_path / "old.db"
    shutil.copy(tmp_path / "study.db", old)
    with sqlite3.connect(old) as db:
        db.execute("UPDATE alembic_version SET version_num = 'v3.0.0.d'")
    assert reader_for(f"sqlite:///{old}") is None
    monkeypatch.chdir(tmp_path)
    assert reader_for("sqlite:///study.db") is not None  # relative to the working folder
    assert reader_for(f"{database}?timeout=5") is None  # options: SQLAlchemy's to honour


def test_missing_and_damaged_files_get_the_same_messages(tmp_path):
    with pytest.raises(UsageError, match="no database at"):
        open_storage(f"sqlite:///{tmp_path / 'absent.db'}", read_only=True)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    with pytest.raises(RunError, match="damaged"):
        open_storage(f"sqlite:///{damaged}", read_only=True)
    assert not (tmp_path / "absent.db").exists()
