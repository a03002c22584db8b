import numpy as np
import pytest

from errors import RunError, UsageError
from search import data
from search.data import cifar10, fashion_mnist, mnist, split_validation
from testing import upstream_files as up


def test_digits_is_uint8_images_with_a_fixed_test_set():
    ds = data.load("digits")
    assert ds.x_train.dtype == np.uint8 and ds.input_shape == (8, 8, 1)
    assert ds.x_train.max() == 255 and ds.n_classes == 10
    assert len(ds.x_train) + len(ds.x_test) == 1797
    np.testing.assert_array_equal(data.load("digits").y_test, ds.y_test)


def test_mnist_reads_the_cached_npz(keras_home):
    up.write_mnist_npz(keras_home / "datasets" / "mnist.npz")
    ds = data.load("mnist")
    assert ds.x_train.shape == (40, 28, 28, 1) and ds.x_test.shape == (20, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8


def test_fashion_mnist_reads_idx_files_from_the_keras_cache(keras_home):
    up.write_fashion_idx(keras_home / "datasets" / "fashion-mnist")
    ds = data.load("fashion_mnist")
    assert ds.x_train.shape == (40, 28, 28, 1) and ds.class_names[9] == "Ankle boot"
    np.testing.assert_array_equal(ds.y_train[:12], np.arange(12) % 10)


def test_fashion_mnist_falls_back_to_the_system_folder(keras_home, tmp_path, monkeypatch):
    system = tmp_path / "system"
    up.write_fashion_idx(system / "fashion-mnist", n_train=30)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DATASET_DIR", system)
    assert fashion_mnist.locate() == str(system / "fashion-mnist")
    assert data.load("fashion_mnist").x_train.shape[0] == 30


def test_cifar_alias_reads_the_python_tarball_channels_last(keras_home):
    batches = up.write_cifar_tarball(keras_home / "datasets" / "cifar-10-python.tar.gz")
    ds = data.load("cifar")
    assert ds.x_train.shape == (50, 32, 32, 3) and ds.x_test.shape == (10, 32, 32, 3)
    first = batches["data_batch_1"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(ds.x_train[0], first)


def test_a_corrupt_archive_is_a_clear_run_error(keras_home):
    (keras_home / "datasets" / "cifar-10-python.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(RunError, match="cannot read CIFAR-10"):
        data.load("cifar10")


@pytest.mark.parametrize("content", [b"not a zip file", b"PK\x03\x04 truncated"])
def test_a_corrupt_mnist_npz_is_a_run_error_saying_to_delete_it(keras_home, content):
    path = keras_home / "datasets" / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(RunError, match="delete it so that it is downloaded again") as info:
        data.load("mnist")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"not a zip file", b"\x93NUMPY truncated"])
def test_a_corrupt_mnist_npz_says_what_is_wrong_not_numpys_advice(keras_home, content):
    # NumPy reads a file that is no archive as a pickle, and advises `allow_pickle=`
    (keras_home / "datasets" / "mnist.npz").write_bytes(content)
    with pytest.raises(RunError) as info:
        data.load("mnist")
    assert "it is not Keras' MNIST archive" in str(info.value)
    assert "pickle" not in str(info.value)


def test_an_npz_without_the_mnist_arrays_is_a_run_error(keras_home):
    np.savez(keras_home / "datasets" / "mnist.npz", x=np.zeros(3))
    with pytest.raises(RunError, match="cannot read MNIST"):
        data.load("mnist")


def test_failed_download_says_where_to_put_the_file(keras_home, monkeypatch):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(RunError) as info:
        mnist.load()
    assert str(keras_home / "datasets" / "mnist.npz") in str(info.value)


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(UsageError, match="choose one of digits, mnist"):
        data.load("imagenet")


def test_validation_split_is_stratified_seeded_and_subsampled():
    ds = data.load("digits")
    a = split_validation(ds, 0.2, seed=1, train_size=500)
    b = split_validation(ds, 0.2, seed=1, train_size=500)
    assert len(a.y_train) + len(a.y_val) == 500 and len(a.y_val) == 100
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert set(np.bincount(a.y_val)) <= {9, 10, 11}  # 10 per class, give or take rounding
    with pytest.raises(UsageError, match="--train-size 5000 is larger"):
        split_validation(ds, 0.2, train_size=5000)


def test_cifar_prefers_the_extracted_folder(keras_home):
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir()
    assert cifar10.locate() == str(folder)
