"""An Optuna SQLite file read with Python's own sqlite3: its checks, and a read-only storage.

Opening Optuna's RDBStorage costs SQLAlchemy's ORM and Alembic's schema check, about 0.6 s here
(more than `import optuna` itself), on every start of a command that only reads. On a file whose
schema is the one this Optuna writes (`OPTUNA_SCHEMA`), `SQLiteReader` reads the same tables
through the standard library and builds the same `FrozenStudy` and `FrozenTrial` objects, as
Optuna's RDBStorage does (optuna/storages/_rdb/storage.py, `_build_frozen_trial_from_trial_model`).
Any other schema goes through RDBStorage, which upgrades it or says how.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sqlite3
from collections import defaultdict
from collections.abc import Container, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import optuna
from optuna.distributions import json_to_distribution
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

from errors import RunError
from storage.writable import check_store_file

OPTUNA_SCHEMA = "v3.2.0.a"  # Alembic's head revision in Optuna 5.0 (a test checks it)
LOCK_SECONDS = 60
_STORED_FLOATS = {"INF_POS": float("inf"), "INF_NEG": float("-inf"), "NAN": float("nan")}


def connect_read_only(path: Path, lock_seconds: float = LOCK_SECONDS) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=lock_seconds, check_same_thread=False)


def check_intact(path: Path) -> None:
    """A RunError naming `path` when SQLite finds damaged pages in it. Optuna reads only a few
    tables when it opens a database, so damage elsewhere would otherwise surface mid-run."""
    try:
        with contextlib.closing(connect_read_only(path)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        problems = [str(e)]
    if problems != ["ok"]:
        detail = " ".join(problems[0].split())
        raise RunError(
            f"the database {path} is damaged ({detail}); restore it from a backup, or save what "
            f"is readable with `sqlite3 {path} .recover`"
        )


def schema_version(path: Path) -> str | None:
    """The Alembic revision of the Optuna schema in `path`; None when it holds no Optuna tables."""
    with contextlib.closing(connect_read_only(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "studies" not in tables:
            return None
        if "alembic_version" not in tables:
            return ""
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else ""


def checked_schema(path: Path, read_only: bool) -> str | None:
    """The schema version of the store file `path` (`schema_version`; None before it exists)
    once it passed the checks that give a clear message: a read-only command needs it to exist,
    a writing one its folder writable, and either needs it intact."""
    check_store_file(path, "database", read_only, label="the study database")
    if not path.is_file():
        return None
    check_intact(path)
    return schema_version(path)


def reader_for(url: str) -> SQLiteReader | None:
    """A `SQLiteReader` for `sqlite:///FILE` when the file is intact and holds this Optuna's
    schema; None for other URL forms and schemas, which Optuna's RDBStorage then opens or
    explains. Raises what `open_storage` documents for a missing, unreadable or damaged file."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or {"?", "%"} & set(url) or url == f"{prefix}:memory:":
        return None
    path = Path(url[len(prefix) :]).expanduser()
    return SQLiteReader(path) if checked_schema(path, read_only=True) == OPTUNA_SCHEMA else None


class SQLiteReader(optuna.storages.BaseStorage):
    """Optuna's tables in a SQLite file, read-only, without SQLAlchemy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect_read_only(path)

    def _rows(self, query: str, *args: Any) -> list[tuple]:
        return self._db.execute(query, args).fetchall()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: a trial that a running study finishes meanwhile is seen
        either before or after, never with its state from one and its values from the other."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("ROLLBACK")

    def _study_row(self, study_id: int) -> tuple:
        rows = self._rows("SELECT study_name FROM studies WHERE study_id = ?", study_id)
        if not rows:
            raise KeyError(f"No study with study_id {study_id} exists.")
        return rows[0]

    def get_study_id_from_name(self, study_name: str) -> int:
        rows = self._rows("SELECT study_id FROM studies WHERE study_name = ?", study_name)
        if not rows:
            raise KeyError(f"No such study {study_name}.")
        return rows[0][0]

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._study_row(study_id)[0]

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        self._study_row(study_id)
        query = "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective"
        return [StudyDirection[name] for (name,) in self._rows(query, study_id)]

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._study_attrs("study_user_attributes", study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._study_attrs("study_system_attributes", study_id)

    def _study_attrs(self, table: str, study_id: int) -> dict[str, Any]:
        self._study_row(study_id)
        rows = self._rows(f"SELECT key, value_json FROM {table} WHERE study_id = ?", study_id)
        return {key: json.loads(value) for key, value in rows}

    def get_all_studies(self) -> list[FrozenStudy]:
        directions: dict[int, list] = defaultdict(list)
        user_attrs: dict[int, dict] = defaultdict(dict)
        system_attrs: dict[int, dict] = defaultdict(dict)
        query = "SELECT study_id, direction FROM study_directions ORDER BY objective"
        for study_id, name in self._rows(query):
            directions[study_id].append(StudyDirection[name])
        for table, attrs in (
            ("study_user_attributes", user_attrs),
            ("study_system_attributes", system_attrs),
        ):
            query = f"SELECT study_id, key, value_json FROM {table}"
            for study_id, key, value in self._rows(query):
                attrs[study_id][key] = json.loads(value)
        return [
            FrozenStudy(
                study_name=name,
                direction=None,
                directions=directions[study_id],
                user_attrs=user_attrs[study_id],
                system_attrs=system_attrs[study_id],
                study_id=study_id,
            )
            for study_id, name in self._rows("SELECT study_id, study_name FROM studies ORDER BY 1")
        ]

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        query = "SELECT trial_id FROM trials WHERE study_id = ? AND number = ?"
        rows = self._rows(query, study_id, trial_number)
        if not rows:
            raise KeyError(f"No trial with trial number {trial_number} exists in study {study_id}.")
        return rows[0][0]

    def get_trial(self, trial_id: int) -> FrozenTrial:
        trials = self._trials("trial_id = ?", trial_id)
        if not trials:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        return trials[0]

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        self._study_row(study_id)
        if states is None:
            return self._trials("study_id = ?", study_id)
        names = [state.name for state in TrialState if state in states]
        marks = ", ".join("?" * len(names))
        return self._trials(f"study_id = ? AND state IN ({marks})", study_id, *names)

    def _trials(self, where: str, *args: Any) -> list[FrozenTrial]:
        """The trials matching `where` (on the trials table, with `args` for its ?), in
        trial_id order, each with its params, values, attributes and intermediate values."""
        with self._snapshot():
            return self._read_trials(where, *args)

    def _read_trials(self, where: str, *args: Any) -> list[FrozenTrial]:
        ids = f"SELECT trial_id FROM trials WHERE {where}"

        def per_trial(query: str) -> dict[int, list[tuple]]:
            found: dict[int, list[tuple]] = defaultdict(list)
            where_ids = f"{query} WHERE trial_id IN ({ids}) ORDER BY rowid"
            for trial_id, *rest in self._rows(where_ids, *args):
                found[trial_id].append(tuple(rest))
            return found

        params = per_trial(
            "SELECT trial_id, param_name, param_value, distribution_json FROM trial_params"
        )
        values = per_trial("SELECT trial_id, objective, value, value_type FROM trial_values")
        steps = per_trial(
            "SELECT trial_id, step, intermediate_value, intermediate_value_type "
            "FROM trial_intermediate_values"
        )
        user = per_trial("SELECT trial_id, key, value_json FROM trial_user_attributes")
        system = per_trial("SELECT trial_id, key, value_json FROM trial_system_attributes")
        query = (
            "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials "
            f"WHERE {where} ORDER BY trial_id"
        )
        trials = []
        for trial_id, number, state, started, completed in self._rows(query, *args):
            distributions = {name: json_to_distribution(text) for name, _, text in params[trial_id]}
            objectives = sorted(values[trial_id])
            trials.append(
                FrozenTrial(
                    number=number,
                    state=TrialState[state],
                    value=None,
                    values=[_stored(v, kind) for _, v, kind in objectives] or None,
                    datetime_start=_local(started),
                    datetime_complete=_local(completed),
                    params={
                        name: distributions[name].to_external_repr(value)
                        for name, value, _ in params[trial_id]
                    },
                    distributions=distributions,
                    user_attrs={k: json.loads(v) for k, v in user[trial_id]},
                    system_attrs={k: json.loads(v) for k, v in system[trial_id]},
                    intermediate_values={s: _stored(v, kind) for s, v, kind in steps[trial_id]},
                    trial_id=trial_id,
                )
            )
        return trials

    def create_new_study(self, directions, study_name=None) -> NoReturn:
        self._read_only()

    def delete_study(self, study_id) -> NoReturn:
        self._read_only()

    def set_study_user_attr(self, study_id, key, value) -> NoReturn:
        self._read_only()

    def set_study_system_attr(self, study_id, key, value) -> NoReturn:
        self._read_only()

    def create_new_trial(self, study_id, template_trial=None) -> NoReturn:
        self._read_only()

    def set_trial_param(self, trial_id, param_name, param_value_internal, distribution) -> NoReturn:
        self._read_only()

    def set_trial_state_values(self, trial_id, state, values=None) -> NoReturn:
        self._read_only()

    def set_trial_intermediate_value(self, trial_id, step, intermediate_value) -> NoReturn:
        self._read_only()

    def set_trial_user_attr(self, trial_id, key, value) -> NoReturn:
        self._read_only()

    def set_trial_system_attr(self, trial_id, key, value) -> NoReturn:
        self._read_only()

    def _read_only(self) -> NoReturn:
        # What RDBStorage raises on a file opened read-only.
        raise optuna.exceptions.StorageInternalError(f"{self.path} was opened read-only")


def _stored(value: float | None, kind: str) -> float:
    """A value as Optuna stores it: a float, or None with its kind for infinities and NaN."""
    return value if kind == "FINITE" else _STORED_FLOATS[kind]


def _local(stored: str | None) -> datetime.datetime | None:
    """Optuna stores naive UTC and hands out naive local time."""
    if stored is None:
        return None
    utc = datetime.datetime.fromisoformat(stored).replace(tzinfo=datetime.UTC)
    return utc.astimezone().replace(tzinfo=None)
