"""Dataset sources behind one registry: `load(name, **options) -> Dataset`.

Public names: `load`, `SOURCES`, `canonical_name`, `check_options`, `describe_sources`,
`class_count`, `Dataset`, `Split`, `split_validation`.
"""

from __future__ import annotations

from typing import Any

from errors import UsageError
from search.data import cifar10, digits, fashion_mnist, folder, mnist, notmnist
from search.data.dataset import Dataset, Split, split_validation

SOURCES: dict[str, Any] = {
    s.NAME: s
    for s in (digits, mnist, fashion_mnist, cifar10, notmnist.SMALL, notmnist.LARGE, folder)
}
KERAS_DOWNLOAD = "Keras downloads it into $KERAS_HOME/datasets on first use"
ALIASES = {"cifar": "cifar10", "fashion-mnist": "fashion_mnist", "fmnist": "fashion_mnist"}

__all__ = [
    "ALIASES",
    "SOURCES",
    "Dataset",
    "Split",
    "canonical_name",
    "check_options",
    "class_count",
    "describe_sources",
    "flips_keep_labels",
    "load",
    "split_validation",
]


def canonical_name(name: str) -> str:
    """The registry name for `name` (aliases resolved; folder:PATH made absolute), or a
    UsageError listing the choices."""
    if name.startswith(folder.PREFIX):
        return folder.resolve(name[len(folder.PREFIX) :])
    name = ALIASES.get(name, name)
    if name not in SOURCES or name == folder.NAME:
        raise UsageError(
            f"unknown dataset {name!r}; choose one of {', '.join(_names())} "
            f"(aliases: {', '.join(ALIASES)})"
        )
    return name


def check_options(name: str, **options: Any) -> None:
    """A UsageError when an option is set that `name`'s source does not take."""
    source = _source(canonical_name(name))
    for option, value in options.items():
        if value is not None and option not in getattr(source, "OPTIONS", ()):
            takers = [n for n in _names() if option in getattr(_source(n), "OPTIONS", ())]
            raise UsageError(
                f"--{option.replace('_', '-')} applies only to {', '.join(takers)}, "
                f"not to {name}; leave it out"
            )


def flips_keep_labels(name: str) -> bool | None:
    """Whether a horizontally flipped image of `name` keeps its label: True, False, or None
    where the source cannot know (an image folder), so flips are off unless asked for."""
    return _source(canonical_name(name)).FLIPS_KEEP_LABELS


def load(name: str, **options: Any) -> Dataset:
    """Load a dataset by name, from a local copy when one exists, downloading otherwise.

    Options (image_size, color, data_dir) go to the sources that take them; None means default.
    """
    name = canonical_name(name)
    check_options(name, **options)
    given = {k: v for k, v in options.items() if v is not None}
    if name.startswith(folder.PREFIX):
        return folder.load(name[len(folder.PREFIX) :], **given)
    return SOURCES[name].load(**given)


def class_count(name: str | None) -> int | None:
    """How many classes the source `name` declares (its CLASS_NAMES); None for a folder, whose
    subfolders decide, and for a name the registry does not know. Loads nothing."""
    source = SOURCES.get(ALIASES.get(name, name))
    names = getattr(source, "CLASS_NAMES", None)
    return len(names) if names else None


def describe_sources() -> list[dict[str, Any]]:
    """Every source, where it loads from and whether it is there now; downloads nothing."""
    rows = []
    for name in _names():
        source = _source(name)
        where = source.locate()
        rows.append(
            {
                "dataset": name,
                "description": source.DESCRIPTION,
                "location": where or getattr(source, "DOWNLOAD", KERAS_DOWNLOAD),
                "available": None if source is folder else where is not None,
                "options": list(getattr(source, "OPTIONS", ())),
            }
        )
    return rows


def _names() -> list[str]:
    return [n if n != folder.NAME else "folder:PATH" for n in SOURCES]


def _source(name: str) -> Any:
    return folder if name.startswith(folder.PREFIX) or name == "folder:PATH" else SOURCES[name]
