from search import data
from search.data import digits


def test_every_built_in_source_declares_its_classes_and_a_folder_none():
    counts = {name: data.class_count(name) for name in data.SOURCES}
    assert counts.pop("folder") is None
    assert counts == dict.fromkeys(counts, 10)
    assert data.class_count("fmnist") == 10  # aliases resolve
    assert data.class_count("folder:/some/where") is None
    assert data.class_count("no-such-data") is None


def test_digits_loads_the_classes_it_declares():
    assert digits.load().class_names == digits.CLASS_NAMES
