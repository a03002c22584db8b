"""open_storage and open_artifact_store on bad ground: silent ports, other protocols, damaged,
missing and read-only files. Each failure is one line naming what failed, password masked."""

import shutil
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from errors import RunError, UsageError
from storage import mask_password, open_artifact_store, open_storage
from tests.storage.conftest import server_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "cannot open postgresql+psycopg://u:secret@127.0.0.1:1/db: refused",
            "cannot open postgresql+psycopg://u:***@127.0.0.1:1/db: refused",
        ),
        ("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db"),  # an unencoded @
        ("mysql+pymysql://u:a:b/c@h/db", "mysql+pymysql://u:***@h/db"),
        ("[bold]redis://:pw@h:6379/0[/] ok", "[bold]redis://:***@h:6379/0[/] ok"),
        (
            "mysql+pymysql://u@h/db?charset=utf8&sslpassword=k3y",
            "mysql+pymysql://u@h/db?charset=utf8&sslpassword=***",
        ),
        (
            "postgresql://h/db?password=pw&sslmode=require",
            "postgresql://h/db?password=***&sslmode=require",
        ),
        ("host=db user=u password=pw dbname=x", "host=db user=u password=*** dbname=x"),
        ("journal:///shared/a@b:c.log", "journal:///shared/a@b:c.log"),
        ("sqlite:///study.db and grpc://h:13000", "sqlite:///study.db and grpc://h:13000"),
    ],
)
def test_mask_password_hides_every_secret_and_nothing_else(text, masked):
    assert mask_password(text) == masked


class Listener:
    """A TCP port on 127.0.0.1 that accepts connections and then says `reply` (or nothing)."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply, self.held = reply, []
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)
            if self.reply:
                connection.sendall(self.reply)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


@pytest.fixture(params=[b"", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"])
def listener(request) -> Iterator[Listener]:
    """A silent port, then one that speaks HTTP."""
    server = Listener(request.param)
    yield server
    server.close()


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql", "redis"])
def test_a_port_that_stays_silent_or_speaks_another_protocol_is_one_clear_line(listener, scheme):
    url = f"{scheme}://user:s3cret@127.0.0.1:{listener.port}/db"
    with pytest.raises(RunError) as failed:
        open_storage(url)
    message = str(failed.value)
    assert message.startswith(f"cannot open storage {scheme}://user:***@127.0.0.1:")
    assert "\n" not in message and "s3cret" not in message


@pytest.mark.slow
def test_a_grpc_port_without_a_proxy_is_one_clear_line():
    with pytest.raises(RunError, match="no storage proxy answered there") as failed:
        open_storage("grpc://127.0.0.1:1")
    assert "storage-proxy" in str(failed.value) and "\n" not in str(failed.value)


def test_a_bad_heartbeat_setting_is_a_usage_error_naming_the_variable(tmp_path, monkeypatch):
    for bad in ("soon", "0", "-3", "1.5"):
        monkeypatch.setenv("CNNSEARCH_HEARTBEAT_SECONDS", bad)
        with pytest.raises(UsageError, match=f"CNNSEARCH_HEARTBEAT_SECONDS='{bad}'.*whole number"):
            open_storage(f"sqlite:///{tmp_path / 'study.db'}")


@pytest.mark.parametrize("scheme", ["sqlite:///", "journal://"])
def test_reading_a_missing_file_is_a_usage_error_and_creates_nothing(tmp_path, scheme):
    missing = tmp_path / "typo.db"
    with pytest.raises(UsageError, match=f"no (database|journal) at {missing}"):
        open_storage(f"{scheme}{missing}", read_only=True)
    assert list(tmp_path.iterdir()) == []


def make_study(path: Path, trials: int = 1) -> str:
    url = f"sqlite:///{path}"
    study = optuna.create_study(study_name="s", storage=url)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=trials)
    study._storage._backend.engine.dispose()
    return url


def test_a_read_only_sqlite_storage_reads_and_refuses_writes(tmp_path):
    url = make_study(tmp_path / "study.db")
    storage = open_storage(url, read_only=True)
    study = optuna.load_study(study_name="s", storage=storage)
    assert len(study.trials) == 1
    with pytest.raises(optuna.exceptions.StorageInternalError):
        study.set_user_attr("x", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]


def test_a_file_that_is_not_an_optuna_database_is_refused_when_reading(tmp_path):
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(UsageError, match="holds no studies"):
        open_storage(f"sqlite:///{tmp_path / 'empty.db'}", read_only=True)


def test_a_sqlite_file_with_damaged_pages_is_one_line_naming_it(tmp_path):
    path = tmp_path / "study.db"
    make_study(path, trials=200)
    data = bytearray(path.read_bytes())
    data[-3 * 4096 :] = b"\xff" * (3 * 4096)  # the last pages: trial rows, not the schema
    path.write_bytes(bytes(data))
    for read_only in (False, True):
        with pytest.raises(RunError, match="is damaged") as failed:
            open_storage(f"sqlite:///{path}", read_only=read_only)
        assert str(path) in str(failed.value) and "\n" not in str(failed.value)


def test_an_artifact_folder_that_cannot_be_created_is_one_line_naming_it(tmp_path):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(RunError, match="--artifacts") as failed:
        open_artifact_store(tmp_path / "file" / "artifacts")
    assert str(tmp_path / "file" / "artifacts") in str(failed.value)


def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode == 0


def on_read_only_folder(folder: Path, staged: Path, *command: str) -> subprocess.CompletedProcess:
    """Run `command` where `folder` is a read-only file system holding a copy of `staged`: a
    tmpfs mounted in a mount namespace of its own, so no privilege is needed."""
    if not unshare_works():
        pytest.skip("needs unshare -Urm (user namespaces) to mount a read-only file system")
    folder.mkdir()
    script = (
        f'mount -t tmpfs none "{folder}" && cp -a "{staged}/." "{folder}/" && '
        f'mount -o remount,ro "{folder}" && exec "$@"'
    )
    return subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script, "sh", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_study_on_a_read_only_file_system_is_read_but_not_written(tmp_path):
    staged = tmp_path / "staged"
    staged.mkdir()
    make_study(staged / "study.db")
    read_only = tmp_path / "ro"
    url = f"sqlite:///{read_only / 'study.db'}"
    probe = (
        "import sys\n"
        "from errors import CnnsearchError\n"
        "from storage import open_artifact_store, open_storage\n"
        "from search.analysis.summary import list_studies\n"
        f"print(list_studies({url!r})[0]['study'])\n"
        "for attempt in (lambda: open_storage(sys.argv[1]), "
        "lambda: open_artifact_store(sys.argv[2])):\n"
        "    try:\n"
        "        attempt()\n"
        "    except CnnsearchError as e:\n"
        "        print(type(e).__name__, e)\n"
    )
    done = on_read_only_folder(
        read_only, staged, sys.executable, "-c", probe, url, str(read_only / "artifacts")
    )
    assert done.returncode == 0, done.stderr
    study, database, artifacts = done.stdout.splitlines()
    assert study == "s"
    assert database.startswith(f"RunError cannot write the study database {read_only}/study.db")
    assert "Read-only file system" in database
    assert artifacts.startswith(f"RunError --artifacts {read_only}/artifacts: cannot write there")


@pytest.mark.slow
def test_an_unwritable_cache_folder_is_one_line_naming_it(tmp_path):
    from testing.upstream_files import write_image_folder

    staged = tmp_path / "staged"
    staged.mkdir()
    images = write_image_folder(tmp_path / "images", {"a": 3, "b": 3})
    cache = tmp_path / "ro"
    probe = (
        "import os, sys\n"
        "from errors import RunError\n"
        "from search.data import load\n"
        f"os.environ['CNNSEARCH_CACHE'] = {str(cache / 'cache')!r}\n"
        "try:\n"
        f"    load({'folder:' + str(images)!r})\n"
        "except RunError as e:\n"
        "    print(e)\n"
    )
    done = on_read_only_folder(cache, staged, sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"cannot write the decoded-image cache {cache}/cache")
    assert "CNNSEARCH_CACHE" in done.stdout


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:pa@ss@127.0.0.1/test",
        "mysql+pymysql://u:pa@ss@127.0.0.1:3306/test",
        "mysql+pymysql://u:p/a@s/s@127.0.0.1/test",
        "redis://:pa@ss@127.0.0.1:6379/0",
    ],
)
def test_a_password_with_an_unencoded_at_is_refused_before_connecting(url):
    # The drivers would name the host they tried, 'ss@127.0.0.1', in their own error.
    with pytest.raises(UsageError, match="percent-encode an '@'.*pa%40ss") as refused:
        open_storage(url)
    assert "ss@" not in str(refused.value) and "s/s" not in str(refused.value)


@pytest.mark.parametrize("scheme", ["sqlite:///", "journal://"])
def test_an_at_in_a_file_path_is_no_password(tmp_path, scheme):
    folder = tmp_path / "a@b@c"
    folder.mkdir()
    open_storage(f"{scheme}{folder / 'study.db'}")
    assert (folder / "study.db").exists()


@pytest.mark.services
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_percent_encoded_at_in_a_password_opens_the_database(kind):
    url, drop = server_database(kind)
    try:
        user = "cns_at"
        if kind == "mysql":
            import pymysql

            admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
            database = url.rsplit("/", 1)[1]
            admin.cursor().execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY 'pa@ss'")
            admin.cursor().execute(f"GRANT ALL ON {database}.* TO '{user}'@'%'")
            url = url.replace("root@", f"{user}:pa%40ss@")
        else:  # the local server trusts 127.0.0.1: any password is taken
            url = url.replace("postgres@", "postgres:pa%40ss@")
        storage = open_storage(url)
        optuna.create_study(study_name="s", storage=storage)
        assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == ["s"]
        storage.engine.dispose()
    finally:
        drop()


def test_opening_a_storage_quiets_only_the_experimental_features_cnnsearch_relies_on(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_storage(f"journal://{tmp_path / 'study.log'}")
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
        warnings.warn(
            "NewSampler is experimental", optuna.exceptions.ExperimentalWarning, stacklevel=1
        )
    assert [str(w.message) for w in caught] == ["NewSampler is experimental"]
