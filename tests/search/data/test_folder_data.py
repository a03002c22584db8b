import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from errors import RunError, UsageError
from search import data
from search.config import SearchConfig
from search.data import folder
from search.data.folder import EmptyClassWarning, SkippedFilesWarning
from testing.processes import descendants
from testing.upstream_files import write_image_folder, write_notmnist_tarball

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_grayscale_folder_of_mixed_sizes_defaults_to_the_most_common_size(tmp_path):
    root = write_image_folder(tmp_path / "gray", {"a": 12, "b": 12}, size=(28, 28))
    write_image_folder(root, {"c": 6}, size=(40, 30))
    dataset = data.load(f"folder:{root}")
    assert dataset.class_names == ("a", "b", "c")
    assert dataset.input_shape == (28, 28, 1)
    assert len(dataset.y_train) + len(dataset.y_test) == 30
    assert dataset.name == f"folder:{root.resolve()}"
    # Stratified: every class appears in the test split.
    assert set(dataset.y_test.tolist()) == {0, 1, 2}


def test_rgb_folder_defaults_to_rgb_and_options_resize_and_convert(tmp_path):
    root = write_image_folder(tmp_path / "rgb", {"x": 10}, size=(20, 20), mode="RGB", ext="jpg")
    write_image_folder(root, {"y": 10}, size=(16, 16), mode="L")
    assert data.load(f"folder:{root}").input_shape[2] == 3
    gray = data.load(f"folder:{root}", image_size=12, color="grayscale")
    assert gray.input_shape == (12, 12, 1) and gray.x_train.dtype == np.uint8


def test_unreadable_files_are_skipped_and_counted_in_one_warning(tmp_path):
    root = write_image_folder(tmp_path / "f", {"a": 5, "b": 5}, broken=3)
    (root / "b" / "notes.txt").write_text("not an image")
    with pytest.warns(SkippedFilesWarning, match="skipped 4 unreadable file") as caught:
        dataset = data.load(f"folder:{root}")
    assert len([w for w in caught if w.category is SkippedFilesWarning]) == 1
    assert len(dataset.y_train) + len(dataset.y_test) == 10


def test_decoded_folder_is_cached_and_read_again_when_a_file_changes(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "f", {"a": 5, "b": 5})
    first = data.load(f"folder:{root}")
    decode = folder.decode_folder
    calls = []
    monkeypatch.setattr(folder, "decode_folder", lambda *a: calls.append(a) or decode(*a))
    again = data.load(f"folder:{root}")
    assert calls == [] and np.array_equal(first.x_train, again.x_train)
    changed = root / "a" / "0.png"
    stat = changed.stat()
    write_image_folder(tmp_path / "other", {"a": 1}, size=(28, 28))
    changed.write_bytes((tmp_path / "other" / "a" / "0.png").read_bytes())
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    data.load(f"folder:{root}")
    assert len(calls) == 1
    data.load(f"folder:{root}", image_size=14)  # other options: another cache entry
    assert len(calls) == 2


@pytest.mark.slow
def test_large_folders_decode_in_worker_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "PARALLEL_FROM", 10)
    root = write_image_folder(tmp_path / "f", {"a": 20, "b": 20}, broken=2)
    serial = folder.decode_folder(root, folder.list_images(root)[0], 28, "grayscale")
    monkeypatch.setattr(folder, "PARALLEL_FROM", 10**9)
    parallel = folder.decode_folder(root, folder.list_images(root)[0], 28, "grayscale")
    assert np.array_equal(serial[0], parallel[0]) and serial[2] == parallel[2]
    assert len(serial[2]) == 2


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ({}, "holds no images"),
        ({"only": 4}, "only one class"),
    ],
)
def test_empty_or_single_class_folders_are_usage_errors(tmp_path, layout, fragment):
    root = tmp_path / "f"
    root.mkdir()
    write_image_folder(root, layout)
    with pytest.raises(UsageError, match=fragment):
        data.load(f"folder:{root}")


def test_a_folder_without_readable_images_is_a_usage_error(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / "f" / cls).mkdir(parents=True)
        (tmp_path / "f" / cls / "x.png").write_bytes(b"garbage")
    with pytest.raises(UsageError, match="none of its 2 files"), pytest.warns(SkippedFilesWarning):
        data.load(f"folder:{tmp_path / 'f'}")


def test_missing_folder_and_misplaced_options_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        SearchConfig(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(UsageError, match="--image-size applies only to"):
        SearchConfig("digits", image_size=16)
    with pytest.raises(UsageError, match="--color"):
        SearchConfig(f"folder:{tmp_path}", color="sepia")


def test_image_options_are_part_of_a_studys_identity(tmp_path):
    a = SearchConfig(f"folder:{tmp_path}", image_size=16)
    b = SearchConfig.from_attrs(a.to_attrs())
    assert b.image_size == 16 and not a.differences(b)
    assert a.differences(SearchConfig(f"folder:{tmp_path}", image_size=20))


def test_notmnist_tarball_in_keras_cache_is_extracted_once_and_skips_corrupt_pngs(keras_home):
    write_notmnist_tarball(
        keras_home / "datasets" / "notMNIST_small.tar.gz", "notMNIST_small", 4, 3
    )
    with pytest.warns(SkippedFilesWarning, match="notmnist: skipped 3 unreadable"):
        dataset = data.load("notmnist")
    assert dataset.class_names == tuple("ABCDEFGHIJ")
    assert dataset.input_shape == (28, 28, 1)
    assert len(dataset.y_train) + len(dataset.y_test) == 40
    assert (keras_home / "datasets" / "notMNIST_small" / "J").is_dir()
    (keras_home / "datasets" / "notMNIST_small.tar.gz").unlink()
    with pytest.warns(SkippedFilesWarning):
        assert len(data.load("notmnist").y_train) == len(dataset.y_train)


def test_notmnist_large_from_data_dir(keras_home, tmp_path):
    write_notmnist_tarball(tmp_path / "notMNIST_large.tar.gz", "notMNIST_large", 2, 0)
    dataset = data.load("notmnist_large", data_dir=str(tmp_path), image_size=14)
    assert dataset.input_shape == (14, 14, 1) and dataset.name == "notmnist_large"


def test_datasets_listing_says_what_is_here_without_downloading(keras_home):
    rows = {r["dataset"]: r for r in data.describe_sources()}
    assert rows["digits"]["available"] is True
    assert rows["notmnist"]["available"] is False
    assert "yaroslavvb.com" in rows["notmnist"]["location"]
    assert rows["folder:PATH"]["available"] is None
    write_notmnist_tarball(
        keras_home / "datasets" / "notMNIST_small.tar.gz", "notMNIST_small", 1, 0
    )
    rows = {r["dataset"]: r for r in data.describe_sources()}
    assert rows["notmnist"]["available"] is True


def test_a_folder_study_is_named_after_the_folder(tmp_path):
    (tmp_path / "letters").mkdir()
    assert SearchConfig(f"folder:{tmp_path}/letters/", space="lenet5").study == "letters-lenet5"


def test_an_empty_class_folder_is_no_class_and_a_warning_names_it(tmp_path):
    root = write_image_folder(tmp_path / "f", {"a": 5, "c": 5})
    (root / "b").mkdir()
    (root / "b" / ".hidden").write_text("not an image file either")
    with pytest.warns(EmptyClassWarning, match=r"left out 1 class folder.*: b"):
        dataset = data.load(f"folder:{root}")
    assert dataset.class_names == ("a", "c") and set(dataset.y_train.tolist()) == {0, 1}


def test_an_unwritable_cache_is_a_run_error_naming_it_before_any_decoding(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "f", {"a": 5, "b": 5})
    (tmp_path / "file").write_text("a file where the cache folder should be")
    monkeypatch.setenv("CNNSEARCH_CACHE", str(tmp_path / "file" / "cache"))
    monkeypatch.setattr(folder, "decode_folder", lambda *a: pytest.fail("decoded"))
    with pytest.raises(RunError, match="CNNSEARCH_CACHE") as info:
        data.load(f"folder:{root}")
    assert str(tmp_path / "file" / "cache") in str(info.value)


def test_a_damaged_cache_file_is_decoded_again(tmp_path, cache):
    root = write_image_folder(tmp_path / "f", {"a": 5, "b": 5})
    first = data.load(f"folder:{root}")
    for entry in cache.glob("*.npz"):
        entry.write_bytes(b"damaged")
    assert np.array_equal(data.load(f"folder:{root}").x_train, first.x_train)


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("ctrl_c", [True, False], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_while_decoding_prints_one_line_and_leaves_no_process(tmp_path, ctrl_c):
    root = write_image_folder(tmp_path / "f", {"a": 3, "b": 3})
    started = tmp_path / "started"
    loader = subprocess.Popen(
        [sys.executable, "-m", "tests.search.data.decode_forever", str(root)],
        cwd=ROOT,
        env={**os.environ, "DECODE_STARTED": str(started)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a command at a terminal has
    )
    try:
        end = time.monotonic() + 180
        while not started.exists() and loader.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        assert started.exists(), loader.communicate()[1]
        pool = descendants(loader.pid)
        if ctrl_c:  # the terminal sends SIGINT to the whole foreground process group
            os.killpg(loader.pid, signal.SIGINT)
        else:
            loader.send_signal(signal.SIGTERM)
        out, err = loader.communicate(timeout=120)
    finally:
        if loader.poll() is None:
            os.killpg(loader.pid, signal.SIGKILL)
    assert loader.returncode == 130
    assert (out + err).strip() == "interrupted", err
    end = time.monotonic() + 60
    while any(running(pid) for pid in pool) and time.monotonic() < end:
        time.sleep(0.2)
    assert pool and not [pid for pid in pool if running(pid)]


@pytest.mark.slow
def test_a_sigterm_just_after_decoding_stops_the_command_with_its_one_line(tmp_path):
    root = write_image_folder(tmp_path / "f", {"a": 3, "b": 3})
    command = [
        *("optimize", f"folder:{root}", "--trials", "1", "--epochs", "1", "--gpus", "none"),
        *("--storage", f"sqlite:///{tmp_path / 'study.db'}", "--artifacts", str(tmp_path / "a")),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "tests.search.data.term_after_decode", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 130, result.stderr
    assert "interrupted: nothing is left running" in result.stderr
    assert "Traceback" not in result.stderr
