"""The bad-input contract (README, "What happens on bad input"): one row, one test. Each answer
is one clear line, exit 2 for usage and input or 1 for run-time failures, no traceback, and an
existing study's storage exactly as it was."""

import json

import optuna
import pytest
from typer.testing import CliRunner

from cli import app
from storage import open_storage
from tests.conftest import require_or_skip

runner = CliRunner()
TINY = [
    "--trials",
    "1",
    "--epochs",
    "1",
    "--train-size",
    "100",
    "--set",
    "n_conv=1",
    "--set",
    "filters=8",
    "--gpus",
    "none",
]


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    """A study with one finished trial, and a snapshot function of everything stored."""
    tmp_path = tmp_path_factory.mktemp("existing")
    sqlite_url = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNSEARCH_STORAGE", sqlite_url)
        patch.setenv("CNNSEARCH_ARTIFACTS", str(tmp_path / "artifacts"))
        yield from _existing(sqlite_url)


def _existing(sqlite_url):
    made = runner.invoke(app, ["optimize", "digits", *TINY])
    assert made.exit_code == 0, made.output

    def snapshot() -> str:
        storage = open_storage(sqlite_url, read_only=True)
        studies = optuna.get_all_study_summaries(storage)
        trials = [
            (t.number, t.state.name, t.values, t.params, t.user_attrs)
            for s in studies
            for t in optuna.load_study(study_name=s.study_name, storage=storage).trials
        ]
        attrs = [s.user_attrs for s in studies]
        return json.dumps([[s.study_name for s in studies], attrs, trials], default=str)

    yield snapshot


def check(args, code: int, fragment: str, snapshot=None):
    before = snapshot() if snapshot else None
    result = runner.invoke(app, args)
    output = " ".join(result.output.split())
    assert result.exit_code == code, result.output
    assert fragment in output, result.output
    assert "Traceback" not in result.output
    if snapshot:
        assert snapshot() == before, "the storage changed"


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, fragment",
    [
        (["optimize", "imagenet"], "unknown dataset 'imagenet'; choose one of"),
        (["optimize", "digits", "--space", "resnet"], "unknown space 'resnet'"),
        (["optimize", "digits", "--sampler", "grid"], "Invalid value for '--sampler'"),
        (["optimize", "digits", "--pruner", "wilcoxon"], "Invalid value for '--pruner'"),
        (["optimize", "digits", "--objectives", "accuracy,memory"], "unknown objective memory"),
        (["optimize", "digits", "--set", "depth=3"], "has no dimension 'depth'"),
        (["optimize", "digits", "--set", "n_conv=12"], "outside n_conv's range 1..10"),
        (["optimize", "digits", "--set", "n_conv=5..2"], "the range is empty"),
        (["optimize", "digits", "--set", "n_conv=three"], "n_conv takes a whole number"),
        (["optimize", "digits", "--set", "augment_flip=true"], "digits is never flipped"),
        (["evaluate", "digits-convnet", "--tta"], "mirrored image of digits can change its label"),
        (["export", "digits-convnet", "--out", "m.keras", "--tta"], "drop --tta"),
        (["optimize", "digits", "--trials", "0"], "--trials must be at least 1"),
        (
            ["optimize", "digits", "--val-fraction", "1.5"],
            "--val-fraction must lie between 0 and 1",
        ),
        (["optimize", "digits", "--study", "new", "--train-size", "100000"], "is larger than"),
        (["optimize", "digits", "--epochs", "3"], "epochs is 1 in the study but 3 here"),
        (["optimize", "digits", "--storage", "oracle://db"], "unsupported storage URL"),
        (["best", "nope"], "no study named 'nope'; studies here: digits-convnet"),
        (["worker", "nope"], "no study named 'nope'"),
        (["importance", "nope"], "no study named 'nope'"),
        (["evaluate", "nope"], "no study named 'nope'"),
        (["report", "nope", "--out", "r.html"], "no study named 'nope'"),
        (["report", "digits-convnet", "--out", "/proc/nope/r.html"], "--out"),
    ],
)
def test_usage_errors_exit_2_and_leave_the_study_alone(existing, args, fragment):
    check(args, 2, fragment, existing)


@pytest.mark.parametrize(
    "args",
    [
        ["optimize", "digits", *TINY],
        ["worker", "digits-convnet"],
        ["sweep", "digits", "--vary", "n_conv=1..2", "--repeats", "1", "--epochs", "1"],
    ],
    ids=["optimize", "worker", "sweep"],
)
def test_a_bad_machine_setting_exits_2_and_leaves_the_studies_alone(existing, monkeypatch, args):
    monkeypatch.setenv("CNNSEARCH_PRECISION", "half")
    check(args, 2, "CNNSEARCH_PRECISION='half': choose one of", existing)


@pytest.mark.parametrize(
    "args",
    [["worker", "digits-convnet"], ["optimize", "digits", *TINY]],
    ids=["worker", "optimize"],
)
def test_a_bad_heartbeat_setting_exits_2_naming_the_variable(existing, monkeypatch, args):
    monkeypatch.setenv("CNNSEARCH_HEARTBEAT_SECONDS", "soon")
    check(args, 2, "CNNSEARCH_HEARTBEAT_SECONDS='soon': give the seconds between", existing)


@pytest.mark.parametrize(
    "command", [["studies"], ["best", "digits-convnet"], ["compare", "a", "b"]]
)
def test_a_mistyped_sqlite_path_for_reading_exits_2_and_creates_no_file(tmp_path, command):
    typo = tmp_path / "tpyo.db"
    check([*command, "--storage", f"sqlite:///{typo}"], 2, f"no database at {typo}")
    assert not typo.exists()


def test_a_damaged_sqlite_file_exits_1_naming_it(tmp_path):
    path = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{path}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=200)
    study._storage._backend.engine.dispose()
    data = bytearray(path.read_bytes())
    data[-3 * 4096 :] = b"\xff" * (3 * 4096)
    path.write_bytes(bytes(data))
    for command in (["studies"], ["best", "s"]):
        check([*command, "--storage", f"sqlite:///{path}"], 1, f"the database {path} is damaged")


@pytest.mark.slow
def test_a_database_port_that_never_answers_exits_1_within_seconds():
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://u:secret@127.0.0.1:{silent.getsockname()[1]}/db"
        check(["studies", "--storage", url], 1, "cannot open storage postgresql+psycopg://u:***@")


@pytest.mark.slow
def test_a_grpc_port_without_a_proxy_exits_1_with_one_line():
    check(["studies", "--storage", "grpc://127.0.0.1:1"], 1, "no storage proxy answered there")


@pytest.mark.slow
def test_an_artifacts_folder_that_cannot_be_created_exits_1_before_a_trial(tmp_path, sqlite_url):
    (tmp_path / "file").write_text("in the way")
    artifacts = tmp_path / "file" / "artifacts"
    args = ["optimize", "digits", *TINY, "--storage", sqlite_url, "--artifacts", str(artifacts)]
    check(args, 1, f"--artifacts {artifacts}: cannot write there")
    storage = open_storage(sqlite_url, read_only=True)
    assert not [
        trial
        for summary in optuna.get_all_study_summaries(storage)
        for trial in optuna.load_study(study_name=summary.study_name, storage=storage).trials
        if trial.state != optuna.trial.TrialState.WAITING
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, file, fragment",
    [
        ("mnist", "mnist.npz", "delete it so that it is downloaded again"),
        ("cifar10", "cifar-10-python.tar.gz", "cannot read CIFAR-10"),
    ],
)
def test_a_corrupt_dataset_file_exits_1_and_creates_no_study(
    keras_home, sqlite_url, dataset, file, fragment
):
    (keras_home / "datasets" / file).write_bytes(b"not the real file")
    check(["optimize", dataset, "--storage", sqlite_url, "--gpus", "none"], 1, fragment)
    assert optuna.get_all_study_summaries(open_storage(sqlite_url)) == []


EVERY_STORAGE_COMMAND = [
    ["optimize", "digits", *TINY],
    ["worker", "s"],
    ["studies"],
    ["best", "s"],
    ["importance", "s"],
    ["report", "s", "--out", "r.html"],
    ["evaluate", "s"],
    ["export", "s", "--out", "s.keras"],
    ["compare", "s", "t"],
    ["sweep", "digits", "--vary", "n_conv=1..2", "--repeats", "1", "--epochs", "1"],
    ["dashboard"],
    ["storage-proxy"],
]


@pytest.mark.parametrize("command", EVERY_STORAGE_COMMAND, ids=lambda c: c[0])
@pytest.mark.parametrize("given", ["option", "environment"])
def test_a_password_with_an_unencoded_at_exits_2_before_connecting(monkeypatch, command, given):
    # psycopg would print "failed to resolve host 'ss@127.0.0.1'": the password's tail
    url = "postgresql+psycopg://u:pa@ss@127.0.0.1/test"
    monkeypatch.setenv("CNNSEARCH_STORAGE", url)
    args = [*command, "--storage", url] if given == "option" else command
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "percent-encode an '@' in the user name or password as %40" in result.output
    assert "ss@" not in result.output and "resolve host" not in result.output


def test_unreachable_database_exits_1_with_the_password_masked():
    check(
        ["studies", "--storage", "postgresql+psycopg://u:secret@127.0.0.1:1/db"],
        1,
        "cannot open storage postgresql+psycopg://u:***@127.0.0.1:1/db",
    )


@pytest.mark.services
def test_wrong_database_password_exits_1():
    try:
        import pymysql

        admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        admin.cursor().execute("CREATE USER IF NOT EXISTS 'cns_pw'@'%' IDENTIFIED BY 'right'")
    except Exception as e:
        require_or_skip(f"MariaDB on 127.0.0.1 not usable: {e}")
    result = runner.invoke(
        app, ["studies", "--storage", "mysql+pymysql://cns_pw:wrong@127.0.0.1:3306/test"]
    )
    assert result.exit_code == 1
    assert "Access denied" in result.output and "wrong" not in result.output.replace(
        "cns_pw:***", ""
    )


def test_version_and_help_examples():
    assert runner.invoke(app, ["--version"]).output.startswith("cnnsearch ")
    for name in (
        "optimize",
        "worker",
        "studies",
        "best",
        "importance",
        "sweep",
        "evaluate",
        "report",
        "dashboard",
        "spaces",
        "datasets",
        "compare",
        "storage-proxy",
        "export",
    ):
        text = runner.invoke(app, [name, "-h"]).output
        assert "Example: cnnsearch " in " ".join(text.split()), name


def test_help_keeps_every_default_it_names():
    # rich markup used to read "[default: …]" as a tag and drop it; typer puts a default given
    # in words in parentheses
    def shown(*args: str) -> str:
        return " ".join(runner.invoke(app, list(args)).output.replace("│", " ").split())

    text = shown("optimize", "--help")
    for default in (
        "[default: (DATASET-SPACE)]",
        "[default: (asha; none for 2 objectives)]",
        "[default: (the most common size, or 32)]",
        "[default: (grayscale if every image is)]",
        "[default: (20; no limit with --timeout or --deadline)]",
        "[default: tpe]",
    ):
        assert default in text, default
    assert "[default: (the best trial)]" in shown("evaluate", "-h")
    assert "[default: (DATASET-sweep-DIM)]" in shown("sweep", "-h")
